using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Cloud.Consumer.Events;

namespace Cloud.Functions.Aggregator;

/// <summary>
/// Reads a Kinesis time-window event straight from its UTF-8 bytes with <see cref="Utf8JsonReader"/>, without building
/// <see cref="KinesisEventRecord"/> objects: each record's base64 <c>data</c> is decoded in place (the bytes of the JSON
/// string become the record's bytes), so the records are slices of the one input buffer. It accepts and rejects what
/// the source-generated <see cref="KinesisEventsJsonContext"/> does (same property names, same token types, the same
/// converters for timestamps and state) and throws <see cref="JsonException"/> where deserializing would.
/// </summary>
internal static class WindowEventReader
{
    private static readonly JsonSerializerOptions Options = KinesisEventsJsonContext.Default.Options;
    private static readonly EpochSecondsConverter Epoch = new();
    private static readonly IsoUtcTimestampConverter Iso = new();
    private static readonly WindowStateConverter StateConverter = new();

    /// <summary>Parses <paramref name="buffer"/> (the whole event, which this call overwrites with decoded record data).</summary>
    /// <exception cref="JsonException">The bytes are not a Kinesis time-window event.</exception>
    public static ParsedWindowEvent Parse(byte[] buffer, int length, ParsedWindowEvent? reuse = null)
    {
        var reader = new Utf8JsonReader(buffer.AsSpan(0, length), new JsonReaderOptions { MaxDepth = Options.MaxDepth == 0 ? 64 : Options.MaxDepth });
        ParsedWindowEvent result = reuse ?? new ParsedWindowEvent();
        result.Reset(buffer);
        try
        {
            Read(ref reader);
            if (reader.TokenType == JsonTokenType.Null)
            {
                throw new JsonException("The input is the JSON literal null, not a Kinesis time-window event.");
            }

            Expect(ref reader, JsonTokenType.StartObject, "$");
            while (Next(ref reader) != JsonTokenType.EndObject)
            {
                if (reader.ValueTextEquals("Records"u8))
                {
                    Read(ref reader);
                    if (reader.TokenType == JsonTokenType.Null)
                    {
                        // JSON, but not an event the Aggregator can process: as the object path says it (WindowAggregator).
                        throw new AggregatorEventException("the event has no 'Records' array (null)");
                    }

                    Expect(ref reader, JsonTokenType.StartArray, "$.Records");
                    result.Records.Clear();
                    result.FirstEventId = null;
                    result.EscapedSequenceNumbers.Clear();
                    while (Next(ref reader) != JsonTokenType.EndArray)
                    {
                        result.Records.Add(ReadRecord(ref reader, buffer, result));
                    }
                }
                else if (reader.ValueTextEquals("window"u8))
                {
                    result.Window = ReadWindow(ref reader);
                }
                else if (reader.ValueTextEquals("state"u8))
                {
                    Read(ref reader);
                    result.State = reader.TokenType == JsonTokenType.Null ? null : StateConverter.Read(ref reader, typeof(IReadOnlyDictionary<string, string>), Options);
                }
                else if (reader.ValueTextEquals("shardId"u8))
                {
                    result.ShardId = ReadString(ref reader, "$.shardId");
                }
                else if (reader.ValueTextEquals("eventSourceARN"u8))
                {
                    ReadString(ref reader, "$.eventSourceARN");
                }
                else if (reader.ValueTextEquals("isFinalInvokeForWindow"u8))
                {
                    result.IsFinalInvokeForWindow = ReadBool(ref reader, "$.isFinalInvokeForWindow");
                }
                else if (reader.ValueTextEquals("isWindowTerminatedEarly"u8))
                {
                    ReadBool(ref reader, "$.isWindowTerminatedEarly");
                }
                else
                {
                    Read(ref reader);
                    reader.Skip();
                }
            }

            if (reader.Read())
            {
                throw new JsonException("The input has content after the event object.");
            }
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentOutOfRangeException or InvalidOperationException)
        {
            // What a converter throws besides JsonException (a number out of range): the event is not valid.
            throw new JsonException($"The event has an invalid value ({ex.GetType().Name}) at byte {reader.BytesConsumed}.", ex);
        }

        return result;
    }

