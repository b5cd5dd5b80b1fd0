namespace Cloud.Sizing;

/// <summary>A limit that can decide the shard count.</summary>
public enum SizingConstraint
{
    /// <summary>Write bandwidth: 1 MiB/s per shard.</summary>
    WriteBytes,

    /// <summary>Write records: 1,000 Kinesis records/s per shard.</summary>
    WriteRecords,

    /// <summary>Read bandwidth shared by polling consumers: 2 MiB/s per shard.</summary>
    SharedRead,

    /// <summary>Slowest consumer's processing speed (records/s per shard) against the peak rate.</summary>
    ConsumerSpeed,

    /// <summary>Draining a surge within a consumer's maximum latency.</summary>
    SurgeDrain,
}

/// <summary>Capacity mode of a stream.</summary>
public enum CapacityMode
{
    /// <summary>Fixed shard count, billed per shard-hour and PUT payload unit.</summary>
    Provisioned,

    /// <summary>Scales by itself, billed per stream-hour and per GB.</summary>
    OnDemand,
}

/// <summary>What one constraint needs and how much room the chosen shard count leaves.</summary>
/// <param name="Constraint">The limit.</param>
/// <param name="RequiredShards">Shards the constraint needs, before rounding up.</param>
/// <param name="MinimumShards">Whole shards the constraint needs (at least 1 when it applies, 0 when it does not).</param>
/// <param name="Utilization">Fraction of the constraint's capacity used at the chosen shard count (RequiredShards ÷ Shards).</param>
/// <param name="Headroom">1 − Utilization: the fraction of that capacity still free.</param>
/// <param name="Detail">The numbers behind it, in words.</param>
public sealed record ConstraintResult(
    SizingConstraint Constraint,
    double RequiredShards,
    int MinimumShards,
    double Utilization,
    double Headroom,
    string Detail);

/// <summary>Derived rates the constraints are computed from.</summary>
/// <param name="PeakWriteRecordsPerSecond">User records/s the stream must accept (max of peak and surge).</param>
/// <param name="PeakKinesisRecordsPerSecond">Kinesis records/s after aggregation.</param>
/// <param name="PeakWriteBytesPerSecond">Bytes/s written after aggregation and compression.</param>
/// <param name="AverageKinesisRecordsPerSecond">Average Kinesis records/s (for cost).</param>
/// <param name="AverageWriteBytesPerSecond">Average bytes/s written (for cost).</param>
/// <param name="KinesisRecordBytes">Average Kinesis record size (aggregate) in bytes.</param>
public sealed record ThroughputSummary(
    double PeakWriteRecordsPerSecond,
    double PeakKinesisRecordsPerSecond,
    double PeakWriteBytesPerSecond,
    double AverageKinesisRecordsPerSecond,
    double AverageWriteBytesPerSecond,
    double KinesisRecordBytes);

/// <summary>One billed item of a monthly estimate.</summary>
/// <param name="Item">What is billed, e.g. "shard-hours".</param>
/// <param name="Quantity">Units per month.</param>
/// <param name="Unit">The unit the price is for, e.g. "shard-hour", "million PUT payload units", "GB".</param>
/// <param name="UnitPrice">USD per unit.</param>
/// <param name="Monthly">USD per month.</param>
public sealed record CostLine(string Item, double Quantity, string Unit, decimal UnitPrice, decimal Monthly);

/// <summary>A monthly cost estimate for one capacity mode.</summary>
/// <param name="Mode">Provisioned or on-demand.</param>
/// <param name="Lines">Billed items.</param>
/// <param name="MonthlyTotal">Sum of the lines, USD per month (rounded to cents).</param>
public sealed record CostEstimate(CapacityMode Mode, IReadOnlyList<CostLine> Lines, decimal MonthlyTotal);

/// <summary>Provisioned versus on-demand for the same workload.</summary>
/// <param name="Provisioned">Cost with the calculated shard count.</param>
/// <param name="OnDemand">Cost in on-demand mode.</param>
/// <param name="Prices">The price table used.</param>
public sealed record CostComparison(CostEstimate Provisioned, CostEstimate OnDemand, PriceTable Prices)
{
    /// <summary>The cheaper mode (provisioned on a tie).</summary>
    public CapacityMode Cheaper => OnDemand.MonthlyTotal < Provisioned.MonthlyTotal ? CapacityMode.OnDemand : CapacityMode.Provisioned;
}

/// <summary>The calculator's answer.</summary>
/// <param name="Shards">Shards to provision (at least 1).</param>
/// <param name="DecidingConstraint">The constraint that needs the most shards.</param>
/// <param name="Constraints">Every constraint with its requirement and headroom, in <see cref="SizingConstraint"/> order.</param>
/// <param name="Throughput">Derived rates.</param>
/// <param name="Cost">Monthly cost, provisioned versus on-demand.</param>
public sealed record ShardEstimate(
    int Shards,
    SizingConstraint DecidingConstraint,
    IReadOnlyList<ConstraintResult> Constraints,
    ThroughputSummary Throughput,
    CostComparison Cost);
