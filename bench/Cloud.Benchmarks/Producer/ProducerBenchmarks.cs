using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Cloud.Producer;

namespace Cloud.Benchmarks.Producer;

/// <summary>
/// Shard balance: 1M records on 16 shards, keyless (the producer's balancer) versus random partition keys
/// (MD5 spread, the reference line). Prints max/mean records per shard after each run.
/// Run: dotnet run -c Release --project bench/Cloud.Benchmarks -- --filter '*ProducerBalance*' --job dry
/// </summary>
[MemoryDiagnoser]
public class ProducerBalanceBenchmarks
{
    private const int Records = 1_000_000;
    private const int Shards = 16;
    private readonly byte[] _payload = new byte[100];

    [Params("keyless", "random-keys")]
    public string Keys { get; set; } = "keyless";

    [Benchmark]
    public async Task<double> Produce1MOn16Shards()
    {
        var client = new InMemoryKinesisClient(Shards);
        var perShard = new long[Shards];
        var random = new Random(1);
        var producer = new KinesisProducer(client, new KinesisProducerOptions { StreamName = "bench", RateLimit = 10_000, MaxBufferedRecords = 200_000 });
        var pending = new List<Task<SendResult>>(Records);
        for (int i = 0; i < Records; i++)
        {
            string? key = Keys == "keyless" ? null : random.NextInt64().ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
            pending.Add(await producer.EnqueueAsync(_payload, key));
        }
        await producer.DisposeAsync();
        foreach (var t in pending)
        {
            perShard[int.Parse(t.Result.ShardId.AsSpan(8), System.Globalization.CultureInfo.InvariantCulture)]++;
        }
        double ratio = perShard.Max() / perShard.Average();
        Console.WriteLine($"// balance {Keys}: max/mean records per shard = {ratio:F4} (min {perShard.Min()}, max {perShard.Max()})");
        return ratio;
    }
}

/// <summary>
/// Producer memory at a sustained 100k records/s (200-byte records, keyed) against an in-memory client: reports the
/// peak managed heap and working set next to the configured buffer (MaxBufferedBytes).
/// Run: dotnet run -c Release --project bench/Cloud.Benchmarks -- --filter '*ProducerMemory*' --job dry
/// </summary>
[MemoryDiagnoser]
public class ProducerMemoryBenchmarks
{
    private const int RatePerSecond = 100_000;
    private readonly byte[] _payload = new byte[200];

    [Params(5)]
    public int Seconds { get; set; }

    [Benchmark]
    public async Task<long> Sustained100kRecordsPerSecond()
    {
        var client = new InMemoryKinesisClient(16);
        var options = new KinesisProducerOptions { StreamName = "bench", RateLimit = 10_000, MaxBufferedBytes = 64L * 1024 * 1024 };
        var producer = new KinesisProducer(client, options);
        long peakHeap = 0, peakWorkingSet = 0;
        var clock = Stopwatch.StartNew();
        long sent = 0;
        var inFlight = new Queue<Task<SendResult>>();
        while (clock.Elapsed < TimeSpan.FromSeconds(Seconds))
        {
            long due = (long)(clock.Elapsed.TotalSeconds * RatePerSecond);
            while (sent < due)
            {
                inFlight.Enqueue(await producer.EnqueueAsync(_payload, $"user-{sent % 10_000}"));
                sent++;
                while (inFlight.Count > 0 && inFlight.Peek().IsCompleted)
                {
                    _ = inFlight.Dequeue();
                }
            }
            peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
            peakWorkingSet = Math.Max(peakWorkingSet, Environment.WorkingSet);
            await Task.Delay(1);
        }
        await producer.DisposeAsync();
        double achieved = sent / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"// memory: {achieved:F0} records/s, peak managed heap {peakHeap / 1048576.0:F1} MiB, peak working set {peakWorkingSet / 1048576.0:F1} MiB, configured buffer {options.MaxBufferedBytes / 1048576} MiB");
        return peakHeap;
    }
}
