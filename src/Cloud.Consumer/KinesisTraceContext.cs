using System.Buffers;
using System.Diagnostics;
using Cloud.Consumer.Events;
using Cloud.Records;

namespace Cloud.Consumer;

/// <summary>
/// The consumer side of trace propagation: reads the trace contexts a producer wrote into the KPL per-record tags
/// of a batch's aggregates (<see cref="KplTraceTags"/>) and starts a span that continues them. One distinct context
/// becomes the span's parent; several (a batch mixes records of many traces) become links, as OpenTelemetry's
/// messaging conventions do for batch receivers. Records without tags, non-aggregates and malformed tags are skipped:
/// tracing never fails a record.
/// </summary>
public static class KinesisTraceContext
{
    /// <summary>The distinct trace contexts carried by <paramref name="records"/>, in order of first appearance.</summary>
    public static IReadOnlyList<ActivityContext> Read(IReadOnlyList<KinesisEventRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var found = new List<ActivityContext>();
        var seen = new HashSet<(ActivityTraceId, ActivitySpanId)>();
        foreach (var record in records)
        {
            var text = record.Kinesis.Data;
            if (string.IsNullOrEmpty(text))
            {
                continue;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(text.Length * 3 / 4 + 3);
            try
            {
                if (!Convert.TryFromBase64String(text, buffer, out var length))
                {
                    continue;
                }

                foreach (var context in KplTraceTags.ReadContexts(buffer.AsSpan(0, length)))
                {
                    if (context != default && seen.Add((context.TraceId, context.SpanId)))
                    {
                        found.Add(context);
                    }
                }
            }
            catch (AggregateFormatException)
            {
                // A malformed aggregate fails its record in the processor; here it just carries no context.
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return found;
    }

    /// <summary>
    /// The distinct trace contexts carried by already decoded Kinesis record payloads (the base64 of the event undone),
    /// in order of first appearance. Malformed aggregates carry none.
    /// </summary>
    public static IReadOnlyList<ActivityContext> Read(IEnumerable<ReadOnlyMemory<byte>> payloads)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        var found = new List<ActivityContext>();
        var seen = new HashSet<(ActivityTraceId, ActivitySpanId)>();
        foreach (var payload in payloads)
        {
            try
            {
                foreach (var context in KplTraceTags.ReadContexts(payload.Span))
                {
                    if (context != default && seen.Add((context.TraceId, context.SpanId)))
                    {
                        found.Add(context);
                    }
                }
            }
            catch (AggregateFormatException)
            {
                // A malformed aggregate fails its record in the processor; here it just carries no context.
            }
        }

        return found;
    }

    /// <summary>
    /// Starts <paramref name="name"/> on <paramref name="source"/> continuing the batch's trace contexts (parent when
    /// there is one, links when there are several). Null when nobody listens (the records are then not read).
    /// </summary>
    public static Activity? StartActivity(ActivitySource source, string name, IReadOnlyList<KinesisEventRecord> records, ActivityKind kind = ActivityKind.Consumer)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!source.HasListeners())
        {
            return null;
        }

        return StartActivity(source, name, Read(records), kind);
    }

    /// <summary>Starts <paramref name="name"/> continuing <paramref name="contexts"/> (found by one of the <c>Read</c> overloads).</summary>
    public static Activity? StartActivity(ActivitySource source, string name, IReadOnlyList<ActivityContext> contexts, ActivityKind kind = ActivityKind.Consumer)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(contexts);
        return contexts.Count == 1
            ? source.StartActivity(name, kind, contexts[0])
            : source.StartActivity(name, kind, parentContext: default, links: contexts.Select(c => new ActivityLink(c)));
    }
}
