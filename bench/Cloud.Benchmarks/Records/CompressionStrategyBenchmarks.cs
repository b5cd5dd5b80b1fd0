using System.IO.Compression;
using BenchmarkDotNet.Attributes;
using Cloud.Records;

namespace Cloud.Benchmarks.Records;

/// <summary>
/// Whole-aggregate compression (one frame around a KPL aggregate) versus per-record compression (one frame per user
/// record, aggregated), on realistic clickstream JSON events; encode includes aggregation, decode uses RecordDecoder.
/// Sizes and PUT payload units are printed before the first benchmark.
/// Run: dotnet run -c Release --project bench/Cloud.Benchmarks -- --filter '*CompressionStrategy*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class CompressionStrategyBenchmarks
{
    private const int EventCount = 10_000;
    private List<(string Key, byte[] Json)> _events = [];
    private List<(string Key, byte[] Data)> _whole = [];
    private List<(string Key, byte[] Data)> _perRecord = [];
    private readonly byte[] _aggregate = new byte[KplFormat.DefaultMaxAggregateSize];
    private byte[] _frame = [];
    private AggregateBuilder _builder = null!;
    private readonly List<UserRecord> _decoded = new(1_000);

    [Params(CompressionCodec.Gzip, CompressionCodec.Zstd, CompressionCodec.Lz4, CompressionCodec.Snappy)]
    public CompressionCodec Codec { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _events = RecordsBenchData.JsonEvents(EventCount).Select(e => (e.Key, e.Json)).ToList();
        _builder = new AggregateBuilder();
        _frame = new byte[Enum.GetValues<CompressionCodec>().Max(c => CompressedFrame.GetMaxEncodedLength(KplFormat.DefaultMaxAggregateSize, c))];
        _whole = EncodeWhole(collect: true);
        _perRecord = EncodePerRecord(collect: true);
        long raw = _events.Sum(e => (long)e.Json.Length + e.Key.Length);
        Console.WriteLine($"// {Codec}: {EventCount} events, {raw:N0} bytes (data + keys); " +
            $"whole-aggregate {Bytes(_whole):N0} bytes in {_whole.Count} records, {Units(_whole)} PUT units ({(double)Bytes(_whole) / raw:P1}); " +
            $"per-record {Bytes(_perRecord):N0} bytes in {_perRecord.Count} records, {Units(_perRecord)} PUT units ({(double)Bytes(_perRecord) / raw:P1}); " +
            $"uncompressed aggregates {Units(EncodeUncompressed())} PUT units");
    }

    [GlobalCleanup]
    public void Cleanup() => _builder.Dispose();

    [Benchmark(OperationsPerInvoke = EventCount)]
    public int EncodeWholeAggregate() => EncodeWhole(collect: false).Count;

    [Benchmark(OperationsPerInvoke = EventCount)]
    public int EncodePerRecordFrames() => EncodePerRecord(collect: false).Count;

    [Benchmark(OperationsPerInvoke = EventCount)]
    public int DecodeWholeAggregate() => Decode(_whole);

    [Benchmark(OperationsPerInvoke = EventCount)]
    public int DecodePerRecordFrames() => Decode(_perRecord);

    private int Decode(List<(string Key, byte[] Data)> records)
    {
        int n = 0;
        foreach (var (key, data) in records)
        {
            _decoded.Clear();
            n += RecordDecoder.Default.Decode(data, key, "1", null, _decoded);
        }
        return n;
    }

    private List<(string, byte[])> EncodeWhole(bool collect)
    {
        var output = new List<(string, byte[])>();
        var b = _builder;
        b.Reset();
        void Flush()
        {
            int n = b.WriteTo(_aggregate);
            int f = CompressedFrame.Encode(_aggregate.AsSpan(0, n), Codec, _frame, CompressionLevel.Optimal);
            if (collect)
            {
                output.Add((b.PartitionKey!, _frame.AsSpan(0, f).ToArray()));
            }
            b.Reset();
        }
        foreach (var (key, json) in _events)
        {
            if (!b.TryAdd(key, null, json))
            {
                Flush();
                b.TryAdd(key, null, json);
            }
        }
        Flush();
        return output;
    }

    private List<(string, byte[])> EncodePerRecord(bool collect)
    {
        var output = new List<(string, byte[])>();
        var b = _builder;
        b.Reset();
        foreach (var (key, json) in _events)
        {
            int f = CompressedFrame.Encode(json, Codec, _frame, CompressionLevel.Optimal);
            if (!b.TryAdd(key, null, _frame.AsSpan(0, f)))
            {
                int n = b.WriteTo(_aggregate);
                if (collect)
                {
                    output.Add((b.PartitionKey!, _aggregate.AsSpan(0, n).ToArray()));
                }
                b.Reset();
                b.TryAdd(key, null, _frame.AsSpan(0, f));
            }
        }
        int last = b.WriteTo(_aggregate);
        if (collect)
        {
            output.Add((b.PartitionKey!, _aggregate.AsSpan(0, last).ToArray()));
        }
        return output;
    }

    private List<(string, byte[])> EncodeUncompressed() =>
        RecordsBenchData.Aggregate(_events.Select(e => e.Key).ToArray(), _events.Select(e => e.Json).ToArray(), AggregateBuilderOptions.Default)
            .Select(a => (a.Key, a.Aggregate)).ToList();

    private static long Bytes(List<(string Key, byte[] Data)> records) => records.Sum(r => (long)r.Data.Length + r.Key.Length);

    private static long Units(List<(string Key, byte[] Data)> records) =>
        records.Sum(r => (r.Data.Length + (long)r.Key.Length + KplFormat.PutPayloadUnitSize - 1) / KplFormat.PutPayloadUnitSize);
}
