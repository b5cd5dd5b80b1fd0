using System.Collections.Concurrent;
using System.Diagnostics;
using Cloud.Records;
using Cloud.Telemetry;
using static Cloud.Producer.Tests.ProducerHarness;

namespace Cloud.Producer.Tests;

/// <summary>The producer's spans (produce, PutRecords) and the opt-in trace context in KPL per-record tags.</summary>
public class TracingTests
{
    private const string CallerName = "Cloud.Producer.Tests.Caller";
    private static readonly ActivitySource Caller = new(CallerName);

    private static async Task<(Activity Parent, byte[] Data, SendResult Result, List<Activity> Spans)> SendTracedAsync(bool propagate)
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == TelemetryNames.Producer || s.Name == CallerName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        await using var h = new ProducerHarness(2, o => o.PropagateTraceContext = propagate);
        using var parent = Caller.StartActivity("checkout")!;
        var send = h.Producer.SendAsync(Bytes("hello"), "key-1").AsTask();
        parent.Stop();
        await h.SettleAsync();
        h.Time.Advance(TimeSpan.FromMilliseconds(100));
        await h.DriveAsync(send, TimeSpan.FromMilliseconds(1));
        var result = await send;
        var entry = Assert.Single(Assert.Single(h.Client.Requests).Records);
        return (parent, entry.Data.ToArray(), result, [.. spans]);
    }

    [Fact]
    public async Task Propagation_writes_the_produce_span_context_into_a_one_record_aggregate()
    {
        var (parent, data, result, spans) = await SendTracedAsync(propagate: true);

        Assert.True(result.IsAggregated, "a traced lone record goes out as a one-record aggregate (only aggregates carry tags)");
        var produce = Assert.Single(spans, s => s.OperationName == ActivityNames.Produce && s.TraceId == parent.TraceId);
        Assert.Equal(parent.SpanId, produce.ParentSpanId);
        Assert.Equal(ActivityKind.Producer, produce.Kind);
        var context = Assert.Single(KplTraceTags.ReadContexts(data));
        Assert.Equal(produce.TraceId, context.TraceId);
        Assert.Equal(produce.SpanId, context.SpanId);
        // KPL deaggregators skip the tags: the user record decodes unchanged.
        var user = Assert.Single(RecordDecoder.Default.Decode(data, "key-1", "1"));
        Assert.Equal("hello", System.Text.Encoding.UTF8.GetString(user.Data.Span));
        Assert.Contains(spans, s => s.OperationName == ActivityNames.PutRecords && s.Kind == ActivityKind.Client && (string?)s.GetTagItem(TelemetryTags.Stream) is not null);
    }

    [Fact]
    public async Task Without_the_option_records_carry_no_tags_and_lone_records_stay_unaggregated()
    {
        var (parent, data, result, spans) = await SendTracedAsync(propagate: false);

        Assert.False(result.IsAggregated);
        Assert.Empty(KplTraceTags.ReadContexts(data));
        Assert.Equal("hello", System.Text.Encoding.UTF8.GetString(data));
        Assert.Contains(spans, s => s.OperationName == ActivityNames.Produce && s.TraceId == parent.TraceId);
    }
}
