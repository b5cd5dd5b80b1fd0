using System.Diagnostics;
using System.Diagnostics.Metrics;
using Cloud.Telemetry;

namespace Cloud.Privacy;

/// <summary>Instrument names of the <c>Cloud.Privacy</c> meter (docs/observability.md). No tag carries a user id.</summary>
public static class PrivacyMetricNames
{
    /// <summary>Counter: key lookups answered by the process's key cache.</summary>
    public static readonly string KeyCacheHits = TelemetryNames.Instrument(TelemetryNames.Privacy, "key_cache.hits");

    /// <summary>Counter: key lookups the cache could not answer (the key store was read).</summary>
    public static readonly string KeyCacheMisses = TelemetryNames.Instrument(TelemetryNames.Privacy, "key_cache.misses");

    /// <summary>Counter: master-key calls (KMS GenerateDataKey/Decrypt, or the local master key), tags <c>provider</c>, <c>operation</c>.</summary>
    public static readonly string MasterKeyCalls = TelemetryNames.Instrument(TelemetryNames.Privacy, "master_key.calls");
}

/// <summary>The privacy library's meter and activity source; process-wide, as the library's users expect.</summary>
internal static class PrivacyTelemetry
{
    private static readonly Meter Meter = new(TelemetryNames.Privacy);

    public static readonly Counter<long> KeyCacheHits = Meter.CreateCounter<long>(PrivacyMetricNames.KeyCacheHits, "{lookup}", "Key lookups answered by the cache.");

    public static readonly Counter<long> KeyCacheMisses = Meter.CreateCounter<long>(PrivacyMetricNames.KeyCacheMisses, "{lookup}", "Key lookups that read the key store.");

    public static readonly Counter<long> MasterKeyCalls = Meter.CreateCounter<long>(PrivacyMetricNames.MasterKeyCalls, "{call}", "Master-key calls (KMS or local).");

    public static ActivitySource Source => CloudActivitySources.Privacy;

    public static void CountMasterKeyCall(string provider, string operation) =>
        MasterKeyCalls.Add(1, new KeyValuePair<string, object?>(TelemetryTags.Provider, provider), new KeyValuePair<string, object?>(TelemetryTags.Operation, operation));
}
