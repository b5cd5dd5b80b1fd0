using System.Collections.Concurrent;
using System.Diagnostics;
using Cloud.Telemetry;

namespace Cloud.EventSourceMapping.Tests;

/// <summary>The runner's spans on the <c>Cloud.EventSourceMapping</c> activity source: poll and invoke.</summary>
public class TracingTests
{
    [Fact]
    public async Task Runner_starts_poll_and_invoke_spans_tagged_with_the_shard_only()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == TelemetryNames.EventSourceMapping,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);

        await using var h = new Harness();
        h.Kinesis.Put(Harness.Stream, "user-partition-key-1", "r1");
        await h.StartAsync(h.Options());
        await h.RunUntilAsync(() => h.Function.AllSeen.Count >= 1, what: "record handled");
        await h.RunUntilAsync(() => spans.Any(s => s.OperationName == ActivityNames.Invoke), what: "invoke span stopped");

        Assert.Contains(spans, s => s.OperationName == ActivityNames.Poll && (string?)s.GetTagItem(TelemetryTags.Shard) == "shardId-000000000000" && (string?)s.GetTagItem(TelemetryTags.Stream) == Harness.Stream);
        // Other tests' mappings may run at the same time (the listener is process-wide): look for ours, not for the only one.
        Assert.Contains(spans, s => s.OperationName == ActivityNames.Invoke && s.Kind == ActivityKind.Client && (string?)s.GetTagItem(TelemetryTags.Shard) == "shardId-000000000000" && (int?)s.GetTagItem("records") == 1);
        Assert.All(spans, s => Assert.All(s.TagObjects, t => Assert.DoesNotContain("user-partition-key", t.Value?.ToString() ?? string.Empty, StringComparison.Ordinal)));
    }
}
