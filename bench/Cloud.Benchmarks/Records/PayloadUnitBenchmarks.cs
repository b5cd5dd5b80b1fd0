using BenchmarkDotNet.Attributes;
using Cloud.Records;

namespace Cloud.Benchmarks.Records;

/// <summary>
/// PUT payload units (25 KB) used per MB of user data, KPL sizing versus FillPayloadUnits, against the lower bound
/// ceil(user bytes / 25,600) where user bytes = data + partition keys, as Kinesis counts them. Printed in setup;
/// the benchmark times encoding in FillPayloadUnits mode.
/// Run: dotnet run -c Release --project bench/Cloud.Benchmarks -- --filter '*PayloadUnit*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class PayloadUnitBenchmarks
{
    private string[] _keys = [];
    private byte[][] _data = [];
    private readonly byte[] _output = new byte[1024 * 1024];
    private AggregateBuilder _builder = null!;

    [GlobalSetup]
    public void Setup()
    {
        (_keys, _data) = RecordsBenchData.UserRecords();
        _builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = KplFormat.DefaultMaxAggregateSize, FillPayloadUnits = true });
        var random = new Random(5);
        var scenarios = new (string Name, string[] Keys, byte[][] Data)[]
        {
            ("200 B, UUID keys", _keys, _data),
            ("200 B, 100 distinct keys", _keys.Select((_, i) => "user-" + (i % 100)).ToArray(), _data),
            ("1 KB, UUID keys", _keys, _data.Select(_ => new byte[1024]).ToArray()),
            ("100 B-5 KB, UUID keys", _keys, _data.Select(_ => new byte[random.Next(100, 5_000)]).ToArray()),
        };
        foreach (var (name, keys, data) in scenarios)
        {
            long userBytes = keys.Sum(k => (long)k.Length) + data.Sum(d => (long)d.Length);
            long bound = (userBytes + KplFormat.PutPayloadUnitSize - 1) / KplFormat.PutPayloadUnitSize;
            string Report(AggregateBuilderOptions o)
            {
                var aggregates = RecordsBenchData.Aggregate(keys, data, o);
                long units = aggregates.Sum(a => (a.Aggregate.Length + (long)a.Key.Length + KplFormat.PutPayloadUnitSize - 1) / KplFormat.PutPayloadUnitSize);
                long sent = aggregates.Sum(a => a.Aggregate.Length + (long)a.Key.Length);
                long sentBound = (sent + KplFormat.PutPayloadUnitSize - 1) / KplFormat.PutPayloadUnitSize;
                return $"{units} units ({(double)units / bound:F3}x bound, {(double)units / sentBound:F3}x ceil(sent bytes/25,600), {units / (userBytes / 1e6):F1} units/MB)";
            }
            Console.WriteLine($"// {name}: {userBytes:N0} user bytes, bound {bound} units | KPL 51,200: {Report(AggregateBuilderOptions.Default)} | " +
                $"FillPayloadUnits 51,200: {Report(new AggregateBuilderOptions { FillPayloadUnits = true })} | " +
                $"FillPayloadUnits 1 MiB: {Report(new AggregateBuilderOptions { FillPayloadUnits = true, MaxAggregateSize = 1024 * 1024 })}");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _builder.Dispose();

    [Benchmark(OperationsPerInvoke = RecordsBenchData.RecordCount)]
    public int AggregateFillingUnits()
    {
        var b = _builder;
        b.Reset();
        int units = 0;
        for (int i = 0; i < _keys.Length; i++)
        {
            if (!b.TryAdd(_keys[i], null, _data[i]))
            {
                b.WriteTo(_output);
                units += b.PayloadUnits;
                b.Reset();
                b.TryAdd(_keys[i], null, _data[i]);
            }
        }
        b.WriteTo(_output);
        return units + b.PayloadUnits;
    }
}
