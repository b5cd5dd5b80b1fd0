using System.Globalization;

namespace Cloud.Sizing;

/// <summary>
/// Sizes a provisioned Kinesis data stream: the AWS formula (write bandwidth, write records, shared read)
/// plus per-consumer processing speed and surge drain, with a monthly cost for provisioned and on-demand modes.
/// https://docs.aws.amazon.com/streams/latest/dev/amazon-kinesis-streams.html#how-do-i-size-a-stream
/// </summary>
public sealed class ShardCalculator
{
    /// <summary>Largest shard count the calculator answers with (beyond it the input is rejected).</summary>
    public const int MaxShards = 1_000_000;

    private const double Epsilon = 1e-9;
    private const double PutPayloadUnitBytes = 25 * 1024;
    private const double OnDemandBillingUnitBytes = 1024;
    private const double BytesPerGb = 1024d * 1024 * 1024;

    /// <summary>Creates a calculator using the given prices.</summary>
    /// <param name="prices">Price table; <see langword="null"/> uses <see cref="PriceTable.UsEast1"/>.</param>
    public ShardCalculator(PriceTable? prices = null)
    {
        Prices = prices ?? PriceTable.UsEast1;
        Prices.Validate();
    }

    /// <summary>The price table used for cost estimates.</summary>
    public PriceTable Prices { get; }

    /// <summary>Calculates the shard count, the deciding constraint, headroom and monthly cost.</summary>
    /// <exception cref="SizingValidationException">The workload has invalid inputs (all are listed).</exception>
    public ShardEstimate Calculate(WorkloadProfile workload)
    {
        ArgumentNullException.ThrowIfNull(workload);
        workload.Validate();

        var bytesPerUserRecord = workload.AverageRecordBytes / workload.CompressionRatio;
        var hasSurge = workload.SurgeRecordsPerSecond > 0;
        var throughput = Throughput(workload);
        var writeRate = throughput.PeakWriteRecordsPerSecond;

        var shared = workload.Consumers.Where(c => c.Mode == ConsumerMode.SharedThroughput).ToArray();
        var required = new (SizingConstraint Constraint, double Shards, string Detail)[5];

        required[0] = (SizingConstraint.WriteBytes, throughput.PeakWriteBytesPerSecond / ShardLimits.WriteBytesPerSecond,
            Invariant($"{throughput.PeakWriteBytesPerSecond:0.##} B/s written ÷ 1 MiB/s per shard"));

        required[1] = (SizingConstraint.WriteRecords, throughput.PeakKinesisRecordsPerSecond / ShardLimits.WriteRecordsPerSecond,
            Invariant($"{throughput.PeakKinesisRecordsPerSecond:0.##} Kinesis records/s ({writeRate:0.##} user records/s ÷ aggregation {workload.AggregationRatio:0.###}) ÷ 1,000 per shard"));

        var peakReadBytes = workload.PeakRecordsPerSecond * bytesPerUserRecord * shared.Length;
        required[2] = (SizingConstraint.SharedRead, peakReadBytes / ShardLimits.SharedReadBytesPerSecond,
            Invariant($"{workload.PeakRecordsPerSecond * bytesPerUserRecord:0.##} B/s × {shared.Length} shared-throughput consumer(s) ÷ 2 MiB/s per shard"));

        var speed = (Shards: 0d, Detail: "no consumers");
        var drain = (Shards: 0d, Detail: hasSurge ? "no consumers" : "no surge");
        foreach (var c in workload.Consumers)
        {
            var s = workload.PeakRecordsPerSecond / c.ProcessingRecordsPerSecondPerShard;
            if (s > speed.Shards || speed.Detail == "no consumers")
            {
                speed = (s, Invariant($"{workload.PeakRecordsPerSecond:0.##} records/s ÷ {c.ProcessingRecordsPerSecondPerShard:0.##} records/s per shard ('{c.Name}')"));
            }

            if (hasSurge)
            {
                // Records arriving during the surge plus those arriving while the backlog drains must be processed
                // within duration + latency (Comcast calculator, re:Invent 2018 ANT333).
                var d = workload.SurgeDurationSeconds;
                var l = c.MaxLatencySeconds;
                var backlog = workload.SurgeRecordsPerSecond * d + workload.PeakRecordsPerSecond * l;
                var records = backlog / (c.ProcessingRecordsPerSecondPerShard * (d + l));
                var bandwidth = c.Mode == ConsumerMode.SharedThroughput
                    ? bytesPerUserRecord * shared.Length * backlog / (ShardLimits.SharedReadBytesPerSecond * (d + l))
                    : 0;
                var s2 = Math.Max(records, bandwidth);
                if (s2 > drain.Shards || drain.Detail == "no consumers")
                {
                    drain = (s2, records >= bandwidth
                        ? Invariant($"({workload.SurgeRecordsPerSecond:0.##} × {d:0.##} s + {workload.PeakRecordsPerSecond:0.##} × {l:0.##} s) ÷ ({c.ProcessingRecordsPerSecondPerShard:0.##} records/s per shard × {d + l:0.##} s) ('{c.Name}')")
                        : Invariant($"{bytesPerUserRecord:0.##} B × {shared.Length} shared consumer(s) × backlog {backlog:0.##} records ÷ (2 MiB/s × {d + l:0.##} s) ('{c.Name}')"));
                }
            }
        }

        required[3] = (SizingConstraint.ConsumerSpeed, speed.Shards, speed.Detail);
        required[4] = (SizingConstraint.SurgeDrain, drain.Shards, drain.Detail);

        var decidingIndex = 0;
        for (var i = 1; i < required.Length; i++)
        {
            if (required[i].Shards > required[decidingIndex].Shards)
            {
                decidingIndex = i;
            }
        }

        var maxRequired = required[decidingIndex].Shards;
        if (!(maxRequired <= MaxShards))
        {
            throw new SizingValidationException([new SizingProblem(
                required[decidingIndex].Constraint.ToString(),
                Invariant($"needs {maxRequired:0.##} shards, more than the {MaxShards:N0} this calculator answers for; check the rates and consumer speeds."))]);
        }

        var shards = Math.Max(1, WholeShards(maxRequired));
        var results = required
            .Select(r => new ConstraintResult(
                r.Constraint,
                r.Shards,
                r.Shards > 0 ? Math.Max(1, WholeShards(r.Shards)) : 0,
                r.Shards / shards,
                1 - (r.Shards / shards),
                r.Detail))
            .ToArray();

        var cost = new CostComparison(ProvisionedCost(workload, throughput, shards), OnDemandCost(workload, throughput), Prices);
        return new ShardEstimate(shards, required[decidingIndex].Constraint, results, throughput, cost);
    }

