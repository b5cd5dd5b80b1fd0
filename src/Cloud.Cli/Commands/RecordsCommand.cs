using System.CommandLine;
using System.Text.Json;
using Cloud.Cli.Infrastructure;
using Cloud.Records;

namespace Cloud.Cli.Commands;

/// <summary>
/// <c>cloud records encode|decode</c> — KPL aggregation (and optional compression) of JSON lines,
/// and the reverse, for debugging and checking compatibility with other tools.
/// </summary>
public static class RecordsCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Create(CliConsole console)
    {
        var records = new Command("records", "Encode user records into KPL aggregates, or decode Kinesis records (stdin/stdout JSON lines)");

        var compress = CodecOption();
        var maxSize = new Option<int>("--max-size") { Description = "Maximum aggregate size in bytes (KPL default 51,200)", DefaultValueFactory = _ => KplFormat.DefaultMaxAggregateSize };
        var encode = new Command("encode", "Read {\"partitionKey\",\"explicitHashKey\"?,\"data\":<base64>} lines; write Kinesis records in the same shape whose data is a KPL aggregate") { compress, maxSize };
        encode.SetAction(async (parse, ct) => await EncodeAsync(console, ParseCodec(parse.GetValue(compress)!), parse.GetValue(maxSize), ct).ConfigureAwait(false));

        var decode = new Command("decode", "Read Kinesis records as JSON lines ({\"partitionKey\",\"data\":<base64>,\"sequenceNumber\"?}); write one line per user record (decompressed, deaggregated; no decryption)");
        decode.SetAction(async (parse, ct) => await DecodeAsync(console, ct).ConfigureAwait(false));

        records.Add(encode);
        records.Add(decode);
        return records;
    }

    /// <summary>The <c>--compress CODEC</c> option.</summary>
    public static Option<string> CodecOption()
    {
        var option = new Option<string>("--compress") { Description = "Compression codec: none, gzip, zstd, lz4, snappy (default none: readable by any KPL deaggregator)", DefaultValueFactory = _ => "none" };
        option.AcceptOnlyFromAmong("none", "gzip", "zstd", "lz4", "snappy");
        return option;
    }

    /// <summary>Maps a codec name to the codec.</summary>
    public static CompressionCodec ParseCodec(string name) => name switch
    {
        "gzip" => CompressionCodec.Gzip,
        "zstd" => CompressionCodec.Zstd,
        "lz4" => CompressionCodec.Lz4,
        "snappy" => CompressionCodec.Snappy,
        _ => CompressionCodec.None,
    };

    private static async Task<int> EncodeAsync(CliConsole console, CompressionCodec codec, int maxSize, CancellationToken ct)
    {
        using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = maxSize });
        var bad = 0;
        var lineNumber = 0;
        while (await console.In.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            if (!TryReadRecord(line, lineNumber, out var key, out var hashKey, out var data, out var problem))
            {
                console.WriteError(problem!);
                bad++;
                continue;
            }

            if (!builder.TryAdd(key!, hashKey, data))
            {
                if (builder.Count > 0)
                {
                    Flush(console, builder, codec);
                }

                if (!builder.TryAdd(key!, hashKey, data))
                {
                    // Too large to aggregate at all: it goes alone, as the KPL does.
                    WriteRecord(console, key!, hashKey, codec == CompressionCodec.None ? data : CompressedFrame.Encode(data, codec));
                }
            }
        }

        if (builder.Count > 0)
        {
            Flush(console, builder, codec);
        }

        return bad == 0 ? ExitCodes.Success : Fail(console, bad);
    }

    private static void Flush(CliConsole console, AggregateBuilder builder, CompressionCodec codec)
    {
        var aggregate = builder.ToArray();
        var data = codec == CompressionCodec.None ? aggregate : CompressedFrame.Encode(aggregate, codec);
        WriteRecord(console, builder.PartitionKey!, builder.ExplicitHashKey, data);
        builder.Reset();
    }

    private static void WriteRecord(CliConsole console, string key, string? hashKey, ReadOnlySpan<byte> data)
    {
        var bytes = data.ToArray();
        console.WriteJsonLine(w =>
        {
            w.WriteStartObject();
            w.WriteString("partitionKey", key);
            if (hashKey is not null)
            {
                w.WriteString("explicitHashKey", hashKey);
            }

            w.WriteBase64String("data", bytes);
            w.WriteEndObject();
        });
    }

    private static async Task<int> DecodeAsync(CliConsole console, CancellationToken ct)
    {
        var bad = 0;
        var lineNumber = 0;
        var decoded = new List<UserRecord>();
        while (await console.In.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            if (!TryReadRecord(line, lineNumber, out var key, out var hashKey, out var data, out var problem, out var sequenceNumber))
            {
                console.WriteError(problem!);
                bad++;
                continue;
            }

            decoded.Clear();
            try
            {
                RecordDecoder.Default.Decode(data, key!, sequenceNumber, hashKey, decoded);
            }
            catch (RecordFormatException ex)
            {
                console.WriteError($"line {lineNumber}: {ex.Message}");
                bad++;
                continue;
            }

            foreach (var record in decoded)
            {
                WriteUserRecord(console, record);
            }
        }

        return bad == 0 ? ExitCodes.Success : Fail(console, bad);
    }

    /// <summary>Writes one decoded user record as a JSON line.</summary>
    public static void WriteUserRecord(CliConsole console, UserRecord record, string? shardId = null, string? dataOverride = null)
    {
        console.WriteJsonLine(w =>
        {
            w.WriteStartObject();
            w.WriteString("partitionKey", record.PartitionKey);
            if (record.ExplicitHashKey is not null)
            {
                w.WriteString("explicitHashKey", record.ExplicitHashKey);
            }

            if (dataOverride is null)
            {
                w.WriteBase64String("data", record.Data.Span);
            }
            else
            {
                w.WriteString("data", dataOverride);
            }

            if (shardId is not null)
            {
                w.WriteString("shardId", shardId);
            }

            if (record.SequenceNumber is not null)
            {
                w.WriteString("sequenceNumber", record.SequenceNumber);
            }

            w.WriteNumber("subSequenceNumber", record.SubSequenceNumber);
            w.WriteEndObject();
        });
    }

    private static int Fail(CliConsole console, int bad)
    {
        console.WriteError($"{bad} input line(s) rejected; all other lines were processed.");
        return ExitCodes.InvalidInput;
    }

    private static bool TryReadRecord(string line, int lineNumber, out string? key, out string? hashKey, out byte[] data, out string? problem) =>
        TryReadRecord(line, lineNumber, out key, out hashKey, out data, out problem, out _);

    private static bool TryReadRecord(string line, int lineNumber, out string? key, out string? hashKey, out byte[] data, out string? problem, out string? sequenceNumber)
    {
        key = hashKey = problem = sequenceNumber = null;
        data = [];
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problem = $"line {lineNumber}: expected a JSON object.";
                return false;
            }

            if (!root.TryGetProperty("partitionKey", out var k) || k.ValueKind != JsonValueKind.String || k.GetString() is not { Length: >= 1 and <= 256 })
            {
                problem = $"line {lineNumber}: \"partitionKey\" must be a string of 1-256 characters.";
                return false;
            }

            key = k.GetString();
            if (root.TryGetProperty("explicitHashKey", out var h) && h.ValueKind != JsonValueKind.Null)
            {
                if (h.ValueKind != JsonValueKind.String || !PartitionKeyHash.TryParseHashKey(h.GetString(), out _))
                {
                    problem = $"line {lineNumber}: \"explicitHashKey\" must be a decimal 128-bit integer string.";
                    return false;
                }

                hashKey = h.GetString();
            }

            if (!root.TryGetProperty("data", out var d) || d.ValueKind != JsonValueKind.String || !d.TryGetBytesFromBase64(out var bytes))
            {
                problem = $"line {lineNumber}: \"data\" must be a base64 string.";
                return false;
            }

            data = bytes;
            if (root.TryGetProperty("sequenceNumber", out var s) && s.ValueKind == JsonValueKind.String)
            {
                sequenceNumber = s.GetString();
            }

            return true;
        }
        catch (JsonException ex)
        {
            problem = $"line {lineNumber}: invalid JSON: {CliMessages.Json(ex)}";
            return false;
        }
    }
}
