namespace Cloud.Sizing;

/// <summary>How a consumer reads the stream.</summary>
public enum ConsumerMode
{
    /// <summary>Polling consumer (GetRecords, Lambda ESM without EFO): shares 2 MiB/s per shard with the other polling consumers.</summary>
    SharedThroughput,

    /// <summary>Enhanced fan-out: its own 2 MiB/s per shard, pushed over SubscribeToShard.</summary>
    EnhancedFanOut,
}

/// <summary>One application reading the stream.</summary>
/// <param name="Name">Label used in results and error messages.</param>
/// <param name="Mode">Shared-throughput (polling) or enhanced fan-out.</param>
/// <param name="ProcessingRecordsPerSecondPerShard">How many user records per second one worker of this consumer
/// processes from one shard (measured; e.g. from the consumer benchmark).</param>
/// <param name="MaxLatencySeconds">Largest acceptable delay between a record's arrival and its processing; used for
/// the surge-drain term.</param>
public sealed record ConsumerProfile(
    string Name,
    ConsumerMode Mode,
    double ProcessingRecordsPerSecondPerShard,
    double MaxLatencySeconds);

/// <summary>
/// What the stream must carry. Rates count user records (what the application produces);
/// <see cref="AggregationRatio"/> and <see cref="CompressionRatio"/> say how they become Kinesis records.
/// </summary>
public sealed record WorkloadProfile
{
    /// <summary>Largest rate accepted for any records/s input (keeps cost arithmetic in range).</summary>
    public const double MaxRecordsPerSecond = 1e9;

    /// <summary>Largest duration accepted for surge duration and latency (one year).</summary>
    public const double MaxSeconds = 365d * 24 * 3600;

    /// <summary>Average user records per second over the day (drives cost).</summary>
    public required double AverageRecordsPerSecond { get; init; }

    /// <summary>Peak user records per second outside surges (drives capacity).</summary>
    public required double PeakRecordsPerSecond { get; init; }

    /// <summary>Average user record size in bytes: data plus partition key, before aggregation and compression.</summary>
    public required double AverageRecordBytes { get; init; }

    /// <summary>User records per second during a surge; 0 means no surge.
    /// <value>The default value is 0 (no surge).</value></summary>
    public double SurgeRecordsPerSecond { get; init; }

    /// <summary>How long a surge lasts, in seconds (required when <see cref="SurgeRecordsPerSecond"/> is set).
    /// <value>The default value is 0.</value></summary>
    public double SurgeDurationSeconds { get; init; }

    /// <summary>Applications reading the stream.
    /// <value>The default value is no consumers.</value></summary>
    public IReadOnlyList<ConsumerProfile> Consumers { get; init; } = [];

    /// <summary>Retention period in hours (24–8,760).
    /// <value>The default value is 24 hours.</value></summary>
    public int RetentionHours { get; init; } = ShardLimits.MinRetentionHours;

    /// <summary>User records per Kinesis record (KPL aggregation); 1 means not aggregated.
    /// <value>The default value is 1.</value></summary>
    public double AggregationRatio { get; init; } = 1;

    /// <summary>Largest KPL aggregate the producer builds (its <c>AggregationMaxSize</c>): it bounds the reachable
    /// <see cref="AggregationRatio"/>. <value>The default value is 51,200 bytes, the KPL's default.</value></summary>
    public int MaxAggregateBytes { get; init; } = Cloud.Records.KplFormat.DefaultMaxAggregateSize;

    /// <summary>
    /// The most user records of <paramref name="averageRecordBytes"/> bytes one aggregate of
    /// <paramref name="maxAggregateBytes"/> can hold: magic, MD5 and a one-byte partition key table take 23 bytes, each
    /// record its data plus its protobuf framing (data tag and length, key index, record tag and length). Records
    /// with distinct keys fit fewer; this is the upper bound.
    /// </summary>
    public static int MaxReachableAggregationRatio(double averageRecordBytes, int maxAggregateBytes)
    {
        long data = (long)Math.Ceiling(Math.Max(0, averageRecordBytes));
        long body = 2 + 1 + VarintSize(data) + data;            // partition_key_index (tag, value 0) + data (tag, length, bytes)
        long perRecord = 1 + VarintSize(body) + body;            // records field: tag, length, body
        long room = maxAggregateBytes - 4 - 16 - 3;              // magic, MD5, partition_key_table with one 1-byte key
        return room < perRecord ? 0 : (int)Math.Min(int.MaxValue, room / perRecord);
    }