    private static WindowRecord ReadRecord(ref Utf8JsonReader reader, byte[] buffer, ParsedWindowEvent result)
    {
        int index = result.Records.Count;
        if (reader.TokenType == JsonTokenType.Null)
        {
            throw new AggregatorEventException($"record {index} is null");
        }

        Expect(ref reader, JsonTokenType.StartObject, "$.Records[]");
        var record = new WindowRecord { Base64Chars = -1, EscapedSequenceNumber = -1 };
        bool sawKinesis = false;
        bool sawSequenceNumber = false;
        while (Next(ref reader) != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals("kinesis"u8))
            {
                Read(ref reader);
                if (reader.TokenType == JsonTokenType.Null)
                {
                    throw new AggregatorEventException($"record {index} has no 'kinesis' (null)");
                }

                sawKinesis = true;

                Expect(ref reader, JsonTokenType.StartObject, "$.Records[].kinesis");
                record.DataLength = 0;
                record.DataOffset = 0;
                record.Base64Chars = -1;
                record.SequenceNumberOffset = 0;
                record.SequenceNumberLength = 0;
                record.EscapedSequenceNumber = -1;
                while (Next(ref reader) != JsonTokenType.EndObject)
                {
                    if (reader.ValueTextEquals("data"u8))
                    {
                        Read(ref reader);
                        ReadData(ref reader, buffer, ref record);
                    }
                    else if (reader.ValueTextEquals("sequenceNumber"u8))
                    {
                        ReadSequenceNumber(ref reader, ref record, result);
                        sawSequenceNumber = true;
                    }
                    else if (reader.ValueTextEquals("partitionKey"u8))
                    {
                        // Not needed: the aggregation key is a field of the event. Checked as deserializing would.
                        SkipString(ref reader, "$.Records[].kinesis.partitionKey");
                    }
                    else if (reader.ValueTextEquals("kinesisSchemaVersion"u8))
                    {
                        SkipString(ref reader, "$.Records[].kinesis.kinesisSchemaVersion");
                    }
                    else if (reader.ValueTextEquals("approximateArrivalTimestamp"u8))
                    {
                        Read(ref reader);
                        // Not needed; read to reject what deserializing would reject.
                        Epoch.Read(ref reader, typeof(DateTimeOffset), Options);
                    }
                    else
                    {
                        Read(ref reader);
                        reader.Skip();
                    }
                }
            }
            else if (reader.ValueTextEquals("eventID"u8))
            {
                // Only the first record's id is used (for its shard, when the event names none).
                if (index == 0)
                {
                    result.FirstEventId = ReadString(ref reader, "$.Records[].eventID");
                }
                else
                {
                    SkipString(ref reader, "$.Records[].eventID");
                }
            }
            else if (reader.ValueTextEquals("eventSource"u8) || reader.ValueTextEquals("eventVersion"u8) || reader.ValueTextEquals("eventName"u8)
                || reader.ValueTextEquals("invokeIdentityArn"u8) || reader.ValueTextEquals("awsRegion"u8) || reader.ValueTextEquals("eventSourceARN"u8))
            {
                SkipString(ref reader, "$.Records[]");
            }
            else
            {
                Read(ref reader);
                reader.Skip();
            }
        }

        // A record that cannot even be named in a batch item failure: the event is malformed (the object path's rule).
        if (!sawKinesis)
        {
            throw new AggregatorEventException($"record {index} has no 'kinesis'");
        }

        if (!sawSequenceNumber || (record.EscapedSequenceNumber < 0 && record.SequenceNumberLength == 0))
        {
            throw new AggregatorEventException($"record {index} has no 'kinesis.sequenceNumber'");
        }

