namespace Cloud.Sizing.Tests;

public class CostTests
{
    [Fact]
    public void Provisioned_matches_the_aws_pricing_page_example()
    {
        // AWS pricing page example: 100 records/s of 35 KB → 3.4 MB/s → 4 shards; 35 KB = 2 PUT payload units
        // → 200 units/s. With a 30-day month: 4 × $0.015 × 720 = $43.20 and 518.4 M units × $0.014 = $7.2576.
        var calculator = new ShardCalculator(PriceTable.UsEast1 with { HoursPerMonth = 720 });
        var w = new WorkloadProfile { AverageRecordsPerSecond = 100, PeakRecordsPerSecond = 100, AverageRecordBytes = 35 * 1024 };

        var r = calculator.Calculate(w);

        Assert.Equal(4, r.Shards);
        var p = r.Cost.Provisioned;
        Assert.Equal(CapacityMode.Provisioned, p.Mode);
        Assert.Equal(43.20m, p.Lines.Single(l => l.Item == "shard-hours").Monthly);
        var put = p.Lines.Single(l => l.Item.StartsWith("PUT payload units", StringComparison.Ordinal));
        Assert.Equal(518.4, put.Quantity, 6);
        Assert.Equal(7.2576m, put.Monthly);
        Assert.Equal(50.46m, p.MonthlyTotal);
    }

    [Fact]
    public void On_demand_rounds_each_record_up_to_one_kib()
    {
        // 1,000 records/s of 100 B are billed as 1,000 × 1 KiB: 2,506.26 GB per 730-hour month × $0.08.
        var w = new WorkloadProfile { AverageRecordsPerSecond = 1000, PeakRecordsPerSecond = 1000, AverageRecordBytes = 100 };

        var od = new ShardCalculator().Calculate(w).Cost.OnDemand;

        var written = od.Lines.Single(l => l.Item.StartsWith("data written", StringComparison.Ordinal));
        var gb = 1000.0 * 1024 * 730 * 3600 / (1024.0 * 1024 * 1024);
        Assert.Equal(gb, written.Quantity, 6);
        Assert.Equal(Math.Round((decimal)gb * 0.08m, 4), written.Monthly);
        Assert.Equal(29.20m, od.Lines.Single(l => l.Item == "stream-hours").Monthly);
        Assert.Equal(Math.Round(29.20m + written.Monthly, 2), od.MonthlyTotal);
    }

    [Fact]
    public void On_demand_bills_a_4_5_kib_record_as_5_kib()
    {
        var small = Written(new WorkloadProfile { AverageRecordsPerSecond = 10, PeakRecordsPerSecond = 10, AverageRecordBytes = 4.5 * 1024 });
        var five = Written(new WorkloadProfile { AverageRecordsPerSecond = 10, PeakRecordsPerSecond = 10, AverageRecordBytes = 5 * 1024 });

        Assert.Equal(five, small, 9);
    }

    [Fact]
    public void Aggregation_cuts_on_demand_and_put_cost()
    {
        var plain = new WorkloadProfile { AverageRecordsPerSecond = 5000, PeakRecordsPerSecond = 5000, AverageRecordBytes = 100 };
        var aggregated = plain with { AggregationRatio = 200 };
        var calc = new ShardCalculator();

        var a = calc.Calculate(plain).Cost;
        var b = calc.Calculate(aggregated).Cost;

        Assert.True(b.OnDemand.MonthlyTotal < a.OnDemand.MonthlyTotal / 5);
        Assert.True(b.Provisioned.MonthlyTotal < a.Provisioned.MonthlyTotal);
    }