    private static int VarintSize(long value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }
        return n;
    }

    /// <summary>User bytes ÷ bytes written to Kinesis (compression, net of aggregation framing); 1 means unchanged,
    /// 4 means a quarter of the bytes reach the stream.
    /// <value>The default value is 1.</value></summary>
    public double CompressionRatio { get; init; } = 1;

    /// <summary>Returns a copy whose ratios and average record size come from a measured sample.</summary>
    public WorkloadProfile WithMeasurement(RecordSampleMeasurement measurement)
    {
        ArgumentNullException.ThrowIfNull(measurement);
        return this with
        {
            AverageRecordBytes = measurement.AverageUserRecordBytes,
            AggregationRatio = measurement.AggregationRatio,
            CompressionRatio = measurement.CompressionRatio,
        };
    }

    /// <summary>Checks every field and throws <see cref="SizingValidationException"/> listing all problems.</summary>
    public void Validate()
    {
        var p = new ProblemList();
        p.Number(nameof(AverageRecordsPerSecond), AverageRecordsPerSecond, 0, MaxRecordsPerSecond, minExclusive: true, unit: "records/s");
        if (p.Number(nameof(PeakRecordsPerSecond), PeakRecordsPerSecond, 0, MaxRecordsPerSecond, minExclusive: true, unit: "records/s")
            && double.IsFinite(AverageRecordsPerSecond) && PeakRecordsPerSecond < AverageRecordsPerSecond)
        {
            p.Add(nameof(PeakRecordsPerSecond), $"must be at least {nameof(AverageRecordsPerSecond)} ({ProblemList.Fmt(AverageRecordsPerSecond)}), got {ProblemList.Fmt(PeakRecordsPerSecond)}.");
        }

        p.Number(nameof(AverageRecordBytes), AverageRecordBytes, 0, ShardLimits.MaxConfigurableRecordBytes, minExclusive: true, unit: "bytes");

        if (p.Number(nameof(SurgeRecordsPerSecond), SurgeRecordsPerSecond, 0, MaxRecordsPerSecond, unit: "records/s") && SurgeRecordsPerSecond > 0)
        {
            if (double.IsFinite(PeakRecordsPerSecond) && SurgeRecordsPerSecond < PeakRecordsPerSecond)
            {
                p.Add(nameof(SurgeRecordsPerSecond), $"must be 0 (no surge) or at least {nameof(PeakRecordsPerSecond)} ({ProblemList.Fmt(PeakRecordsPerSecond)}), got {ProblemList.Fmt(SurgeRecordsPerSecond)}.");
            }

            p.Number(nameof(SurgeDurationSeconds), SurgeDurationSeconds, 0, MaxSeconds, minExclusive: true, unit: "s");
        }
        else
        {
            p.Number(nameof(SurgeDurationSeconds), SurgeDurationSeconds, 0, MaxSeconds, unit: "s");
        }

        if (RetentionHours < ShardLimits.MinRetentionHours || RetentionHours > ShardLimits.MaxRetentionHours)
        {
            p.Add(nameof(RetentionHours), $"must be between {ShardLimits.MinRetentionHours} and {ShardLimits.MaxRetentionHours} hours, got {RetentionHours}.");
        }

        var aggOk = p.Number(nameof(AggregationRatio), AggregationRatio, 1, 1_000_000, unit: "user records per Kinesis record");
        var compOk = p.Number(nameof(CompressionRatio), CompressionRatio, 0, 10_000, minExclusive: true);
        if (MaxAggregateBytes < 64 || MaxAggregateBytes > ShardLimits.MaxConfigurableRecordBytes)
        {
            p.Add(nameof(MaxAggregateBytes), $"must be between 64 and {ProblemList.Fmt(ShardLimits.MaxConfigurableRecordBytes)} bytes, got {MaxAggregateBytes}.");
        }
        if (aggOk && compOk && double.IsFinite(AverageRecordBytes) && AverageRecordBytes > 0)
        {
            var kinesisRecordBytes = AggregationRatio * AverageRecordBytes / CompressionRatio;
            if (kinesisRecordBytes > ShardLimits.MaxConfigurableRecordBytes)
            {
                p.Add(nameof(AggregationRatio), $"gives Kinesis records of {ProblemList.Fmt(kinesisRecordBytes)} bytes ({nameof(AggregationRatio)} × {nameof(AverageRecordBytes)} ÷ {nameof(CompressionRatio)}), over the 10 MiB record limit.");
            }
            else if (AggregationRatio > 1 && MaxAggregateBytes > 0
                && AggregationRatio > Math.Max(1, MaxReachableAggregationRatio(AverageRecordBytes, MaxAggregateBytes)))
            {
                p.Add(nameof(AggregationRatio), $"is {ProblemList.Fmt(AggregationRatio)}, but a {ProblemList.Fmt(MaxAggregateBytes)}-byte aggregate ({nameof(MaxAggregateBytes)}) holds at most {MaxReachableAggregationRatio(AverageRecordBytes, MaxAggregateBytes)} records of {ProblemList.Fmt(AverageRecordBytes)} bytes: the producer cannot reach it.");
            }
        }

        if (Consumers is null)
        {
            p.Add(nameof(Consumers), "must be a list (empty for no consumers), got null.");
        }
        else
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            var efo = 0;
            for (var i = 0; i < Consumers.Count; i++)
            {
                var c = Consumers[i];
                var f = $"{nameof(Consumers)}[{i}]";
                if (c is null)
                {
                    p.Add(f, "must not be null.");
                    continue;
                }

                if (string.IsNullOrWhiteSpace(c.Name))
                {
                    p.Add(f + "." + nameof(ConsumerProfile.Name), "must not be empty.");
                }
                else if (!names.Add(c.Name))
                {
                    p.Add(f + "." + nameof(ConsumerProfile.Name), $"'{c.Name}' is used by more than one consumer.");
                }

                if (!Enum.IsDefined(c.Mode))
                {
                    p.Add(f + "." + nameof(ConsumerProfile.Mode), $"must be {nameof(ConsumerMode.SharedThroughput)} or {nameof(ConsumerMode.EnhancedFanOut)}, got {(int)c.Mode}.");
                }
                else if (c.Mode == ConsumerMode.EnhancedFanOut)
                {
                    efo++;
                }

                p.Number(f + "." + nameof(ConsumerProfile.ProcessingRecordsPerSecondPerShard), c.ProcessingRecordsPerSecondPerShard, 0, double.PositiveInfinity, minExclusive: true, unit: "records/s per shard");
                p.Number(f + "." + nameof(ConsumerProfile.MaxLatencySeconds), c.MaxLatencySeconds, 0, MaxSeconds, minExclusive: true, unit: "s");
            }

            if (efo > ShardLimits.MaxEnhancedFanOutConsumers)
            {
                p.Add(nameof(Consumers), $"has {efo} enhanced fan-out consumers; a stream allows at most {ShardLimits.MaxEnhancedFanOutConsumers}.");
            }
        }

        p.ThrowIfAny();
    }
}
