using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;

namespace Cloud.Telemetry.Tests;

public class CounterRateSamplerTests
{
    [Fact]
    public void Rates_are_per_second_over_the_interval_and_broken_down_by_tag()
    {
        var time = new FakeTimeProvider();
        string name = "cloud.test." + Guid.NewGuid().ToString("N");
        using var sampler = new CounterRateSampler([name, name + ".idle"], TelemetryTags.Shard, time);
        using var meter = new Meter("Cloud.Test");
        var counter = meter.CreateCounter<long>(name);

        counter.Add(300, new KeyValuePair<string, object?>("shard", "shardId-0"));
        counter.Add(100, new KeyValuePair<string, object?>("shard", "shardId-1"));
        time.Advance(TimeSpan.FromSeconds(2));
        var first = sampler.Sample();

        Assert.Equal(TimeSpan.FromSeconds(2), first.Interval);
        Assert.Equal(200, first.PerSecond[name]);
        Assert.Equal(0, first.PerSecond[name + ".idle"]);
        Assert.Equal(150, first.PerSecondByTag[name]["shardId-0"]);
        Assert.Equal(50, first.PerSecondByTag[name]["shardId-1"]);

        counter.Add(50);
        time.Advance(TimeSpan.FromSeconds(1));
        var second = sampler.Sample();
        Assert.Equal(50, second.PerSecond[name]);
        Assert.False(second.PerSecondByTag.ContainsKey(name));
    }

    [Fact]
    public void Meters_outside_the_project_are_ignored()
    {
        var time = new FakeTimeProvider();
        string name = "cloud.test." + Guid.NewGuid().ToString("N");
        using var sampler = new CounterRateSampler([name], timeProvider: time);
        using var meter = new Meter("Other.Library");
        meter.CreateCounter<long>(name).Add(10);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, sampler.Sample().PerSecond[name]);
    }

    [Fact]
    public void A_breakdown_tag_outside_the_vocabulary_is_refused() =>
        Assert.Throws<ArgumentException>(() => new CounterRateSampler(["cloud.x.y"], "partition_key"));
}
