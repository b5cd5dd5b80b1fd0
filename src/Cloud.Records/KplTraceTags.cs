using System.Diagnostics;

namespace Cloud.Records;

/// <summary>
/// Carries W3C trace context (https://www.w3.org/TR/trace-context/) from producer to consumer in a KPL
/// sub-record's tags (<c>traceparent</c>, optionally <c>tracestate</c>), so one trace shows a record's path.
/// Opt-in: a producer adds the tags only when asked; KPL deaggregators that do not know them skip them.
/// Only aggregated records can carry tags (a single traced record goes out as a one-record aggregate).
/// </summary>
public static class KplTraceTags
{
    /// <summary>Tag key of the W3C <c>traceparent</c> value.</summary>
    public const string TraceParentKey = "traceparent";
    /// <summary>Tag key of the W3C <c>tracestate</c> value.</summary>
    public const string TraceStateKey = "tracestate";

    /// <summary>Tags for a W3C <c>traceparent</c> (e.g. <see cref="Activity.Id"/> of a W3C activity) and optional <c>tracestate</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="traceParent"/> is not a valid W3C traceparent.</exception>
    public static KplRecordTags Create(string traceParent, string? traceState = null)
    {
        ArgumentNullException.ThrowIfNull(traceParent);
        if (!ActivityContext.TryParse(traceParent, traceState, out _) || traceParent.Length != 55)
        {
            throw new ArgumentException(
                "traceparent must be a W3C version-00 traceparent: 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>, ids not all zero.",
                nameof(traceParent));
        }
        return string.IsNullOrEmpty(traceState)
            ? KplRecordTags.Create(new KeyValuePair<string, string?>(TraceParentKey, traceParent))
            : KplRecordTags.Create(new KeyValuePair<string, string?>(TraceParentKey, traceParent), new KeyValuePair<string, string?>(TraceStateKey, traceState));
    }

    /// <summary>Tags for <paramref name="context"/>; no tags (<c>default</c>) for an empty context.</summary>
    public static KplRecordTags Create(ActivityContext context)
    {
        if (context == default)
        {
            return default;
        }
        string traceParent = $"00-{context.TraceId.ToHexString()}-{context.SpanId.ToHexString()}-{(context.TraceFlags.HasFlag(ActivityTraceFlags.Recorded) ? "01" : "00")}";
        return Create(traceParent, context.TraceState);
    }

    /// <summary>
    /// Reads the trace context from a sub-record (<see cref="KplSubRecord.Body"/>). False when it has none or it
    /// is malformed: a bad tag never fails the record.
    /// </summary>
    public static bool TryGetContext(ReadOnlySpan<byte> recordBody, out ActivityContext context)
    {
        context = default;
        if (!KplRecordTags.TryGetValue(recordBody, TraceParentKey, out string? traceParent) || traceParent is null)
        {
            return false;
        }
        KplRecordTags.TryGetValue(recordBody, TraceStateKey, out string? traceState);
        return ActivityContext.TryParse(traceParent, traceState, isRemote: true, out context);
    }

    /// <summary>
    /// The trace context of every sub-record of a Kinesis record, in sub-sequence order (<c>default</c> where a
    /// sub-record has none); empty when <paramref name="kinesisRecord"/> is not a KPL aggregate. Read once per
    /// Kinesis record beside <see cref="KplDeaggregator"/>, whose <see cref="UserRecord"/>s share the indexes.
    /// </summary>
    /// <exception cref="AggregateFormatException">Magic and MD5 match but the aggregate is malformed.</exception>
    public static ActivityContext[] ReadContexts(ReadOnlySpan<byte> kinesisRecord)
    {
        if (!KplAggregateReader.TryCreate(kinesisRecord, out var reader))
        {
            return [];
        }
        using (reader)
        {
            var contexts = new ActivityContext[reader.RecordCount];
            while (reader.TryRead(out var sub))
            {
                TryGetContext(sub.Body, out contexts[sub.Index]);
            }
            return contexts;
        }
    }
}
