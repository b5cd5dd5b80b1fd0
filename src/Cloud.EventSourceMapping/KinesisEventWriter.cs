using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Cloud.EventSourceMapping;

/// <summary>Where a batch comes from: the values every record of a Lambda Kinesis event repeats.</summary>
/// <param name="StreamArn">eventSourceARN.</param>
/// <param name="ShardId">Shard of every record (eventID prefix).</param>
/// <param name="Region">awsRegion.</param>
/// <param name="InvokeIdentityArn">invokeIdentityArn.</param>
public sealed record EventSource(string StreamArn, string ShardId, string Region, string InvokeIdentityArn);

/// <summary>The tumbling-window part of an event: window bounds, carried state and the final/early flags.</summary>
/// <param name="Start">Window start (inclusive).</param>
/// <param name="End">Window end (exclusive).</param>
/// <param name="StateJson">The state object as JSON text (<c>{}</c> when empty).</param>
/// <param name="IsFinalInvokeForWindow">Whether this invoke closes the window.</param>
/// <param name="IsWindowTerminatedEarly">Whether the window closes early because its state passed 1 MB.</param>
public sealed record WindowContext(DateTimeOffset Start, DateTimeOffset End, string StateJson, bool IsFinalInvokeForWindow, bool IsWindowTerminatedEarly);

/// <summary>
/// Writes the Lambda Kinesis event (and its tumbling-window form) exactly as Lambda sends it:
/// https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html and services-kinesis-windows.html.
/// </summary>
public static class KinesisEventWriter
{
    /// <summary>Bytes of event JSON around one record besides its data and keys (field names, ARNs, ids).</summary>
    internal const int PerRecordOverhead = 420;

    /// <summary>Writes the event for <paramref name="records"/> of one shard.</summary>
    public static void Write(IBufferWriter<byte> output, EventSource source, IReadOnlyList<StreamRecord> records, WindowContext? window = null)
    {
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        writer.WriteStartArray("Records");
        foreach (var record in records)
        {
            WriteRecord(writer, source, record);
        }
        writer.WriteEndArray();
        if (window is not null)
        {
            writer.WriteStartObject("window");
            writer.WriteString("start", FormatWindowTime(window.Start));
            writer.WriteString("end", FormatWindowTime(window.End));
            writer.WriteEndObject();
            writer.WritePropertyName("state");
            writer.WriteRawValue(window.StateJson, skipInputValidation: true);
            writer.WriteString("shardId", source.ShardId);
            writer.WriteString("eventSourceARN", source.StreamArn);
            writer.WriteBoolean("isFinalInvokeForWindow", window.IsFinalInvokeForWindow);
            writer.WriteBoolean("isWindowTerminatedEarly", window.IsWindowTerminatedEarly);
        }
        writer.WriteEndObject();
        writer.Flush();
    }

    /// <summary>Writes the event into a new byte array.</summary>
    public static byte[] ToUtf8Bytes(EventSource source, IReadOnlyList<StreamRecord> records, WindowContext? window = null)
    {
        var buffer = new ArrayBufferWriter<byte>(1024 + (records.Count * 512));
        Write(buffer, source, records, window);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Estimated size of a record in the event, for the 6 MB payload limit.</summary>
    internal static long EstimateSize(StreamRecord record) =>
        (((long)record.Data.Length + 2) / 3 * 4) + (record.PartitionKey.Length * 6L) + (record.SequenceNumber.Length * 2L) + PerRecordOverhead;

    /// <summary>approximateArrivalTimestamp: epoch seconds with millisecond fraction, as Lambda writes it (e.g. 1545084650.987).</summary>
    public static decimal ToEpochSeconds(DateTimeOffset time) => time.ToUnixTimeMilliseconds() / 1000m;

    /// <summary>Window bounds are written to the second in UTC, e.g. 2020-12-09T07:04:00Z.</summary>
    public static string FormatWindowTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static void WriteRecord(Utf8JsonWriter writer, EventSource source, StreamRecord record)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("kinesis");
        writer.WriteString("kinesisSchemaVersion", "1.0");
        writer.WriteString("partitionKey", record.PartitionKey);
        writer.WriteString("sequenceNumber", record.SequenceNumber);
        writer.WriteBase64String("data", record.Data.Span);
        writer.WriteNumber("approximateArrivalTimestamp", ToEpochSeconds(record.ApproximateArrivalTimestamp));
        writer.WriteEndObject();
        writer.WriteString("eventSource", "aws:kinesis");
        writer.WriteString("eventVersion", "1.0");
        writer.WriteString("eventID", source.ShardId + ":" + record.SequenceNumber);
        writer.WriteString("eventName", "aws:kinesis:record");
        writer.WriteString("invokeIdentityArn", source.InvokeIdentityArn);
        writer.WriteString("awsRegion", source.Region);
        writer.WriteString("eventSourceARN", source.StreamArn);
        writer.WriteEndObject();
    }
}