    /// <summary>Monthly cost of a provisioned stream with <paramref name="shards"/> shards for this workload.</summary>
    public CostEstimate ProvisionedCost(WorkloadProfile workload, int shards)
    {
        ArgumentNullException.ThrowIfNull(workload);
        workload.Validate();
        if (shards is < 1 or > MaxShards)
        {
            throw new SizingValidationException([new SizingProblem(nameof(shards), Invariant($"must be between 1 and {MaxShards}, got {shards}."))]);
        }

        return ProvisionedCost(workload, Throughput(workload), shards);
    }

    private static ThroughputSummary Throughput(WorkloadProfile w)
    {
        var bytesPerUserRecord = w.AverageRecordBytes / w.CompressionRatio;
        var writeRate = Math.Max(w.PeakRecordsPerSecond, w.SurgeRecordsPerSecond);
        return new ThroughputSummary(
            PeakWriteRecordsPerSecond: writeRate,
            PeakKinesisRecordsPerSecond: writeRate / w.AggregationRatio,
            PeakWriteBytesPerSecond: writeRate * bytesPerUserRecord,
            AverageKinesisRecordsPerSecond: w.AverageRecordsPerSecond / w.AggregationRatio,
            AverageWriteBytesPerSecond: w.AverageRecordsPerSecond * bytesPerUserRecord,
            KinesisRecordBytes: w.AggregationRatio * bytesPerUserRecord);
    }

