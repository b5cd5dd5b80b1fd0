using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Cloud.Telemetry;

namespace Cloud.EventSourceMapping.Tests;

/// <summary>The runner's instruments on the <c>Cloud.EventSourceMapping</c> meter fire, with allowed tags only.</summary>
public class MetricsTests
{
    [Fact]
    public async Task Runner_records_invocations_duration_processed_on_failure_and_iterator_age_per_shard()
    {
        var seen = new ConcurrentBag<(string Name, double Value, KeyValuePair<string, object?>[] Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == TelemetryNames.EventSourceMapping)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => seen.Add((i.Name, v, tags.ToArray())));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => seen.Add((i.Name, v, tags.ToArray())));
        listener.Start();

        await using var h = new Harness();
        for (var i = 0; i < 5; i++)
        {
            h.Kinesis.Put(Harness.Stream, "user-partition-key-" + i, $"r{i}");
        }

        h.Kinesis.Put(Harness.Stream, "user-partition-key-bad", "bad");
        h.Function.Behaviour = inv => inv.Records.Any(r => r.Data == "bad") ? throw new InvalidOperationException("always") : null;
        await h.StartAsync(h.Options(o => o.MaximumRetryAttempts = 1));
        await h.RunUntilAsync(() => h.Failures.Records.Count == 1, what: "on-failure record");
        h.Kinesis.Put(Harness.Stream, "user-partition-key-after", "good");
        await h.RunUntilAsync(() => h.Mapping!.GetStatistics().RecordsProcessed >= 1, what: "a record processed");
        await h.RunUntilAsync(() => h.Mapping!.GetLag().Count > 0 && h.Mapping.GetLag()[0].MillisBehindLatest is not null, what: "lag known");
        listener.RecordObservableInstruments();

        var mine = seen.Where(m => m.Tags.Any(t => t.Key == TelemetryTags.Stream && Equals(t.Value, Harness.Stream)) || m.Name.EndsWith("millis_behind_latest", StringComparison.Ordinal)).ToList();
        Assert.Contains(mine, m => m.Name == "cloud.eventsourcemapping.invocations" && m.Tags.Any(t => t.Key == TelemetryTags.Outcome && Equals(t.Value, "error")));
        Assert.Contains(mine, m => m.Name == "cloud.eventsourcemapping.invocations" && m.Tags.Any(t => t.Key == TelemetryTags.Outcome && Equals(t.Value, "ok")));
        Assert.Contains(mine, m => m.Name == "cloud.eventsourcemapping.invoke.duration" && m.Value >= 0);
        Assert.Contains(mine, m => m.Name == "cloud.eventsourcemapping.on_failure_records" && m.Value == 1);
        Assert.True(mine.Where(m => m.Name == "cloud.eventsourcemapping.records_processed").Sum(m => m.Value) >= 1);
        Assert.True(mine.Where(m => m.Name == "cloud.eventsourcemapping.records_discarded").Sum(m => m.Value) >= 6);
        Assert.Contains(mine, m => m.Name == "cloud.eventsourcemapping.millis_behind_latest" && m.Tags.Any(t => Equals(t.Value, "shardId-000000000000")));
        Assert.All(mine.Where(m => m.Name == "cloud.eventsourcemapping.millis_behind_latest"), m => Assert.Equal([TelemetryTags.Shard], m.Tags.Select(t => t.Key)));
        Assert.All(seen, m => Assert.All(m.Tags, t =>
        {
            Assert.Contains(t.Key, TelemetryTags.All);
            Assert.DoesNotContain("user-partition-key", t.Value?.ToString() ?? string.Empty, StringComparison.Ordinal);
        }));
    }
}
