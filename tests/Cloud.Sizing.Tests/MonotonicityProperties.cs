using CsCheck;

namespace Cloud.Sizing.Tests;

/// <summary>More load (or a slower consumer, or less aggregation/compression) never means fewer shards.</summary>
public class MonotonicityProperties
{
    private const long Iterations = 5_000;
    private static readonly ShardCalculator Calculator = new();

    private static readonly Gen<ConsumerProfile> GenConsumer =
        Gen.Select(Gen.Bool, Gen.Double[1, 100_000], Gen.Double[0.1, 3600])
            .Select(t => new ConsumerProfile("c", t.Item1 ? ConsumerMode.EnhancedFanOut : ConsumerMode.SharedThroughput, t.Item2, t.Item3));

    private static readonly Gen<WorkloadProfile> GenWorkload =
        Gen.Select(
                Gen.Double[0.01, 100_000],   // average
                Gen.Double[1, 4],            // peak ÷ average
                Gen.Double[1, 50_000],       // record bytes
                Gen.Double[0, 3],            // surge ÷ peak − 1 (0 ⇒ no surge when the bool says so)
                Gen.Bool,
                Gen.Double[1, 600],          // surge duration
                GenConsumer.Array[0, 4],
                Gen.Select(Gen.Double[1, 20], Gen.Double[0.5, 8]))
            .Select(t =>
            {
                var (avg, peakFactor, bytes, surgeFactor, hasSurge, duration, consumers, ratios) = t;
                return new WorkloadProfile
                {
                    AverageRecordsPerSecond = avg,
                    PeakRecordsPerSecond = avg * peakFactor,
                    AverageRecordBytes = bytes,
                    SurgeRecordsPerSecond = hasSurge ? avg * peakFactor * (1 + surgeFactor) : 0,
                    SurgeDurationSeconds = hasSurge ? duration : 0,
                    Consumers = consumers.Select((c, i) => c with { Name = $"c{i}" }).ToArray(),
                    // Keep aggregates within the 1 MiB default record size, and within what a 1 MiB aggregate holds.
                    MaxAggregateBytes = 1024 * 1024,
                    AggregationRatio = Math.Max(1, Math.Min(Math.Min(ratios.Item1, 1024 * 1024 * ratios.Item2 / bytes), WorkloadProfile.MaxReachableAggregationRatio(bytes, 1024 * 1024))),
                    CompressionRatio = ratios.Item2,
                };
            });

    private static int Shards(WorkloadProfile w) => Calculator.Calculate(w).Shards;

    // A variant can leave the valid domain (e.g. an aggregate over 10 MiB); such pairs say nothing about monotonicity.
    private static bool NotFewer(WorkloadProfile more, WorkloadProfile w)
    {
        int moreShards;
        try
        {
            more.Validate();
            moreShards = Shards(more);
        }
        catch (SizingValidationException)
        {
            return true; // left the calculator's domain: invalid, or over the 1,000,000 shards it answers for
        }

        return moreShards >= Shards(w);
    }

    [Fact]
    public void More_peak_and_surge_never_fewer_shards()
    {
        Gen.Select(GenWorkload, Gen.Double[1, 10]).Sample((w, k) =>
        {
            var more = w with
            {
                PeakRecordsPerSecond = w.PeakRecordsPerSecond * k,
                SurgeRecordsPerSecond = w.SurgeRecordsPerSecond * k,
            };
            return NotFewer(more, w);
        }, iter: Iterations);
    }

    [Fact]
    public void Bigger_records_never_fewer_shards()
    {
        Gen.Select(GenWorkload, Gen.Double[1, 10]).Sample((w, k) =>
            NotFewer(w with { AverageRecordBytes = w.AverageRecordBytes * k }, w), iter: Iterations);
    }

    [Fact]
    public void Another_consumer_never_fewer_shards()
    {
        Gen.Select(GenWorkload, GenConsumer).Sample((w, c) =>
            w.Consumers.Count >= 20 || NotFewer(w with { Consumers = [.. w.Consumers, c with { Name = "extra" }] }, w), iter: Iterations);
    }

    [Fact]
    public void Slower_consumers_and_tighter_latency_never_fewer_shards()
    {
        Gen.Select(GenWorkload, Gen.Double[1, 10]).Sample((w, k) =>
        {
            var slower = w with
            {
                Consumers = w.Consumers.Select(c => c with
                {
                    ProcessingRecordsPerSecondPerShard = c.ProcessingRecordsPerSecondPerShard / k,
                    MaxLatencySeconds = c.MaxLatencySeconds / k,
                }).ToArray(),
            };
            return NotFewer(slower, w);
        }, iter: Iterations);
    }

    [Fact]
    public void Less_aggregation_or_compression_never_fewer_shards()
    {
        Gen.Select(GenWorkload, Gen.Double[1, 10]).Sample((w, k) =>
            NotFewer(w with { AggregationRatio = Math.Max(1, w.AggregationRatio / k) }, w)
            && NotFewer(w with { CompressionRatio = w.CompressionRatio / k }, w), iter: Iterations);
    }

    [Fact]
    public void Answer_covers_every_constraint_and_the_decider_is_the_largest()
    {
        GenWorkload.Sample(w =>
        {
            var r = Calculator.Calculate(w);
            var decider = r.Constraints.Single(c => c.Constraint == r.DecidingConstraint);
            return r.Shards >= 1
                && r.Constraints.All(c => c.MinimumShards <= r.Shards && c.Headroom >= -1e-9)
                && r.Constraints.All(c => c.RequiredShards <= decider.RequiredShards)
                && (r.Shards == 1 || decider.MinimumShards == r.Shards);
        }, iter: Iterations);
    }

    [Fact]
    public void More_load_never_costs_less()
    {
        Gen.Select(GenWorkload, Gen.Double[1, 10]).Sample((w, k) =>
        {
            var more = w with { AverageRecordsPerSecond = w.AverageRecordsPerSecond * k, PeakRecordsPerSecond = w.PeakRecordsPerSecond * k, SurgeRecordsPerSecond = w.SurgeRecordsPerSecond * k };
            var a = Calculator.Calculate(w).Cost;
            CostComparison b;
            try
            {
                more.Validate();
                b = Calculator.Calculate(more).Cost;
            }
            catch (SizingValidationException)
            {
                return true; // scaled out of the calculator's domain (over 1,000,000 shards, seed 60VjNXINply2): says nothing about cost
            }

            return b.OnDemand.MonthlyTotal >= a.OnDemand.MonthlyTotal && b.Provisioned.MonthlyTotal >= a.Provisioned.MonthlyTotal;
        }, iter: Iterations);
    }
}
