using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Cloud.Consumer.Events;
using Cloud.Functions.Aggregator;
using Cloud.Functions.Tests.Aggregator;
using Cloud.Records;
using Cloud.Telemetry;

namespace Cloud.Functions.Tests;

/// <summary>The Aggregator's <c>aggregate</c> span continues the producer's trace carried in KPL per-record tags.</summary>
public class TracingTests
{
    private static readonly ActivityContext First = new(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
    private static readonly ActivityContext Second = new(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);

    private static KinesisEventRecord Aggregate(int index, params ActivityContext[] contexts)
    {
        using var builder = new AggregateBuilder();
        for (var i = 0; i < contexts.Length; i++)
        {
            Assert.True(builder.TryAdd("pk-" + i, null, Encoding.UTF8.GetBytes($$"""{"userId":"u-{{i}}","page":"/","amount":1}"""), KplTraceTags.Create(contexts[i])));
        }

        return AggregatorTestData.Record(index, builder.ToArray(), partitionKey: "pk-0");
    }

    private static async Task<List<Activity>> AggregateAsync(params KinesisEventRecord[] records)
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == TelemetryNames.Functions,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        var (client, _) = FakeDynamoDb.Create();
        using var f = new Function(new AggregatorConfig { TableName = "agg" }, client);
        await f.ProcessAsync(AggregatorTestData.Invoke(records, null, final: false));
        return [.. spans.Where(s => s.OperationName == ActivityNames.Aggregate)];
    }

    [Fact]
    public async Task One_trace_in_the_batch_becomes_the_parent_of_the_aggregate_span()
    {
        var spans = await AggregateAsync(Aggregate(0, First, First));

        Assert.Contains(spans, s => s.TraceId == First.TraceId && s.ParentSpanId == First.SpanId && s.Kind == ActivityKind.Consumer);
    }

    [Fact]
    public async Task Several_traces_become_links_and_untagged_records_are_skipped()
    {
        var spans = await AggregateAsync(Aggregate(0, First), Aggregate(1, Second), AggregatorTestData.Record(2, Encoding.UTF8.GetBytes("""{"userId":"u-9","page":"/"}""")));

        Assert.Contains(spans, s => s.Links.Select(l => l.Context.TraceId.ToHexString()).Order(StringComparer.Ordinal).SequenceEqual(new[] { First.TraceId.ToHexString(), Second.TraceId.ToHexString() }.Order(StringComparer.Ordinal)) && s.ParentSpanId == default);
    }
}