        return record;
    }

    /// <summary>Notes where the sequence number's digits are (a string only when the JSON escapes it).</summary>
    private static void ReadSequenceNumber(ref Utf8JsonReader reader, ref WindowRecord record, ParsedWindowEvent result)
    {
        int index = result.Records.Count;
        Read(ref reader);
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"Record {index}: 'sequenceNumber' must be a string but is {reader.TokenType}. Path: $.Records[{index}].kinesis.sequenceNumber");
        }

        RequireUtf8(ref reader, "$.Records[].kinesis.sequenceNumber");
        if (reader.ValueIsEscaped)
        {
            record.EscapedSequenceNumber = result.EscapedSequenceNumbers.Count;
            result.EscapedSequenceNumbers.Add(reader.GetString()!);
            return;
        }

        record.EscapedSequenceNumber = -1;
        record.SequenceNumberOffset = checked((int)reader.TokenStartIndex + 1);
        record.SequenceNumberLength = reader.ValueSpan.Length;
    }

    /// <summary>Decodes the base64 string the reader is on into the bytes it occupies; marks the record when it is not base64.</summary>
    private static void ReadData(ref Utf8JsonReader reader, byte[] buffer, ref WindowRecord record)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            (record.DataOffset, record.DataLength, record.Base64Chars) = (0, 0, -1);
            return;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"'data' must be a string but is {reader.TokenType}. Path: $.Records[].kinesis.data");
        }

        RequireUtf8(ref reader, "$.Records[].kinesis.data");
        // The value's bytes lie in the buffer at TokenStartIndex + 1 (after the quote); the reader has moved past them.
        int start = checked((int)reader.TokenStartIndex + 1);
        int encodedLength = reader.ValueSpan.Length;
        Span<byte> value = buffer.AsSpan(start, encodedLength);
        if (reader.ValueIsEscaped)
        {
            // Rare (a producer escaping '/' as "\/"): unescape through a copy, then decode the unescaped bytes in place.
            byte[] copy = ArrayPool<byte>.Shared.Rent(encodedLength);
            try
            {
                int unescaped = reader.CopyString(copy);
                copy.AsSpan(0, unescaped).CopyTo(value);
                value = value[..unescaped];
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        }

        record.DataOffset = start;
        if (Base64.DecodeFromUtf8InPlace(value, out int written) == OperationStatus.Done)
        {
            (record.DataLength, record.Base64Chars) = (written, -1);
            return;
        }

        // Convert.TryFromBase64String (what the record reader used) also skips whitespace: decide with it, so the two
        // paths accept exactly the same strings. When it fails, DecodeFromUtf8InPlace may already have rewritten the bytes
        // (whitespace squeezed out): the accept/refuse decision is unchanged, but a refused string's character count in
        // the error can be lower than the object path's (seen: 10 vs 11 for "not base64!").
        string text = Encoding.UTF8.GetString(value);
        byte[] decoded = ArrayPool<byte>.Shared.Rent((text.Length / 4 * 3) + 3);
        try
        {
            if (Convert.TryFromBase64String(text, decoded, out int length))
            {
                decoded.AsSpan(0, length).CopyTo(value);
                (record.DataLength, record.Base64Chars) = (length, -1);
            }
            else
            {
                (record.DataLength, record.Base64Chars) = (0, text.Length);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(decoded);
        }
    }

    private static TimeWindow? ReadWindow(ref Utf8JsonReader reader)
    {
        Read(ref reader);
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        Expect(ref reader, JsonTokenType.StartObject, "$.window");
        DateTimeOffset start = default, end = default;
        while (Next(ref reader) != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals("start"u8))
            {
                Read(ref reader);
                start = Iso.Read(ref reader, typeof(DateTimeOffset), Options);
            }
            else if (reader.ValueTextEquals("end"u8))
            {
                Read(ref reader);
                end = Iso.Read(ref reader, typeof(DateTimeOffset), Options);
            }
            else
            {
                Read(ref reader);
                reader.Skip();
            }
        }

        return new TimeWindow { Start = start, End = end };
    }

    private static string? ReadString(ref Utf8JsonReader reader, string path)
    {
        Read(ref reader);
        return reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Null => null,
            _ => throw new JsonException($"Expected a string but found {reader.TokenType}. Path: {path}"),
        };
    }

    private static void SkipString(ref Utf8JsonReader reader, string path)
    {
        Read(ref reader);
        if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
        {
            throw new JsonException($"Expected a string but found {reader.TokenType}. Path: {path}");
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            RequireUtf8(ref reader, path);
        }
    }

    /// <summary>
    /// A string value kept as bytes or skipped is still checked as deserializing checks it (the transcoding to UTF-16
    /// rejects bytes that are not UTF-8): the same events are refused on both paths.
    /// </summary>
    private static void RequireUtf8(ref Utf8JsonReader reader, string path)
    {
        if (!reader.ValueIsEscaped && !System.Text.Unicode.Utf8.IsValid(reader.ValueSpan))
        {
            throw new JsonException($"A string holds bytes that are not UTF-8. Path: {path}");
        }
    }

    private static bool ReadBool(ref Utf8JsonReader reader, string path)
    {
        Read(ref reader);
        return reader.TokenType switch
        {
            JsonTokenType.True => true,
            JsonTokenType.False => false,
            _ => throw new JsonException($"Expected true or false but found {reader.TokenType}. Path: {path}"),
        };
    }

    /// <summary>Moves to the next property name (or the end of the object/array).</summary>
    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        Read(ref reader);
        return reader.TokenType;
    }

    private static void Read(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("The event JSON ends early.");
        }
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string path)
    {
        if (reader.TokenType != type)
        {
            throw new JsonException($"Expected {type} but found {reader.TokenType}. Path: {path}");
        }
    }
}

