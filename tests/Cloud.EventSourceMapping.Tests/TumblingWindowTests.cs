using System.Globalization;
using System.Text.Json;

namespace Cloud.EventSourceMapping.Tests;

public class TumblingWindowTests
{
    /// <summary>A counting aggregator: state {"count":"N"} grows by the records of each invoke.</summary>
    private static string? Count(Invocation inv)
    {
        if (inv.IsFinal)
        {
            return null;
        }
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

    private static EventSourceMappingOptions Windowed(Harness h, int seconds = 60) => h.Options(o => o.TumblingWindowInSeconds = seconds);

    [Fact]
    public async Task State_passes_between_invokes_and_the_final_invoke_closes_the_window()
    {
        await using var h = new Harness();
        h.Function.Behaviour = Count;
        h.Time.Advance(TimeSpan.FromSeconds(5));
        for (var i = 0; i < 3; i++)
        {
            h.Kinesis.Put(Harness.Stream, "k", $"a{i}");
        }
        await h.StartAsync(Windowed(h));
        await h.RunUntilAsync(() => h.Function.Invocations.Count == 1, what: "first invoke");
        h.Kinesis.Put(Harness.Stream, "k", "b0");
        h.Kinesis.Put(Harness.Stream, "k", "b1");
        await h.RunUntilAsync(() => h.Function.Invocations.Count == 2, what: "second invoke");
        await h.RunUntilAsync(() => h.Function.Invocations.Any(i => i.IsFinal), step: TimeSpan.FromSeconds(1), what: "final invoke");
        h.Kinesis.Put(Harness.Stream, "k", "c0");
        await h.RunUntilAsync(() => h.Function.Invocations.Count == 4, what: "next window");

        var inv = h.Function.Invocations;
        Assert.Equal(("2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"), (inv[0].WindowStart, inv[0].WindowEnd));
        Assert.Equal("{}", inv[0].State);
        Assert.Equal("""{"count":"3"}""", inv[1].State);
        Assert.Equal(2, inv[1].Records.Count);
        Assert.True(inv[2].IsFinal);
        Assert.False(inv[2].TerminatedEarly);
        Assert.Empty(inv[2].Records);
        Assert.Equal("""{"count":"5"}""", inv[2].State);
        Assert.Equal("shardId-000000000000", inv[2].ShardId);
        Assert.True(h.Time.GetUtcNow() >= DateTimeOffset.Parse("2026-01-01T00:01:00Z", CultureInfo.InvariantCulture));
        Assert.Equal(("2026-01-01T00:01:00Z", "{}", false), (inv[3].WindowStart, inv[3].State, inv[3].IsFinal));
    }

    [Fact]
    public async Task A_batch_never_spans_two_windows_and_the_old_window_closes_first()
    {
        await using var h = new Harness();
        h.Function.Behaviour = Count;
        h.Kinesis.Put(Harness.Stream, "k", "w0-a");
        h.Kinesis.Put(Harness.Stream, "k", "w0-b");
        h.Time.Advance(TimeSpan.FromSeconds(65));
        h.Kinesis.Put(Harness.Stream, "k", "w1-a");
        await h.StartAsync(Windowed(h));
        await h.RunUntilAsync(() => h.Function.Invocations.Count >= 3, what: "three invokes");
        var inv = h.Function.Invocations;
        Assert.Equal(["w0-a", "w0-b"], inv[0].Records.Select(r => r.Data));
        Assert.True(inv[1].IsFinal);
        Assert.Equal("""{"count":"2"}""", inv[1].State);
        Assert.Equal(["w1-a"], inv[2].Records.Select(r => r.Data));
        Assert.Equal(("2026-01-01T00:01:00Z", "{}"), (inv[2].WindowStart, inv[2].State));
    }

    [Fact]
    public async Task State_over_1_MB_ends_the_window_early()
    {
        await using var h = new Harness();
        var big = new string('x', 1_100_000);
        h.Function.Behaviour = inv => inv.IsFinal ? null : inv.Records.Any(r => r.Data == "grow") ? "{\"state\":{\"blob\":\"" + big + "\"}}" : Count(inv);
        h.Kinesis.Put(Harness.Stream, "k", "grow");
        await h.StartAsync(Windowed(h));
        await h.RunUntilAsync(() => h.Function.Invocations.Count == 2, what: "early final invoke");
        h.Kinesis.Put(Harness.Stream, "k", "after");
        await h.RunUntilAsync(() => h.Function.Invocations.Count == 3, what: "same window again");
        var inv = h.Function.Invocations;
        Assert.True(inv[1].IsFinal);
        Assert.True(inv[1].TerminatedEarly);
        Assert.Contains(big, inv[1].State!, StringComparison.Ordinal);
        Assert.Equal(("2026-01-01T00:00:00Z", "{}", false), (inv[2].WindowStart, inv[2].State, inv[2].IsFinal));
    }

    [Fact]
    public async Task A_response_without_state_is_retried()
    {
        await using var h = new Harness();
        h.Function.Behaviour = inv => inv.Number == 1 ? "{}" : Count(inv);
        h.Kinesis.Put(Harness.Stream, "k", "a");
        await h.StartAsync(Windowed(h));
        await h.RunUntilAsync(() => h.Function.Invocations.Count == 2, what: "retry");
        Assert.Equal(("{}", 1), (h.Function.Invocations[1].State, h.Function.Invocations[1].Records.Count));
    }

    [Fact]
    public async Task Resharding_closes_the_parent_window_before_children_start()
    {
        await using var h = new Harness();
        h.Function.Behaviour = Count;
        h.Kinesis.Put(Harness.Stream, "k1", "parent");
        var (left, right) = h.Kinesis.Split(Harness.Stream, "shardId-000000000000");
        h.Kinesis.Put(Harness.Stream, "k1", "child");
        await h.StartAsync(Windowed(h));
        await h.RunUntilAsync(() => h.Function.Invocations.Any(i => i.Records.Any(r => r.Data == "child")), what: "child invoke");
        var inv = h.Function.Invocations;
        Assert.Equal("parent", inv[0].Records.Single().Data);
        Assert.True(inv[1].IsFinal);
        Assert.Equal(("shardId-000000000000", """{"count":"1"}"""), (inv[1].ShardId, inv[1].State));
        Assert.Contains(inv[2].ShardId, new[] { left, right });
        Assert.Equal("{}", inv[2].State);
    }

    [Fact]
    public async Task A_restart_mid_window_carries_the_state_on()
    {
        var h = new Harness();
        h.Function.Behaviour = Count;
        h.Kinesis.Put(Harness.Stream, "k", "a");
        h.Kinesis.Put(Harness.Stream, "k", "b");
        await h.StartAsync(Windowed(h, 120));
        await h.RunUntilAsync(() => h.Function.Invocations.Count == 1, what: "first");
        await h.RunUntilAsync(() => h.Checkpoints.SaveCount >= 1, what: "checkpoint");
        await h.StopAsync();
        var stored = (await h.Checkpoints.LoadAsync("esm-orders"))["shardId-000000000000"];
        Assert.Equal("""{"count":"2"}""", stored.WindowState);
        h.Kinesis.Put(Harness.Stream, "k", "c");
        await h.StartAsync(Windowed(h, 120));
        await h.RunUntilAsync(() => h.Function.Invocations.Count == 2, what: "after restart");
        Assert.Equal("""{"count":"2"}""", h.Function.Invocations[1].State);
        Assert.Equal(["c"], h.Function.Invocations[1].Records.Select(r => r.Data));
        await h.DisposeAsync();
    }
}
