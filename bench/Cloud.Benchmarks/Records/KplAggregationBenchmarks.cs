using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Cloud.Records;

namespace Cloud.Benchmarks.Records;

/// <summary>
/// KPL aggregate encode and decode of 200-byte user records with UUID partition keys, per record (one core).
/// Md5Bound hashes the same aggregate bytes: the format's physical limit.
/// Run: dotnet run -c Release --project bench/Cloud.Benchmarks -- --filter '*KplAggregation*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class KplAggregationBenchmarks
{
    private const int Ops = RecordsBenchData.RecordCount;
    private string[] _keys = [];
    private byte[][] _data = [];
    private List<(string Key, byte[] Aggregate, int Count)> _aggregates = [];
    private string[] _base64 = [];
    private AggregateBuilder _builder = null!;
    private readonly byte[] _output = new byte[KplFormat.DefaultMaxAggregateSize];
    private readonly byte[] _scratch = new byte[KplFormat.DefaultMaxAggregateSize];
    private readonly List<UserRecord> _records = new(1_000);

    [GlobalSetup]
    public void Setup()
    {
        (_keys, _data) = RecordsBenchData.UserRecords();
        _aggregates = RecordsBenchData.Aggregate(_keys, _data, AggregateBuilderOptions.Default);
        _base64 = _aggregates.Select(a => Convert.ToBase64String(a.Aggregate)).ToArray();
        _builder = new AggregateBuilder();
    }

    /// <summary>Before the encode benchmark, run aws-kinesis-agg on the same records (printed in the log).</summary>
    [GlobalSetup(Target = nameof(AggregateAndEncode))]
    public void SetupWithPeer()
    {
        Setup();
        KinesisAggPeer.RunAndPrint(_keys, _data);
    }

    /// <summary>Before the MD5 baseline, print CPU-time figures (comparable with openssl speed on a loaded machine).</summary>
    [GlobalSetup(Target = nameof(Md5Bound))]
    public void SetupWithCpuTime()
    {
        Setup();
        double md5 = CpuTimeProbe.BestNsPerOp(() => Md5Bound(), Ops);
        double encode = CpuTimeProbe.BestNsPerOp(() => AggregateAndEncode(), Ops);
        double deaggregate = CpuTimeProbe.BestNsPerOp(() => Deaggregate(), Ops);
        double zeroCopy = CpuTimeProbe.BestNsPerOp(() => DeaggregateZeroCopy(), Ops);
        long protobufBytes = _aggregates.Sum(a => (long)a.Aggregate.Length - KplFormat.Overhead);
        Console.WriteLine($"// CPU time per user record (thread CPU clock, best of 20): md5 {md5:F0} ns ({protobufBytes / (md5 * Ops) * 1000:F0} MB/s), " +
            $"encode {encode:F0} ns ({1e9 / encode:N0}/s, {md5 / encode:P0} of MD5 bound), deaggregate {deaggregate:F0} ns ({1e9 / deaggregate:N0}/s, {md5 / deaggregate:P0}), " +
            $"zero-copy {zeroCopy:F0} ns ({1e9 / zeroCopy:N0}/s, {md5 / zeroCopy:P0})");
    }

    [GlobalCleanup]
    public void Cleanup() => _builder.Dispose();

    /// <summary>Add every record to a reused builder, writing (magic + protobuf + MD5) each full aggregate.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public int AggregateAndEncode()
    {
        var builder = _builder;
        builder.Reset();
        int written = 0;
        var keys = _keys;
        var data = _data;
        for (int i = 0; i < keys.Length; i++)
        {
            if (!builder.TryAdd(keys[i], null, data[i]))
            {
                written += builder.WriteTo(_output);
                builder.Reset();
                builder.TryAdd(keys[i], null, data[i]);
            }
        }
        return written + builder.WriteTo(_output);
    }

    /// <summary>Verify MD5 and split every aggregate into user records (strings for keys, zero-copy data slices).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public int Deaggregate()
    {
        int n = 0;
        foreach (var (key, aggregate, _) in _aggregates)
        {
            _records.Clear();
            n += KplDeaggregator.Deaggregate(aggregate, key, "49590338271490256608559692538361571095921575989136588898", null, _records);
        }
        return n;
    }

    /// <summary>Same as <see cref="Deaggregate"/> starting from base64 text, as a Lambda event delivers it (and as aws-kinesis-agg's API takes it).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public int DeaggregateFromBase64()
    {
        int n = 0;
        for (int i = 0; i < _base64.Length; i++)
        {
            Convert.TryFromBase64String(_base64[i], _scratch, out int len);
            _records.Clear();
            n += KplDeaggregator.Deaggregate(_scratch.AsMemory(0, len), _aggregates[i].Key, "49590338271490256608559692538361571095921575989136588898", null, _records);
        }
        return n;
    }

    /// <summary>Zero-copy reader: MD5 check and protobuf walk, no strings.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public long DeaggregateZeroCopy()
    {
        long sum = 0;
        foreach (var (_, aggregate, _) in _aggregates)
        {
            if (KplAggregateReader.TryCreate(aggregate, out var reader))
            {
                using (reader)
                {
                    while (reader.TryRead(out var sub))
                    {
                        sum += sub.Data.Length + reader.GetPartitionKeyUtf8(sub.PartitionKeyIndex).Length;
                    }
                }
            }
        }
        return sum;
    }

    /// <summary>MD5 of the same protobuf bytes: the bound every KPL encoder and verifying decoder pays.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public int Md5Bound()
    {
        Span<byte> digest = stackalloc byte[16];
        int n = 0;
        foreach (var (_, aggregate, _) in _aggregates)
        {
#pragma warning disable CA5351 // the KPL format's trailer is MD5
            MD5.HashData(aggregate.AsSpan(4, aggregate.Length - 20), digest);
#pragma warning restore CA5351
            n += digest[0];
        }
        return n;
    }
}
