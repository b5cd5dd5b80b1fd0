namespace Cloud.Sizing.Tests;

public class ShardCalculatorTests
{
    private static readonly ShardCalculator Calculator = new();

    private static WorkloadProfile Workload(double peak, double bytes, double? average = null) => new()
    {
        AverageRecordsPerSecond = average ?? peak,
        PeakRecordsPerSecond = peak,
        AverageRecordBytes = bytes,
    };

    [Fact]
    public void Aws_formula_write_bandwidth_decides_when_one_consumer()
    {
        // AWS sizing formula: ceil(max(write_KiB/s ÷ 1024, write_KiB/s × consumers ÷ 2048)).
        // 3,000 records/s × 2 KiB = 6,000 KiB/s → 5.86 → 6 shards for writes; 1 consumer reads 2.93 → 3.
        var w = Workload(3000, 2048) with
        {
            AggregationRatio = 10,
            Consumers = [new ConsumerProfile("app", ConsumerMode.SharedThroughput, 1_000_000, 60)],
        };

        var r = Calculator.Calculate(w);

        Assert.Equal(6, r.Shards);
        Assert.Equal(SizingConstraint.WriteBytes, r.DecidingConstraint);
        Assert.Equal(6000.0 / 1024, Get(r, SizingConstraint.WriteBytes).RequiredShards, 9);
        Assert.Equal(6000.0 / 2048, Get(r, SizingConstraint.SharedRead).RequiredShards, 9);
    }

    [Fact]
    public void Aws_formula_shared_read_decides_with_three_consumers()
    {
        // 1,000 records/s × 2 KiB = 2,000 KiB/s: writes need 1.95 → 2; three polling consumers read
        // 6,000 KiB/s ÷ 2,048 = 2.93 → 3 shards.
        var consumers = Enumerable.Range(1, 3)
            .Select(i => new ConsumerProfile($"c{i}", ConsumerMode.SharedThroughput, 1_000_000, 60))
            .ToArray();
        var r = Calculator.Calculate(Workload(1000, 2048) with { Consumers = consumers });

        Assert.Equal(3, r.Shards);
        Assert.Equal(SizingConstraint.SharedRead, r.DecidingConstraint);
        Assert.Equal(2, Get(r, SizingConstraint.WriteBytes).MinimumShards);
        Assert.Equal(3, Get(r, SizingConstraint.SharedRead).MinimumShards);
    }

    [Fact]
    public void Enhanced_fan_out_consumers_add_no_read_term()
    {
        var consumers = Enumerable.Range(1, 3)
            .Select(i => new ConsumerProfile($"c{i}", ConsumerMode.EnhancedFanOut, 1_000_000, 60))
            .ToArray();
        var r = Calculator.Calculate(Workload(1000, 2048) with { Consumers = consumers });

        Assert.Equal(2, r.Shards);
        Assert.Equal(0, Get(r, SizingConstraint.SharedRead).RequiredShards);
        Assert.Equal(0, Get(r, SizingConstraint.SharedRead).MinimumShards);
    }

    [Fact]
    public void Records_term_decides_when_not_aggregated()
    {
        // 5,000 small records/s: 0.48 shards of bandwidth but 5 shards of records.
        var r = Calculator.Calculate(Workload(5000, 100));

        Assert.Equal(5, r.Shards);
        Assert.Equal(SizingConstraint.WriteRecords, r.DecidingConstraint);
        Assert.Equal(5.0, Get(r, SizingConstraint.WriteRecords).RequiredShards, 9);
    }

    [Fact]
    public void Aggregation_removes_the_records_term()
    {
        var r = Calculator.Calculate(Workload(5000, 100) with { AggregationRatio = 100 });

        Assert.Equal(1, r.Shards);
        Assert.Equal(SizingConstraint.WriteBytes, r.DecidingConstraint);
        Assert.Equal(0.05, Get(r, SizingConstraint.WriteRecords).RequiredShards, 9);
        Assert.Equal(50, r.Throughput.PeakKinesisRecordsPerSecond, 9);
    }

    [Fact]
    public void Compression_divides_the_bytes_terms()
    {
        // 50 records of 1 KiB need a 64 KiB aggregate (the KPL's 51,200 bytes hold 49).
        var plain = Calculator.Calculate(Workload(4000, 1024) with { AggregationRatio = 50, MaxAggregateBytes = 65_536 });
        var compressed = Calculator.Calculate(Workload(4000, 1024) with { AggregationRatio = 50, CompressionRatio = 4, MaxAggregateBytes = 65_536 });

        Assert.Equal(4, plain.Shards);
        Assert.Equal(1, compressed.Shards);
        Assert.Equal(Get(plain, SizingConstraint.WriteBytes).RequiredShards / 4, Get(compressed, SizingConstraint.WriteBytes).RequiredShards, 9);
    }

