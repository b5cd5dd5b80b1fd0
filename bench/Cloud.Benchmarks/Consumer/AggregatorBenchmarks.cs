using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Cloud.Consumer.Events;
using Cloud.Functions.Aggregator;

namespace Cloud.Benchmarks.Consumer;

/// <summary>
/// Aggregator handler throughput: one window invoke over a batch of Kinesis records (base64 → decompress →
/// deaggregate → parse configured JSON fields → aggregate per key → state out). Reported per operation;
/// user records/s = UserRecords ÷ mean time. No DynamoDB: the invoke is not final.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class AggregatorBenchmarks
{
    private Function _function = null!;
    private KinesisTimeWindowEvent _event = null!;
    private byte[] _eventJson = null!;

    /// <summary>How the user records are packed into Kinesis records.</summary>
    [Params(ConsumerBenchData.Packing.Raw, ConsumerBenchData.Packing.Aggregated, ConsumerBenchData.Packing.AggregatedZstd, ConsumerBenchData.Packing.AggregatedLz4)]
    public ConsumerBenchData.Packing Packing { get; set; }

    /// <summary>User records per invoke.</summary>
    public const int UserRecords = 20_000;

    [GlobalSetup]
    public void Setup()
    {
        _function = new Function(new AggregatorConfig { TableName = "bench", SumFields = ["amount", "durationMs"], TopKField = "page" }, new NullAggregateSink());
        _event = ConsumerBenchData.WindowEvent(UserRecords, Packing);
        _eventJson = JsonSerializer.SerializeToUtf8Bytes(_event, KinesisEventsJsonContext.Default.KinesisTimeWindowEvent);
        AggregationOutcome check = _function.ProcessAsync(_event).GetAwaiter().GetResult();
        if (check.AppliedUserRecords != UserRecords || check.Failure is not null)
        {
            throw new InvalidOperationException($"Setup check failed: applied {check.AppliedUserRecords}, failure {check.Failure?.Message}");
        }
    }

    /// <summary>Parsed event in, response out (the aggregation work only).</summary>
    [Benchmark(Baseline = true)]
    public async Task<int> Aggregate() => (await _function.ProcessAsync(_event)).AppliedUserRecords;

    /// <summary>The full handler: event JSON stream in, response JSON stream out.</summary>
    [Benchmark]
    public async Task<long> HandleStream()
    {
        using var input = new MemoryStream(_eventJson, writable: false);
        using Stream output = await _function.FunctionHandler(input);
        return output.Length;
    }
}
