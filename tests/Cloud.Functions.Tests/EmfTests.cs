using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cloud.Consumer.Events;
using Cloud.Functions.Aggregator;
using Cloud.Functions.Forget;
using Cloud.Privacy;
using Cloud.Telemetry;
using Cloud.Functions.Tests.Aggregator;

namespace Cloud.Functions.Tests;

/// <summary>The functions' meters are process-wide (one function per Lambda process): these tests run alone so the
/// EMF writer under test does not also hear other tests' invocations.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EmfCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "EMF (process-wide meters)";
}

/// <summary>Both functions flush CloudWatch Embedded Metric Format lines once per invocation.</summary>
[Collection(EmfCollection.Name)]
public class EmfTests
{
    private static List<JsonElement> EmfLines(StringWriter output, string ns) =>
        output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .Where(e => e.GetProperty("_aws").GetProperty("CloudWatchMetrics")[0].GetProperty("Namespace").GetString() == ns)
            .ToList();

    private static bool HasMetric(JsonElement line, string name) =>
        line.GetProperty("_aws").GetProperty("CloudWatchMetrics")[0].GetProperty("Metrics").EnumerateArray().Any(m => m.GetProperty("Name").GetString() == name);

    [Fact]
    public async Task Aggregator_writes_emf_lines_of_its_invocation_once_per_invocation()
    {
        var output = new StringWriter();
        using var emf = new EmfMetricsWriter(new EmfMetricsOptions { Namespace = "Test/Aggregator" }, output);
        var (client, _) = FakeDynamoDb.Create();
        using var f = new Function(new AggregatorConfig { TableName = "agg" }, new DynamoDbAggregateSink(client, "agg", 2), emf);
        var evt = AggregatorTestData.Invoke([AggregatorTestData.Record(0, new AggregatorTestData.Ev("u-1", 2m, "/"))], null, final: false);
        using var input = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(evt, KinesisEventsJsonContext.Default.KinesisTimeWindowEvent));

        using (await f.FunctionHandler(input))
        {
        }

        var lines = EmfLines(output, "Test/Aggregator");
        var invocation = Assert.Single(lines, l => HasMetric(l, Cloud.Functions.Aggregator.FunctionMetrics.Invocations) && l.TryGetProperty("function", out var fn) && fn.GetString() == "aggregator");
        Assert.Equal("ok", invocation.GetProperty("outcome").GetString());
        Assert.Equal(1, invocation.GetProperty(Cloud.Functions.Aggregator.FunctionMetrics.Invocations).GetDouble());
        Assert.DoesNotContain("u-1", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forget_writes_an_emf_line_per_invocation()
    {
        var output = new StringWriter();
        using var emf = new EmfMetricsWriter(new EmfMetricsOptions { Namespace = "Test/Forget" }, output);
        var ring = new UserKeyRing(new InMemoryKeyStore(), new LocalMasterKeyProvider(RandomNumberGenerator.GetBytes(32)), new DataKeyCache(TimeProvider.System, TimeSpan.FromMinutes(1), 100));
        var fn = new ForgetFunction(new CryptoShredder(ring), null, emf);
        var data = Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"userId":"u-secret-1"}"""));
        var json = $$"""{"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"pk","sequenceNumber":"1","data":"{{data}}","approximateArrivalTimestamp":1545084650.987},"eventSource":"aws:kinesis","eventID":"shardId-000000000000:1","eventSourceARN":"arn:aws:kinesis:us-east-1:123456789012:stream/control"}]}""";

        using (await fn.HandleAsync(new MemoryStream(Encoding.UTF8.GetBytes(json)), default))
        {
        }

        var line = Assert.Single(EmfLines(output, "Test/Forget"), l => HasMetric(l, Cloud.Functions.Forget.FunctionMetrics.Invocations) && l.GetProperty("function").GetString() == "forget");
        Assert.Equal("ok", line.GetProperty("outcome").GetString());
        Assert.DoesNotContain("u-secret-1", output.ToString(), StringComparison.Ordinal);
    }
}
