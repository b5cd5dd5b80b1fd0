using BenchmarkDotNet.Attributes;
using Cloud.Records;

namespace Cloud.Benchmarks.Records;

/// <summary>
/// A full PutRecords request encoded with one MD5 per aggregate (<see cref="AggregateBuilder.WriteTo(Span{byte})"/>)
/// vs trailers hashed together (<see cref="AggregateBatchEncoder"/>), and a batch of Kinesis records deaggregated with one
/// MD5 per record vs <see cref="RecordFormat.Detect(IReadOnlyList{ReadOnlyMemory{byte}}, Span{DetectedRecord})"/> first.
/// Same 200-byte records with UUID keys as <see cref="KplAggregationBenchmarks"/>. CPU-time figures vs the MD5 bound and
/// aws-kinesis-agg: the report's <c>records</c> section.
/// Run: dotnet run -c Release --project bench/Cloud.Benchmarks -- --filter '*BatchMd5Path*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class BatchMd5PathBenchmarks
{
    private string[] _keys = [];
    private byte[][] _data = [];
    private byte[] _arena = [];
    private ReadOnlyMemory<byte>[] _records = [];
    private string[] _recordKeys = [];
    private DetectedRecord[] _detected = [];
    private readonly List<UserRecord> _output = new(RecordsBenchData.RecordCount);
    private readonly AggregateBatchEncoder _encoder = new();
    private AggregateBuilder _builder = null!;

    [GlobalSetup]
    public void Setup()
    {
        (_keys, _data) = RecordsBenchData.UserRecords();
        var aggregates = RecordsBenchData.Aggregate(_keys, _data, AggregateBuilderOptions.Default);
        _arena = new byte[aggregates.Sum(a => a.Aggregate.Length)];
        _records = aggregates.Select(a => (ReadOnlyMemory<byte>)a.Aggregate).ToArray();
        _recordKeys = aggregates.Select(a => a.Key).ToArray();
        _detected = new DetectedRecord[_records.Length];
        _builder = new AggregateBuilder();
    }

    [GlobalCleanup]
    public void Cleanup() => _builder.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = RecordsBenchData.RecordCount)]
    public int EncodeOneMd5Each() => Encode(batch: false);

    [Benchmark(OperationsPerInvoke = RecordsBenchData.RecordCount)]
    public int EncodeBatchMd5() => Encode(batch: true);

    [Benchmark(OperationsPerInvoke = RecordsBenchData.RecordCount)]
    public int DeaggregateOneMd5Each()
    {
        _output.Clear();
        for (int i = 0; i < _records.Length; i++)
        {
            RecordDecoder.Default.Decode(_records[i], _recordKeys[i], "49000", null, _output);
        }
        return _output.Count;
    }

    [Benchmark(OperationsPerInvoke = RecordsBenchData.RecordCount)]
    public int DeaggregateBatchMd5()
    {
        _output.Clear();
        RecordFormat.Detect(_records, _detected);
        for (int i = 0; i < _detected.Length; i++)
        {
            RecordDecoder.Default.Decode(_detected[i], _recordKeys[i], "49000", null, _output);
        }
        return _output.Count;
    }

    private int Encode(bool batch)
    {
        var b = _builder;
        b.Reset();
        int position = 0;
        for (int i = 0; i < _keys.Length; i++)
        {
            if (!b.TryAdd(_keys[i], null, _data[i]))
            {
                position += Write();
                b.TryAdd(_keys[i], null, _data[i]);
            }
        }
        position += Write();
        _encoder.Complete();
        return position;

        int Write()
        {
            int size = b.EncodedSize;
            int written = batch ? _encoder.Write(b, _arena.AsMemory(position, size)) : b.WriteTo(_arena.AsSpan(position, size));
            b.Reset();
            return written;
        }
    }
}
