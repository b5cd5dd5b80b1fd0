namespace Cloud.Sizing.Tests;

public class ValidationTests
{
    [Fact]
    public void Every_problem_is_listed_with_its_field_name()
    {
        var w = new WorkloadProfile
        {
            AverageRecordsPerSecond = 100,
            PeakRecordsPerSecond = 50,
            AverageRecordBytes = -1,
            SurgeRecordsPerSecond = 10,
            RetentionHours = 12,
            AggregationRatio = 0.5,
            CompressionRatio = double.NaN,
            Consumers =
            [
                new ConsumerProfile("", ConsumerMode.SharedThroughput, 0, 0),
                new ConsumerProfile("b", (ConsumerMode)7, 10, 10),
                new ConsumerProfile("b", ConsumerMode.SharedThroughput, 10, 10),
            ],
        };

        var ex = Assert.Throws<SizingValidationException>(() => new ShardCalculator().Calculate(w));
        var fields = ex.Problems.Select(p => p.Field).ToHashSet();

        Assert.Superset(
            new HashSet<string>
            {
                "PeakRecordsPerSecond", "AverageRecordBytes", "SurgeRecordsPerSecond", "SurgeDurationSeconds", "RetentionHours",
                "AggregationRatio", "CompressionRatio", "Consumers[0].Name", "Consumers[0].ProcessingRecordsPerSecondPerShard",
                "Consumers[0].MaxLatencySeconds", "Consumers[1].Mode", "Consumers[2].Name",
            },
            fields);
        foreach (var p in ex.Problems)
        {
            Assert.Contains(p.Field, ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0, "AverageRecordsPerSecond")]
    [InlineData(double.PositiveInfinity, "AverageRecordsPerSecond")]
    [InlineData(-5, "AverageRecordsPerSecond")]
    public void Bad_rate_is_named(double rate, string field)
    {
        var w = new WorkloadProfile { AverageRecordsPerSecond = rate, PeakRecordsPerSecond = 10, AverageRecordBytes = 10 };

        var ex = Assert.Throws<SizingValidationException>(w.Validate);

        Assert.Contains(ex.Problems, p => p.Field == field);
    }

    [Fact]
    public void Aggregates_over_the_record_limit_are_rejected()
    {
        var w = new WorkloadProfile { AverageRecordsPerSecond = 1, PeakRecordsPerSecond = 1, AverageRecordBytes = 1024 * 1024, AggregationRatio = 20 };

        var ex = Assert.Throws<SizingValidationException>(w.Validate);

        Assert.Contains(ex.Problems, p => p.Field == "AggregationRatio" && p.Message.Contains("10 MiB", StringComparison.Ordinal));
    }

    [Fact]
    public void An_aggregation_ratio_the_producer_cannot_reach_is_refused_naming_the_reachable_one()
    {
        // Issue 12: cdk.json said 100:1 for 600-byte records; a 51,200-byte KPL aggregate holds at most 84 of them
        // (each costs 608 bytes: data 1 + 2 + 600, key index 2, record framing 1 + 2; magic, MD5 and one key take 23).
        var w = new WorkloadProfile { AverageRecordsPerSecond = 2000, PeakRecordsPerSecond = 5000, AverageRecordBytes = 600, AggregationRatio = 100 };
        Assert.Equal(84, WorkloadProfile.MaxReachableAggregationRatio(600, 51_200));

        var ex = Assert.Throws<SizingValidationException>(w.Validate);

        var problem = Assert.Single(ex.Problems, p => p.Field == "AggregationRatio");
        Assert.Contains("at most 84", problem.Message, StringComparison.Ordinal);
        Assert.Contains("51200", problem.Message.Replace(",", "", StringComparison.Ordinal), StringComparison.Ordinal);
        (w with { AggregationRatio = 84 }).Validate();
        // A larger aggregate (the producer's AggregationMaxSize, up to 1 MiB) reaches more.
        (w with { MaxAggregateBytes = 1024 * 1024 }).Validate();
    }

    [Fact]
    public void The_reachable_ratio_matches_what_the_aggregate_builder_really_fits()
    {
        foreach (int bytes in new[] { 1, 50, 126, 127, 600, 1024, 5000, 20_000 })
        {
            using var builder = new Cloud.Records.AggregateBuilder(new Cloud.Records.AggregateBuilderOptions { MaxAggregateSize = 51_200 });
            var data = new byte[bytes];
            int n = 0;
            while (builder.TryAdd("k", null, data))
            {
                n++;
            }
            Assert.Equal(n, WorkloadProfile.MaxReachableAggregationRatio(bytes, 51_200));
        }
    }

    [Fact]
    public void More_than_twenty_efo_consumers_are_rejected()
    {
        var w = new WorkloadProfile
        {
            AverageRecordsPerSecond = 1,
            PeakRecordsPerSecond = 1,
            AverageRecordBytes = 1,
            Consumers = Enumerable.Range(0, 21).Select(i => new ConsumerProfile($"c{i}", ConsumerMode.EnhancedFanOut, 1, 1)).ToArray(),
        };

        var ex = Assert.Throws<SizingValidationException>(w.Validate);

        Assert.Contains(ex.Problems, p => p.Field == "Consumers" && p.Message.Contains("20", StringComparison.Ordinal));
    }

    [Fact]
    public void Null_consumers_list_is_a_problem_not_a_crash()
    {
        var w = new WorkloadProfile { AverageRecordsPerSecond = 1, PeakRecordsPerSecond = 1, AverageRecordBytes = 1, Consumers = null! };

        var ex = Assert.Throws<SizingValidationException>(w.Validate);

        Assert.Contains(ex.Problems, p => p.Field == "Consumers");
    }

    [Fact]
    public void Valid_profile_passes()
    {
        var w = new WorkloadProfile
        {
            AverageRecordsPerSecond = 1,
            PeakRecordsPerSecond = 2,
            AverageRecordBytes = 1,
            SurgeRecordsPerSecond = 3,
            SurgeDurationSeconds = 1,
            RetentionHours = 8760,
            Consumers = [new ConsumerProfile("a", ConsumerMode.EnhancedFanOut, 1, 1)],
        };

        w.Validate();
    }
}
