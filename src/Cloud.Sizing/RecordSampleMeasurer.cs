using System.Globalization;
using System.Text;
using System.Text.Json;
using Cloud.Records;

namespace Cloud.Sizing;

/// <summary>Where compression is applied when records are both aggregated and compressed.</summary>
public enum CompressionPlacement
{
    /// <summary>Compress each finished aggregate (one frame per Kinesis record).</summary>
    WholeAggregate,

    /// <summary>Compress each user record before it is aggregated.</summary>
    EachRecord,
}

/// <summary>How <see cref="RecordSampleMeasurer"/> encodes the sample.</summary>
public sealed record RecordSampleOptions
{
    /// <summary>KPL-aggregate user records. <value>The default value is true.</value></summary>
    public bool Aggregate { get; init; } = true;

    /// <summary>Largest aggregate in bytes (the KPL's AggregationMaxSize). <value>The default value is 51,200.</value></summary>
    public int MaxAggregateBytes { get; init; } = 51_200;

    /// <summary>Compression codec. <value>The default value is <see cref="CompressionCodec.None"/>.</value></summary>
    public CompressionCodec Codec { get; init; } = CompressionCodec.None;

    /// <summary>Where compression is applied. <value>The default value is <see cref="CompressionPlacement.WholeAggregate"/>.</value></summary>
    public CompressionPlacement Placement { get; init; } = CompressionPlacement.WholeAggregate;

    /// <summary>Top-level JSON field whose value is the partition key (e.g. "userId"); when absent or null, each record
    /// gets a unique 36-character key (the length of a UUID, as the KPL samples use). <value>The default value is null.</value></summary>
    public string? PartitionKeyField { get; init; }

    /// <summary>Most records read from the sample. <value>The default value is 1,000,000.</value></summary>
    public int MaxRecords { get; init; } = 1_000_000;
}

/// <summary>
/// Measures the aggregation and compression ratios a sample of real records (JSON lines, one record per line) gets
/// from this repository's encoder (<see cref="AggregateBuilder"/> + <see cref="CompressedFrame"/>), for
/// <see cref="WorkloadProfile.WithMeasurement"/>.
/// The aggregation ratio assumes aggregates fill up: with few records per shard per linger period they will not.
/// </summary>
public static class RecordSampleMeasurer
{
    /// <summary>Measures the JSON-lines file at <paramref name="path"/>.</summary>
    /// <exception cref="SizingValidationException">The file is missing, empty, or has a line that is not a JSON object.</exception>
    public static async Task<RecordSampleMeasurement> MeasureFileAsync(string path, RecordSampleOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new SizingValidationException([new SizingProblem("sample", $"file '{path}' does not exist.")]);
        }

