using Cloud.Telemetry;

namespace Cloud.EventSourceMapping;

/// <summary>
/// Names of the runner's instruments on the <see cref="MeterName"/> meter (docs/observability.md has units and tags).
/// Every measurement carries <c>stream</c>, except <see cref="MillisBehindLatest"/> which carries <c>shard</c> only.
/// </summary>
public static class EventSourceMappingMetricNames
{
    /// <summary>Meter name.</summary>
    public const string MeterName = TelemetryNames.EventSourceMapping;

    /// <summary>Function invocations; tag <c>outcome</c> (ok | error).</summary>
    public const string Invocations = "cloud.eventsourcemapping.invocations";

    /// <summary>Function invocation duration, ms.</summary>
    public const string InvokeDuration = "cloud.eventsourcemapping.invoke.duration";

    /// <summary>Kinesis records checkpointed after a successful invoke.</summary>
    public const string RecordsProcessed = "cloud.eventsourcemapping.records_processed";

    /// <summary>Kinesis records discarded (retries exhausted or too old).</summary>
    public const string RecordsDiscarded = "cloud.eventsourcemapping.records_discarded";

    /// <summary>On-failure records written.</summary>
    public const string OnFailureRecords = "cloud.eventsourcemapping.on_failure_records";

    /// <summary>Tumbling windows closed.</summary>
    public const string WindowsClosed = "cloud.eventsourcemapping.windows_closed";

    /// <summary>Iterator age per shard (tag <c>shard</c> only), ms.</summary>
    public const string MillisBehindLatest = "cloud.eventsourcemapping.millis_behind_latest";
}
