namespace Cloud.Sizing;

/// <summary>
/// Per-shard limits of Kinesis Data Streams used by the calculator
/// (https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html).
/// </summary>
public static class ShardLimits
{
    /// <summary>Write bandwidth per shard: 1 MiB/s (partition keys count).</summary>
    public const double WriteBytesPerSecond = 1024 * 1024;

    /// <summary>Write records per shard: 1,000 Kinesis records/s (an aggregate counts as one).</summary>
    public const double WriteRecordsPerSecond = 1000;

    /// <summary>Read bandwidth per shard shared by all polling (non-EFO) consumers: 2 MiB/s.</summary>
    public const double SharedReadBytesPerSecond = 2 * 1024 * 1024;

    /// <summary>Largest Kinesis record by default: 1 MiB.</summary>
    public const double MaxRecordBytes = 1024 * 1024;

    /// <summary>Largest record size a stream can be configured for: 10 MiB.</summary>
    public const double MaxConfigurableRecordBytes = 10 * 1024 * 1024;

    /// <summary>Enhanced fan-out consumers per stream: 20.</summary>
    public const int MaxEnhancedFanOutConsumers = 20;

    /// <summary>Minimum retention: 24 hours.</summary>
    public const int MinRetentionHours = 24;

    /// <summary>Retention covered by "extended retention" pricing: up to 7 days.</summary>
    public const int ExtendedRetentionMaxHours = 168;

    /// <summary>Maximum retention: 365 days.</summary>
    public const int MaxRetentionHours = 8760;
}