    [Fact]
    public void Shared_consumers_add_read_cost_on_demand_and_efo_adds_consumer_shard_hours_provisioned()
    {
        var w = new WorkloadProfile
        {
            AverageRecordsPerSecond = 100,
            PeakRecordsPerSecond = 100,
            AverageRecordBytes = 1024,
            Consumers =
            [
                new ConsumerProfile("poll", ConsumerMode.SharedThroughput, 10_000, 60),
                new ConsumerProfile("efo", ConsumerMode.EnhancedFanOut, 10_000, 60),
            ],
        };

        var r = new ShardCalculator().Calculate(w);

        var read = r.Cost.OnDemand.Lines.Single(l => l.Item == "data read by shared-throughput consumers");
        var written = r.Cost.OnDemand.Lines.Single(l => l.Item.StartsWith("data written", StringComparison.Ordinal));
        Assert.Equal(written.Quantity, read.Quantity, 9);
        Assert.Equal(0.04m, read.UnitPrice);
        var efoHours = r.Cost.Provisioned.Lines.Single(l => l.Item == "enhanced fan-out consumer-shard-hours");
        Assert.Equal(r.Shards * 730.0, efoHours.Quantity, 9);
    }

    [Fact]
    public void Extended_and_long_term_retention_are_priced()
    {
        var w = new WorkloadProfile { AverageRecordsPerSecond = 100, PeakRecordsPerSecond = 100, AverageRecordBytes = 1024, RetentionHours = 168 + 240 };

        var r = new ShardCalculator().Calculate(w);

        var ext = r.Cost.Provisioned.Lines.Single(l => l.Item == "extended retention (up to 7 days)");
        Assert.Equal(730.0 * r.Shards, ext.Quantity, 9);
        var longTerm = r.Cost.Provisioned.Lines.Single(l => l.Item == "long-term retention storage (beyond 7 days)");
        Assert.Equal(100.0 * 1024 * 240 * 3600 / (1024.0 * 1024 * 1024), longTerm.Quantity, 9);
        Assert.Contains(r.Cost.OnDemand.Lines, l => l.Item == "extended retention storage (up to 7 days)");
    }

    [Fact]
    public void Default_retention_has_no_retention_lines()
    {
        var r = new ShardCalculator().Calculate(new WorkloadProfile { AverageRecordsPerSecond = 1, PeakRecordsPerSecond = 1, AverageRecordBytes = 1 });

        Assert.DoesNotContain(r.Cost.Provisioned.Lines, l => l.Item.Contains("retention", StringComparison.Ordinal));
        Assert.DoesNotContain(r.Cost.OnDemand.Lines, l => l.Item.Contains("retention", StringComparison.Ordinal));
    }

    [Fact]
    public void Custom_price_table_is_used_and_cheaper_mode_reported()
    {
        var free = PriceTable.UsEast1 with { OnDemandStreamHour = 0, OnDemandDataInPerGb = 0, OnDemandDataOutPerGb = 0 };
        var r = new ShardCalculator(free).Calculate(new WorkloadProfile { AverageRecordsPerSecond = 10, PeakRecordsPerSecond = 10, AverageRecordBytes = 10 });

        Assert.Equal(0m, r.Cost.OnDemand.MonthlyTotal);
        Assert.Equal(CapacityMode.OnDemand, r.Cost.Cheaper);
        Assert.Same(free, r.Cost.Prices);
    }

    [Fact]
    public void Provisioned_cost_for_a_chosen_shard_count()
    {
        var w = new WorkloadProfile { AverageRecordsPerSecond = 10, PeakRecordsPerSecond = 10, AverageRecordBytes = 10 };

        var c = new ShardCalculator().ProvisionedCost(w, 10);

        Assert.Equal(10 * 730 * 0.015m, c.Lines[0].Monthly);
        Assert.Throws<SizingValidationException>(() => new ShardCalculator().ProvisionedCost(w, 0));
    }

    [Fact]
    public void Negative_prices_are_rejected_by_name()
    {
        var ex = Assert.Throws<SizingValidationException>(() => new ShardCalculator(PriceTable.UsEast1 with { ShardHour = -1, HoursPerMonth = 0 }));

        Assert.Contains(ex.Problems, p => p.Field == "PriceTable.ShardHour");
        Assert.Contains(ex.Problems, p => p.Field == "PriceTable.HoursPerMonth");
    }

    private static double Written(WorkloadProfile w)
        => new ShardCalculator().Calculate(w).Cost.OnDemand.Lines.Single(l => l.Item.StartsWith("data written", StringComparison.Ordinal)).Quantity;
}