    private CostEstimate ProvisionedCost(WorkloadProfile w, ThroughputSummary t, int shards)
    {
        var p = Prices;
        double hours = p.HoursPerMonth;
        var seconds = hours * 3600;
        var lines = new List<CostLine>
        {
            Line("shard-hours", shards * hours, "shard-hour", p.ShardHour),
        };

        var unitsPerRecord = Math.Ceiling(t.KinesisRecordBytes / PutPayloadUnitBytes);
        lines.Add(Line("PUT payload units (25 KiB each)", t.AverageKinesisRecordsPerSecond * unitsPerRecord * seconds / 1e6, "million units", p.PutPayloadUnitsPerMillion));

        if (w.RetentionHours > ShardLimits.MinRetentionHours)
        {
            lines.Add(Line("extended retention (up to 7 days)", shards * hours, "shard-hour", p.ExtendedRetentionShardHour));
        }

        AddLongTermRetention(w, t.AverageWriteBytesPerSecond, lines);

        var efo = w.Consumers.Count(c => c.Mode == ConsumerMode.EnhancedFanOut);
        if (efo > 0)
        {
            lines.Add(Line("enhanced fan-out consumer-shard-hours", efo * shards * hours, "consumer-shard-hour", p.EnhancedFanOutConsumerShardHour));
            lines.Add(Line("enhanced fan-out data retrieved", efo * t.AverageWriteBytesPerSecond * seconds / BytesPerGb, "GB", p.EnhancedFanOutRetrievalPerGb));
        }

        return Total(CapacityMode.Provisioned, lines);
    }

    private CostEstimate OnDemandCost(WorkloadProfile w, ThroughputSummary t)
    {
        var p = Prices;
        double hours = p.HoursPerMonth;
        var seconds = hours * 3600;
        // On-demand bills each record rounded up to the next 1 KiB.
        var billedBytesPerRecord = Math.Ceiling(t.KinesisRecordBytes / OnDemandBillingUnitBytes) * OnDemandBillingUnitBytes;
        var billedGb = t.AverageKinesisRecordsPerSecond * billedBytesPerRecord * seconds / BytesPerGb;
        var lines = new List<CostLine>
        {
            Line("stream-hours", hours, "stream-hour", p.OnDemandStreamHour),
            Line("data written (records rounded up to 1 KiB)", billedGb, "GB", p.OnDemandDataInPerGb),
        };

        var shared = w.Consumers.Count(c => c.Mode == ConsumerMode.SharedThroughput);
        if (shared > 0)
        {
            lines.Add(Line("data read by shared-throughput consumers", shared * billedGb, "GB", p.OnDemandDataOutPerGb));
        }

        var efo = w.Consumers.Count(c => c.Mode == ConsumerMode.EnhancedFanOut);
        if (efo > 0)
        {
            lines.Add(Line("enhanced fan-out data retrieved", efo * billedGb, "GB", p.OnDemandEnhancedFanOutRetrievalPerGb));
        }

        if (w.RetentionHours > ShardLimits.MinRetentionHours)
        {
            var extendedHours = Math.Min(w.RetentionHours, ShardLimits.ExtendedRetentionMaxHours) - ShardLimits.MinRetentionHours;
            var storedGb = t.AverageKinesisRecordsPerSecond * billedBytesPerRecord * extendedHours * 3600 / BytesPerGb;
            lines.Add(Line("extended retention storage (up to 7 days)", storedGb, "GB-month", p.OnDemandExtendedRetentionPerGbMonth));
        }

        AddLongTermRetention(w, t.AverageWriteBytesPerSecond, lines);
        return Total(CapacityMode.OnDemand, lines);
    }

    private void AddLongTermRetention(WorkloadProfile w, double writeBytesPerSecond, List<CostLine> lines)
    {
        if (w.RetentionHours > ShardLimits.ExtendedRetentionMaxHours)
        {
            var storedGb = writeBytesPerSecond * (w.RetentionHours - ShardLimits.ExtendedRetentionMaxHours) * 3600 / BytesPerGb;
            lines.Add(Line("long-term retention storage (beyond 7 days)", storedGb, "GB-month", Prices.LongTermRetentionPerGbMonth));
        }
    }

    private static CostLine Line(string item, double quantity, string unit, decimal unitPrice)
        => new(item, quantity, unit, unitPrice, Math.Round((decimal)quantity * unitPrice, 4, MidpointRounding.AwayFromZero));

    private static CostEstimate Total(CapacityMode mode, List<CostLine> lines)
        => new(mode, lines, Math.Round(lines.Sum(l => l.Monthly), 2, MidpointRounding.AwayFromZero));

    // A tolerance keeps 2.0000000000004 (floating-point noise from exact inputs) at 2 shards.
    private static int WholeShards(double required)
        => required <= 0 ? 0 : (int)Math.Min(int.MaxValue, Math.Ceiling(required - Epsilon));

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