        var stream = File.OpenRead(path);
        await using (stream.ConfigureAwait(false))
        {
            return await MeasureAsync(stream, options, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Measures JSON lines read from <paramref name="jsonLines"/> (UTF-8).</summary>
    /// <exception cref="SizingValidationException">The sample is empty or has a line that is not a JSON object.</exception>
    public static async Task<RecordSampleMeasurement> MeasureAsync(Stream jsonLines, RecordSampleOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(jsonLines);
        var o = options ?? new RecordSampleOptions();
        Validate(o);

        using var reader = new StreamReader(jsonLines, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024, leaveOpen: true);
        using var encoder = new SampleEncoder(o);
        var lineNumber = 0;
        while (encoder.UserRecords < o.MaxRecords && await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var data = Encoding.UTF8.GetBytes(line);
            encoder.Add(PartitionKey(data, o.PartitionKeyField, lineNumber), data);
        }

        var result = encoder.Finish();
        if (result.UserRecords == 0)
        {
            throw new SizingValidationException([new SizingProblem("sample", "holds no records (expected one JSON object per line).")]);
        }

        return result;
    }

    private static void Validate(RecordSampleOptions o)
    {
        var p = new ProblemList();
        if (o.MaxAggregateBytes is < 1024 or > 1024 * 1024)
        {
            p.Add(nameof(RecordSampleOptions.MaxAggregateBytes), $"must be between 1024 and 1048576 bytes, got {o.MaxAggregateBytes}.");
        }

        if (!Enum.IsDefined(o.Codec))
        {
            p.Add(nameof(RecordSampleOptions.Codec), $"is not a known codec: {(int)o.Codec}.");
        }

        if (!Enum.IsDefined(o.Placement))
        {
            p.Add(nameof(RecordSampleOptions.Placement), $"is not a known placement: {(int)o.Placement}.");
        }

        if (o.MaxRecords < 1)
        {
            p.Add(nameof(RecordSampleOptions.MaxRecords), $"must be at least 1, got {o.MaxRecords}.");
        }

        if (o.PartitionKeyField is { Length: 0 })
        {
            p.Add(nameof(RecordSampleOptions.PartitionKeyField), "must not be empty (leave it null for generated keys).");
        }

        p.ThrowIfAny();
    }

    /// <summary>The parser's reason with a column, without its "LineNumber: 0 | BytePositionInLine: n." suffix (one line is parsed at a time).</summary>
    private static string JsonReason(JsonException ex)
    {
        string reason = ex.Message;
        int cut = reason.IndexOf(" Path: ", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = reason.IndexOf(" LineNumber: ", StringComparison.Ordinal);
        }

        if (cut >= 0)
        {
            reason = reason[..cut];
        }

        return ex.BytePositionInLine is { } position
            ? string.Create(CultureInfo.InvariantCulture, $"{reason} (column {position + 1})")
            : reason;
    }

    private static string PartitionKey(byte[] line, string? field, int lineNumber)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException ex)
        {
            throw new SizingValidationException([new SizingProblem($"sample line {lineNumber}", $"is not valid JSON: {JsonReason(ex)}")]);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new SizingValidationException([new SizingProblem($"sample line {lineNumber}", $"must be a JSON object, got {doc.RootElement.ValueKind}.")]);
            }

            if (field is not null && doc.RootElement.TryGetProperty(field, out var v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
            {
                var key = v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();
                if (key.Length is >= 1 and <= 256)
                {
                    return key;
                }

                throw new SizingValidationException([new SizingProblem($"sample line {lineNumber}", $"field '{field}' gives a partition key of {key.Length} characters; Kinesis allows 1–256.")]);
            }
        }

        return new Guid(lineNumber, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0).ToString("D", CultureInfo.InvariantCulture);
    }

    /// <summary>Encodes records the way the producer would and counts what reaches Kinesis.</summary>
    private sealed class SampleEncoder : IDisposable
    {
        private readonly RecordSampleOptions _o;
        private readonly AggregateBuilder? _builder;
        private byte[] _scratch = new byte[64 * 1024];

        public SampleEncoder(RecordSampleOptions o)
        {
            _o = o;
            _builder = o.Aggregate ? new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = o.MaxAggregateBytes }) : null;
        }

        public long UserRecords { get; private set; }

        private long UserBytes { get; set; }

        private long KinesisRecords { get; set; }

        private long KinesisBytes { get; set; }

        public void Add(string partitionKey, byte[] data)
        {
            UserRecords++;
            var keyBytes = Encoding.UTF8.GetByteCount(partitionKey);
            UserBytes += data.Length + keyBytes;

            ReadOnlySpan<byte> payload = data;
            if (_o.Codec != CompressionCodec.None && (_builder is null || _o.Placement == CompressionPlacement.EachRecord))
            {
                payload = Compress(data).ToArray();
            }

            if (_builder is null)
            {
                Emit(payload.Length, keyBytes);
                return;
            }

            if (_builder.TryAdd(partitionKey, null, payload))
            {
                return;
            }

            Flush();
            if (!_builder.TryAdd(partitionKey, null, payload))
            {
                // Too large for any aggregate: it travels alone, as the producer sends it.
                Emit(payload.Length, keyBytes);
            }
        }

        public RecordSampleMeasurement Finish()
        {
            Flush();
            return new RecordSampleMeasurement(UserRecords, UserBytes, KinesisRecords, KinesisBytes);
        }

        public void Dispose() => _builder?.Dispose();

        private void Flush()
        {
            if (_builder is null || _builder.Count == 0)
            {
                return;
            }

            var keyBytes = Encoding.UTF8.GetByteCount(_builder.PartitionKey!);
            var size = _builder.EncodedSize;
            if (_o.Codec != CompressionCodec.None && _o.Placement == CompressionPlacement.WholeAggregate)
            {
                var aggregate = new byte[size];
                _builder.WriteTo(aggregate);
                size = Compress(aggregate).Length;
            }

            Emit(size, keyBytes);
            _builder.Reset();
        }

        private ReadOnlySpan<byte> Compress(ReadOnlySpan<byte> source)
        {
            var max = CompressedFrame.GetMaxEncodedLength(source.Length, _o.Codec);
            if (_scratch.Length < max)
            {
                _scratch = new byte[max];
            }

            var n = CompressedFrame.Encode(source, _o.Codec, _scratch);
            return _scratch.AsSpan(0, n);
        }

        private void Emit(int dataBytes, int keyBytes)
        {
            KinesisRecords++;
            KinesisBytes += dataBytes + keyBytes;
        }
    }
}