/// <summary>A Kinesis time-window event as <see cref="WindowEventReader"/> reads it: records are slices of one buffer.</summary>
internal sealed class ParsedWindowEvent
{
    /// <summary>The event's bytes, record data decoded in place.</summary>
    public byte[] Buffer { get; private set; } = [];

    public List<WindowRecord> Records { get; } = [];

    public TimeWindow? Window { get; set; }

    public IReadOnlyDictionary<string, string>? State { get; set; }

    public string? ShardId { get; set; }

    public bool IsFinalInvokeForWindow { get; set; }

    /// <summary>The first record's event id (the shard is taken from it when the event names none).</summary>
    public string? FirstEventId { get; set; }

    /// <summary>Sequence numbers the JSON escaped (never in practice), by <see cref="WindowRecord.EscapedSequenceNumber"/>.</summary>
    public List<string> EscapedSequenceNumbers { get; } = [];

    /// <summary>Empties the event for reuse over <paramref name="buffer"/> (the record list keeps its capacity).</summary>
    public void Reset(byte[] buffer)
    {
        Buffer = buffer;
        Records.Clear();
        Window = null;
        State = null;
        ShardId = null;
        IsFinalInvokeForWindow = false;
        FirstEventId = null;
        EscapedSequenceNumbers.Clear();
    }

    /// <summary>The UTF-8 digits of record <paramref name="index"/>'s sequence number (empty when escaped or absent).</summary>
    public ReadOnlySpan<byte> SequenceNumberUtf8(int index)
    {
        WindowRecord r = Records[index];
        return Buffer.AsSpan(r.SequenceNumberOffset, r.SequenceNumberLength);
    }

    /// <summary>Record <paramref name="index"/>'s sequence number as a string.</summary>
    public string SequenceNumber(int index) =>
        Records[index].EscapedSequenceNumber >= 0 ? EscapedSequenceNumbers[Records[index].EscapedSequenceNumber] : System.Text.Encoding.UTF8.GetString(SequenceNumberUtf8(index));
}

/// <summary>One record of a <see cref="ParsedWindowEvent"/>: offsets only, so the list holds no reference for the GC to trace.</summary>
internal struct WindowRecord
{
    /// <summary>Where the sequence number's bytes are in the buffer (when <see cref="EscapedSequenceNumber"/> is -1).</summary>
    public int SequenceNumberOffset;
    public int SequenceNumberLength;

    /// <summary>Index in <see cref="ParsedWindowEvent.EscapedSequenceNumbers"/> when the JSON escaped it, else -1.</summary>
    public int EscapedSequenceNumber;
    public int DataOffset;
    public int DataLength;

    /// <summary>-1 when <c>data</c> decoded; else its length in characters (it is not base64).</summary>
    public int Base64Chars;
}