    [Fact]
    public void Consumer_speed_term_uses_slowest_consumer()
    {
        // 10,000 records/s at peak; the slow consumer handles 1,000 records/s per shard → 10 shards.
        var w = Workload(10_000, 100) with
        {
            AggregationRatio = 100,
            Consumers =
            [
                new ConsumerProfile("fast", ConsumerMode.SharedThroughput, 50_000, 60),
                new ConsumerProfile("slow", ConsumerMode.EnhancedFanOut, 1_000, 60),
            ],
        };

        var r = Calculator.Calculate(w);

        Assert.Equal(10, r.Shards);
        Assert.Equal(SizingConstraint.ConsumerSpeed, r.DecidingConstraint);
        Assert.Contains("'slow'", Get(r, SizingConstraint.ConsumerSpeed).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Surge_drain_term_matches_the_comcast_formula()
    {
        // Comcast calculator defaults: peak 20,000/s, surge 50,000/s for 10 s, consumer 1,000/s per shard, 30 s latency:
        // (50,000 × 10 + 20,000 × 30) ÷ (1,000 × (10 + 30)) = 27.5 → 28 shards.
        var w = new WorkloadProfile
        {
            AverageRecordsPerSecond = 10_000,
            PeakRecordsPerSecond = 20_000,
            SurgeRecordsPerSecond = 50_000,
            SurgeDurationSeconds = 10,
            AverageRecordBytes = 200,
            AggregationRatio = 100,
            Consumers = [new ConsumerProfile("app", ConsumerMode.SharedThroughput, 1_000, 30)],
        };

        var r = Calculator.Calculate(w);

        Assert.Equal(28, r.Shards);
        Assert.Equal(SizingConstraint.SurgeDrain, r.DecidingConstraint);
        Assert.Equal(27.5, Get(r, SizingConstraint.SurgeDrain).RequiredShards, 9);
        Assert.Equal(20, Get(r, SizingConstraint.ConsumerSpeed).RequiredShards, 9);
        // Writes must be accepted at the surge rate: 50,000 × 200 B ÷ 1 MiB.
        Assert.Equal(50_000 * 200 / (1024.0 * 1024), Get(r, SizingConstraint.WriteBytes).RequiredShards, 9);
    }

    [Fact]
    public void Surge_drain_bandwidth_counts_shared_consumers()
    {
        // Big records, fast consumers: the shared 2 MiB/s read limit during the surge decides.
        // backlog = 2,000 × 60 + 1,000 × 60 = 180,000 records of 10 KiB read by 2 consumers within 120 s.
        var w = new WorkloadProfile
        {
            AverageRecordsPerSecond = 500,
            PeakRecordsPerSecond = 1_000,
            SurgeRecordsPerSecond = 2_000,
            SurgeDurationSeconds = 60,
            AverageRecordBytes = 10 * 1024,
            AggregationRatio = 50,
            MaxAggregateBytes = 1024 * 1024,
            Consumers =
            [
                new ConsumerProfile("a", ConsumerMode.SharedThroughput, 1_000_000, 60),
                new ConsumerProfile("b", ConsumerMode.SharedThroughput, 1_000_000, 60),
            ],
        };

        var r = Calculator.Calculate(w);
        var expected = 10 * 1024.0 * 2 * 180_000 / (2 * 1024 * 1024 * 120.0);

        Assert.Equal(expected, Get(r, SizingConstraint.SurgeDrain).RequiredShards, 9);
        // Writes at surge: 2,000 × 10 KiB = 19.53 MiB/s → 20 shards, which exceeds the drain term (14.6).
        Assert.Equal(20, r.Shards);
        Assert.Equal(SizingConstraint.WriteBytes, r.DecidingConstraint);
    }

    [Fact]
    public void No_surge_means_no_drain_term()
    {
        var w = Workload(1000, 100) with { Consumers = [new ConsumerProfile("app", ConsumerMode.SharedThroughput, 10, 1)] };

        var r = Calculator.Calculate(w);

        Assert.Equal(0, Get(r, SizingConstraint.SurgeDrain).RequiredShards);
        Assert.Equal("no surge", Get(r, SizingConstraint.SurgeDrain).Detail);
        Assert.Equal(100, r.Shards);
    }

    [Fact]
    public void Headroom_is_one_minus_utilization_at_the_chosen_count()
    {
        var r = Calculator.Calculate(Workload(3500, 100));

        Assert.Equal(4, r.Shards);
        var records = Get(r, SizingConstraint.WriteRecords);
        Assert.Equal(3.5 / 4, records.Utilization, 9);
        Assert.Equal(0.125, records.Headroom, 9);
        Assert.All(r.Constraints, c => Assert.InRange(c.Headroom, 0, 1));
    }

    [Fact]
    public void Exact_multiples_do_not_round_up_from_floating_point_noise()
    {
        // 3 × 0.1 style noise: 1,000 records/s × 3,145.728 B = exactly 3 MiB/s.
        var r = Calculator.Calculate(Workload(1000, 3 * 1048.576) with { AggregationRatio = 10 });

        Assert.Equal(3, r.Shards);
    }

    [Fact]
    public void Minimum_is_one_shard()
    {
        var r = Calculator.Calculate(Workload(0.001, 1));

        Assert.Equal(1, r.Shards);
    }

    [Fact]
    public void Constraints_are_listed_in_enum_order()
    {
        var r = Calculator.Calculate(Workload(10, 10));

        Assert.Equal(Enum.GetValues<SizingConstraint>(), r.Constraints.Select(c => c.Constraint));
    }

    [Fact]
    public void Absurd_load_is_rejected_with_the_constraint_named()
    {
        var w = Workload(1e9, 1000) with { Consumers = [new ConsumerProfile("app", ConsumerMode.SharedThroughput, 0.001, 1)] };

        var ex = Assert.Throws<SizingValidationException>(() => Calculator.Calculate(w));

        Assert.Contains("ConsumerSpeed", ex.Message, StringComparison.Ordinal);
    }

    internal static ConstraintResult Get(ShardEstimate r, SizingConstraint c) => r.Constraints.Single(x => x.Constraint == c);
}
