using System.Globalization;
using System.Text.Json;

namespace Cloud.EventSourceMapping.Tests;

/// <summary>
/// Issue 12's Lambda rules the runner once read differently: a failing final window invoke suspends the shard
/// (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html), records age out to the on-failure
/// destination (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html), and a record no
/// 6 MB invoke payload can carry is not invoked (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
/// </summary>
public class LambdaSemanticsTests
{
    private static string? Count(Invocation inv)
    {
        var previous = 0;
        using (var doc = JsonDocument.Parse(inv.State!))
        {
            if (doc.RootElement.TryGetProperty("count", out var c))
            {
                previous = int.Parse(c.GetString()!, CultureInfo.InvariantCulture);
            }
        }
        return "{\"state\":{\"count\":\"" + (previous + inv.Records.Count).ToString(CultureInfo.InvariantCulture) + "\"}}";
    }

    [Fact]
    public async Task A_failing_final_window_invoke_suspends_the_shard_until_it_succeeds_whatever_MaximumRetryAttempts_says()
    {
        await using var h = new Harness();
        var finalFailures = 0;
        h.Function.Behaviour = inv =>
        {
            if (inv.IsFinal && inv.WindowStart == "2026-01-01T00:00:00Z" && ++finalFailures <= 5)
            {
                throw new InvalidOperationException("sink down");
            }
            return inv.IsFinal ? null : Count(inv);
        };
        h.Kinesis.Put(Harness.Stream, "k", "a0");
        h.Kinesis.Put(Harness.Stream, "k", "a1");
        await h.StartAsync(h.Options(o => { o.TumblingWindowInSeconds = 60; o.MaximumRetryAttempts = 1; }));
        await h.RunUntilAsync(() => h.Function.Invocations.Count == 1, what: "first window's records");
        h.Time.Advance(TimeSpan.FromSeconds(61));
        h.Kinesis.Put(Harness.Stream, "k", "b0");

        await h.RunUntilAsync(() => h.Function.Invocations.Any(i => i.WindowStart == "2026-01-01T00:01:00Z" && !i.IsFinal), what: "next window");

        var inv = h.Function.Invocations;
        var finals = inv.Where(i => i.IsFinal && i.WindowStart == "2026-01-01T00:00:00Z").ToList();
        Assert.Equal(6, finals.Count); // 5 failures, then the success: not dropped after MaximumRetryAttempts + 1 = 2
        Assert.All(finals, f => Assert.Equal("""{"count":"2"}""", f.State));
        // Nothing of the next window ran while the final invoke was failing.
        var firstOfNext = inv.ToList().FindIndex(i => i.WindowStart == "2026-01-01T00:01:00Z");
        Assert.True(firstOfNext > inv.ToList().IndexOf(finals[^1]));
        Assert.Empty(h.Failures.Records);
        Assert.Equal(1, h.Mapping!.GetStatistics().WindowsClosed);
    }

    [Fact]
    public async Task A_final_invoke_that_never_succeeds_sends_the_window_to_on_failure_once_its_records_pass_MaximumRecordAge()
    {
        await using var h = new Harness();
        h.Function.Behaviour = inv => inv.IsFinal && inv.WindowStart == "2026-01-01T00:00:00Z" ? throw new InvalidOperationException("sink down") : (inv.IsFinal ? null : Count(inv));
        var seqs = new[] { "a0", "a1", "a2" }.Select(d => h.Kinesis.Put(Harness.Stream, "k", d).SequenceNumber).ToList();
        await h.StartAsync(h.Options(o => { o.TumblingWindowInSeconds = 60; o.MaximumRecordAgeInSeconds = 120; o.MaximumRetryAttempts = 0; }));
        await h.RunUntilAsync(() => h.Function.Invocations.Count == 1, what: "window's records");
        h.Time.Advance(TimeSpan.FromSeconds(61));
        h.Kinesis.Put(Harness.Stream, "k", "b0");

        await h.RunUntilAsync(() => h.Failures.Records.Count == 1, step: TimeSpan.FromSeconds(1), what: "window aged out");
        await h.RunUntilAsync(() => h.Function.Invocations.Any(i => i.WindowStart == "2026-01-01T00:01:00Z"), what: "next window");

        var failure = h.Failures.Records.Single();
        Assert.Equal(OnFailureCondition.RecordAgeExceeded, failure.Condition);
        Assert.Equal((seqs[0], seqs[^1], 3), (failure.KinesisBatchInfo.StartSequenceNumber, failure.KinesisBatchInfo.EndSequenceNumber, failure.KinesisBatchInfo.BatchSize));
        Assert.True(failure.ApproximateInvokeCount > 1);
        // It waited for the age limit, not for MaximumRetryAttempts (0).
        Assert.True(failure.Timestamp - DateTimeOffset.Parse("2026-01-01T00:00:00Z", CultureInfo.InvariantCulture) > TimeSpan.FromSeconds(120));
    }

    [Fact]
    public async Task A_record_whose_event_is_over_6_MB_goes_to_the_on_failure_destination_without_an_invoke()
    {
        await using var h = new Harness();
        var small1 = h.Kinesis.Put(Harness.Stream, "k", "before").SequenceNumber;
        var big = h.Kinesis.Put(Harness.Stream, "k", new byte[5 * 1024 * 1024]).SequenceNumber; // 6.7 MB as base64
        var small2 = h.Kinesis.Put(Harness.Stream, "k", "after").SequenceNumber;
        await h.StartAsync(h.Options(o => o.BatchSize = 10));

        await h.RunUntilAsync(() => h.Checkpoints.LoadAsync("esm-orders").Result.GetValueOrDefault("shardId-000000000000")?.SequenceNumber == small2, what: "all done");

        Assert.DoesNotContain(h.Function.AllSeen, r => r.SequenceNumber == big);
        Assert.Equal([small1, small2], h.Function.AllSeen.Select(r => r.SequenceNumber));
        var failure = h.Failures.Records.Single();
        Assert.Equal(OnFailureCondition.PayloadSizeExceeded, failure.Condition);
        Assert.Equal(0, failure.ApproximateInvokeCount);
        Assert.Null(failure.StatusCode);
        Assert.Equal((big, big, 1), (failure.KinesisBatchInfo.StartSequenceNumber, failure.KinesisBatchInfo.EndSequenceNumber, failure.KinesisBatchInfo.BatchSize));
        Assert.All(h.Function.Invocations, i => Assert.True(i.Json.Length <= 6 * 1024 * 1024));
    }

    [Fact]
    public async Task A_record_just_under_the_payload_limit_is_still_invoked_alone()
    {
        await using var h = new Harness();
        var nearLimit = h.Kinesis.Put(Harness.Stream, "k", new byte[4_500_000]).SequenceNumber; // 6.0 MB as base64, under 6 MiB
        await h.StartAsync(h.Options());
        await h.RunUntilAsync(() => h.Function.AllSeen.Count == 1, what: "invoked");
        Assert.Equal(nearLimit, h.Function.AllSeen.Single().SequenceNumber);
        Assert.Empty(h.Failures.Records);
    }
}
