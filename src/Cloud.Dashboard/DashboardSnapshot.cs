using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cloud.Dashboard;

/// <summary>
/// What the pipeline shows at one instant: the one snapshot type every view renders (terminal, JSON, web).
/// Rates are per second over the sampler's last interval. It must carry no personal data beyond what the
/// pipeline's own table views show on this machine (the page is served on 127.0.0.1 only).
/// </summary>
public sealed record DashboardSnapshot
{
    /// <summary>When the sample was taken.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>Stream being shown.</summary>
    public string? Stream { get; init; }

    /// <summary>User records produced per second.</summary>
    public double RecordsInPerSecond { get; init; }

    /// <summary>User records consumed (handled by the function) per second.</summary>
    public double RecordsOutPerSecond { get; init; }

    /// <summary>Kinesis records throttled per second (ProvisionedThroughputExceeded).</summary>
    public double ThrottlesPerSecond { get; init; }

    /// <summary>Kinesis records retried per second.</summary>
    public double RetriesPerSecond { get; init; }

    /// <summary>Per-shard balance and lag.</summary>
    public IReadOnlyList<DashboardShard> Shards { get; init; } = [];

    /// <summary>Window aggregates as the pipeline's table shows them.</summary>
    public DashboardTable? Windows { get; init; }

    /// <summary>State of the forget (crypto-shredding) demo.</summary>
    public DashboardForget? Forget { get; init; }

    /// <summary>Schema in use.</summary>
    public DashboardSchema? Schema { get; init; }

    /// <summary>One line of status (phase, warnings).</summary>
    public string? Status { get; init; }

    /// <summary>Running totals of a pipeline run (null when the source sees only the stream).</summary>
    public DashboardTotals? Totals { get; init; }
}

/// <summary>Running totals of a pipeline run since it started.</summary>
/// <param name="Produced">User records handed to the producer.</param>
/// <param name="Durable">User records the stream acknowledged.</param>
/// <param name="DeliveryFailures">User records the producer gave up on.</param>
/// <param name="Refused">Records refused because their user was forgotten.</param>
/// <param name="Processed">Kinesis records the consumer checkpointed.</param>
/// <param name="WindowsClosed">Tumbling windows closed.</param>
/// <param name="OnFailure">Records sent to the on-failure destination.</param>
public sealed record DashboardTotals(long Produced, long Durable, long DeliveryFailures, long Refused, long Processed, long WindowsClosed, long OnFailure)
{
    /// <summary>Kinesis records refused with ProvisionedThroughputExceeded by the enforced limits (null: limits not enforced).</summary>
    public long? ThrottledRecords { get; init; }

    /// <summary>GetRecords calls refused by the enforced 5-per-second read limit (null: limits not enforced).</summary>
    public long? ThrottledReads { get; init; }
}

/// <summary>One shard's share of the load and its consumer's lag.</summary>
/// <param name="ShardId">Shard id.</param>
/// <param name="RecordsPerSecond">User records per second written to the shard.</param>
/// <param name="MillisBehindLatest">Consumer iterator age: how far behind the tip, in ms.</param>
public sealed record DashboardShard(string ShardId, double RecordsPerSecond, long MillisBehindLatest)
{
    /// <summary>User records written to the shard since the run started (null when unknown).</summary>
    public long? Records { get; init; }

    /// <summary>Records the consumer still has to read on the shard (null when unknown).</summary>
    public long? RecordsBehind { get; init; }

    /// <summary>Whether the consumer's lag is known (false: <see cref="MillisBehindLatest"/> is a placeholder 0).</summary>
    public bool LagKnown { get; init; } = true;
}

/// <summary>A table: column names and rows of cell texts.</summary>
/// <param name="Columns">Column headers.</param>
/// <param name="Rows">Rows, each as many cells as <paramref name="Columns"/>.</param>
public sealed record DashboardTable(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows);

/// <summary>Forget demo state.</summary>
/// <param name="State">Phase: e.g. idle, requested, forgotten.</param>
/// <param name="Detail">What happened (no user id: say "the demo user").</param>
public sealed record DashboardForget(string State, string? Detail)
{
    /// <summary>The demo user's latest record as the consumer decrypts it (redacted once the user is forgotten).</summary>
    public string? Record { get; init; }
}

/// <summary>The schema the pipeline reads and writes.</summary>
/// <param name="Name">Schema name.</param>
/// <param name="Format">Format (e.g. json, avro, protobuf).</param>
/// <param name="Definition">The definition as text.</param>
public sealed record DashboardSchema(string Name, string Format, string Definition)
{
    /// <summary>One-line label (name, version, format, id) as the terminal view shows it.</summary>
    public string? Label { get; init; }
}

/// <summary>Source-generated JSON (camelCase) of the snapshot, as sent to the page.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DashboardSnapshot))]
[JsonSerializable(typeof(DashboardError))]
public sealed partial class DashboardJsonContext : JsonSerializerContext;

/// <summary>Sent as an <c>error</c> event when the source fails: the type of the failure, never its data.</summary>
/// <param name="Error">Exception type name.</param>
public sealed record DashboardError(string Error);
