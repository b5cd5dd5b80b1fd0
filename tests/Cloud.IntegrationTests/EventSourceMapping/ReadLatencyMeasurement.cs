using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Cloud.EventSourceMapping;
using Cloud.Testing;
using Xunit.Abstractions;

namespace Cloud.IntegrationTests.EventSourceMapping;

/// <summary>
/// Measures (does not assert) the read latency of the runner on kinesis-local: from a record's arrival to its invoke,
/// through shared-throughput polling (GetRecords every PollInterval, Lambda's 1 s) and through enhanced fan-out
/// (SubscribeToShard pushes). The figures go to bench/README.md; the test only checks every record arrived once.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class ReadLatencyMeasurement(EmulatorFixture fixture, ITestOutputHelper output) : IDisposable
{
    private const int Records = 60;
    private readonly RunnerTestSupport _s = new(fixture);

    public void Dispose() => _s.Dispose();

    [Theory]
    [InlineData("polling")]
    [InlineData("efo")]
    public async Task Arrival_to_invoke_latency(string mode)
    {
        var stream = await _s.CreateStreamAsync("esm-latency", 1);
        var latencies = new ConcurrentQueue<double>();
        var options = _s.Options(stream, o =>
        {
            o.PollInterval = TimeSpan.FromSeconds(1); // Lambda's polling rate
            o.BatchSize = 100;
            o.ConsumerName = mode == "efo" ? "latency-consumer" : null;
        });
        await using var mapping = new LocalEventSourceMapping(options, _s.Kinesis, async (input, ct) =>
        {
            var now = DateTimeOffset.UtcNow;
            using var doc = await JsonDocument.ParseAsync(input, cancellationToken: ct);
            foreach (var r in doc.RootElement.GetProperty("Records").EnumerateArray())
            {
                var arrival = r.GetProperty("kinesis").GetProperty("approximateArrivalTimestamp").GetDecimal();
                latencies.Enqueue((double)((now.ToUnixTimeMilliseconds() / 1000m) - arrival) * 1000);
            }
            return new MemoryStream();
        }, _s.Store(options));
        await mapping.StartAsync();
        await Task.Delay(TimeSpan.FromSeconds(3)); // subscription or first poll in place
        for (var i = 0; i < Records; i++)
        {
            await _s.PutCountersAsync(stream, keys: 1, perKey: 1, startAt: i);
            await Task.Delay(150);
        }
        await RunnerTestSupport.WaitUntilAsync(() => latencies.Count >= Records, TimeSpan.FromSeconds(60), "all invoked", mapping);

        var sorted = latencies.Order().ToList();
        Assert.Equal(Records, sorted.Count);
        string P(double q) => sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(q * sorted.Count))].ToString("0", CultureInfo.InvariantCulture);
        output.WriteLine($"{mode}: {Records} records, arrival→invoke ms p50 {P(0.5)}, p90 {P(0.9)}, max {P(1.0)}");
    }
}
