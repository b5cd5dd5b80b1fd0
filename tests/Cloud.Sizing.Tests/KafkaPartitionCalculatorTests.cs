namespace Cloud.Sizing.Tests;

public class KafkaPartitionCalculatorTests
{
    [Fact]
    public void Seeds_QA_example_250_MBps_with_p_and_c_of_10_gives_25()
    {
        // Seeds Q&A: 250 MB/s, 10 producers, 12 consumers → 25. The formula matches it with p = c = 10 MB/s;
        // the instance counts do not appear in it.
        var r = KafkaPartitionCalculator.Calculate(new KafkaPartitionInput(250, 10, 10));

        Assert.Equal(25, r.Partitions);
        Assert.Equal(KafkaPartitionModel.PerPartitionThroughput, r.Model);
    }

    [Fact]
    public void Seeds_video_example_under_the_formula_gives_10_not_4()
    {
        // Seeds video example: 100 MB/s, 3 producers and 5 consumers at 10 MB/s, answered "~= 4".
        // The published formula max(T ÷ p, T ÷ c) gives 10: the example divides by instance count too.
        var r = KafkaPartitionCalculator.Calculate(new KafkaPartitionInput(100, 10, 10));

        Assert.Equal(10, r.Partitions);
    }

    [Fact]
    public void Seeds_video_example_under_the_instance_capacity_model_gives_4()
    {
        // ceil(max(100 ÷ (3 × 10), 100 ÷ (5 × 10))) = ceil(3.33) = 4: a different model, named as such.
        var r = KafkaPartitionCalculator.CalculateInstanceCapacity(new KafkaInstanceCapacityInput(100, 3, 5, 10, 10));

        Assert.Equal(4, r.Partitions);
        Assert.Equal(KafkaPartitionModel.InstanceCapacity, r.Model);
        Assert.Equal(KafkaBound.Producer, r.DecidingBound);
        Assert.Equal(100.0 / 30, r.ProducerTerm, 9);
        Assert.Equal(2.0, r.ConsumerTerm, 9);
    }

    [Fact]
    public void Slower_consumer_decides()
    {
        var r = KafkaPartitionCalculator.Calculate(new KafkaPartitionInput(100, 50, 7));

        Assert.Equal(15, r.Partitions);
        Assert.Equal(KafkaBound.Consumer, r.DecidingBound);
    }

    [Fact]
    public void Inputs_are_validated_by_name()
    {
        var ex = Assert.Throws<SizingValidationException>(() => KafkaPartitionCalculator.Calculate(new KafkaPartitionInput(0, -1, double.NaN)));

        Assert.Equal(["TargetThroughput", "ProducerThroughputPerPartition", "ConsumerThroughputPerPartition"], ex.Problems.Select(p => p.Field));

        var ex2 = Assert.Throws<SizingValidationException>(() => KafkaPartitionCalculator.CalculateInstanceCapacity(new KafkaInstanceCapacityInput(1, 0, 0, 1, 1)));
        Assert.Equal(["Producers", "Consumers"], ex2.Problems.Select(p => p.Field));
    }

    [Fact]
    public void Tiny_throughput_still_needs_one_partition()
    {
        Assert.Equal(1, KafkaPartitionCalculator.Calculate(new KafkaPartitionInput(0.001, 10, 10)).Partitions);
    }
}
