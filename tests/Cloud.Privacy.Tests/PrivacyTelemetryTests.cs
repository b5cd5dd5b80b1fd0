using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using Cloud.Telemetry;

namespace Cloud.Privacy.Tests;

/// <summary>The privacy meter and spans fire, and carry no user id. Process-wide instruments: filtered by what this test did.</summary>
[Collection(PrivacyTelemetryCollection.Name)]
public sealed class PrivacyTelemetryTests
{
    [Fact]
    public async Task Cache_hits_misses_master_key_calls_and_spans_are_reported_without_the_user()
    {
        var measurements = new ConcurrentQueue<(string Name, long Value, string Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == TelemetryNames.Privacy)
            {
                l.EnableMeasurementEvents(i);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) =>
            measurements.Enqueue((i.Name, v, string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}")))));
        listener.Start();
        var spans = new ConcurrentQueue<Activity>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == TelemetryNames.Privacy,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(activities);

        var user = "carol-" + Guid.NewGuid().ToString("N");
        var ring = new UserKeyRing(new InMemoryKeyStore(), new LocalMasterKeyProvider(RandomNumberGenerator.GetBytes(32)), new DataKeyCache(TimeProvider.System, TimeSpan.FromMinutes(1), 100));
        var protector = new PersonalDataProtector(ring, new PersonalDataOptions { UserIdField = "userId", Fields = ["email"] });
        var json = Encoding.UTF8.GetBytes($$"""{"userId":"{{user}}","email":"{{user}}@example.com"}""");
        var first = await protector.EncryptAsync(json, "s");   // miss → key created (master key: generate)
        await protector.EncryptAsync(json, "s");               // hit
        await protector.DecryptAsync(first.Json, "s");
        await new CryptoShredder(ring).ForgetAsync(user);

        var all = measurements.ToList();
        Assert.Contains(all, m => m.Name == PrivacyMetricNames.KeyCacheHits);
        Assert.Contains(all, m => m.Name == PrivacyMetricNames.KeyCacheMisses);
        Assert.Contains(all, m => m.Name == PrivacyMetricNames.MasterKeyCalls && m.Tags.Contains("provider=local", StringComparison.Ordinal) && m.Tags.Contains("operation=generate", StringComparison.Ordinal));
        var names = spans.Select(s => s.OperationName).ToHashSet();
        Assert.Superset(new HashSet<string> { ActivityNames.Encrypt, ActivityNames.Decrypt, ActivityNames.Forget }, names);
        Assert.DoesNotContain(all, m => m.Tags.Contains("carol", StringComparison.Ordinal));
        Assert.DoesNotContain(spans, s => s.Tags.Any(t => t.Value?.Contains("carol", StringComparison.Ordinal) == true) || s.DisplayName.Contains("carol", StringComparison.Ordinal));
    }
}

/// <summary>Runs the telemetry test alone: the privacy meter and source are process-wide.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PrivacyTelemetryCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Privacy telemetry (process-wide)";
}
