using System.Globalization;

namespace Cloud.Sizing;

/// <summary>Which reading of Kafka partition sizing produced a result.</summary>
public enum KafkaPartitionModel
{
    /// <summary>Confluent (Jun Rao): partitions = max(T ÷ p, T ÷ c), p and c measured on ONE partition.</summary>
    PerPartitionThroughput,

    /// <summary>A different model: partitions = max(T ÷ (producers × p), T ÷ (consumers × c)), i.e. capacity of the instances.</summary>
    InstanceCapacity,
}

/// <summary>The side whose term decides the partition count.</summary>
public enum KafkaBound
{
    /// <summary>The producer term is the larger.</summary>
    Producer,

    /// <summary>The consumer term is the larger.</summary>
    Consumer,
}

/// <summary>Inputs of the per-partition formula. Any throughput unit works if all three use it (MB/s in the docs).</summary>
/// <param name="TargetThroughput">T: overall throughput the topic must carry.</param>
/// <param name="ProducerThroughputPerPartition">p: what one producer achieves writing to a single partition.</param>
/// <param name="ConsumerThroughputPerPartition">c: what one consumer achieves reading a single partition.</param>
public sealed record KafkaPartitionInput(double TargetThroughput, double ProducerThroughputPerPartition, double ConsumerThroughputPerPartition);

/// <summary>Inputs of the instance-capacity model.</summary>
/// <param name="TargetThroughput">T: overall throughput.</param>
/// <param name="Producers">Number of producer instances.</param>
/// <param name="Consumers">Number of consumer instances.</param>
/// <param name="ProducerThroughput">Throughput of one producer instance.</param>
/// <param name="ConsumerThroughput">Throughput of one consumer instance.</param>
public sealed record KafkaInstanceCapacityInput(double TargetThroughput, int Producers, int Consumers, double ProducerThroughput, double ConsumerThroughput);

/// <summary>A partition count and how it was reached.</summary>
/// <param name="Partitions">Partitions needed (the larger term, rounded up; at least 1).</param>
/// <param name="Model">The model used.</param>
/// <param name="ProducerTerm">The producer-side quotient before rounding.</param>
/// <param name="ConsumerTerm">The consumer-side quotient before rounding.</param>
/// <param name="DecidingBound">Which term is larger (producer on a tie).</param>
public sealed record KafkaPartitionEstimate(int Partitions, KafkaPartitionModel Model, double ProducerTerm, double ConsumerTerm, KafkaBound DecidingBound);

/// <summary>
/// Kafka partition count from throughput. <see cref="Calculate"/> is the published formula
/// (https://www.confluent.io/blog/how-choose-number-topics-partitions-kafka-cluster/); the instance-capacity
/// reading is offered separately and named as a different model.
/// </summary>
public static class KafkaPartitionCalculator
{
    /// <summary>Largest partition count answered.</summary>
    public const int MaxPartitions = 1_000_000;

    /// <summary>partitions = ceil(max(T ÷ p, T ÷ c)). The numbers of producers and consumers do not appear.</summary>
    /// <exception cref="SizingValidationException">An input is invalid (all are listed).</exception>
    public static KafkaPartitionEstimate Calculate(KafkaPartitionInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var p = new ProblemList();
        p.Number(nameof(input.TargetThroughput), input.TargetThroughput, 0, double.MaxValue, minExclusive: true);
        p.Number(nameof(input.ProducerThroughputPerPartition), input.ProducerThroughputPerPartition, 0, double.MaxValue, minExclusive: true);
        p.Number(nameof(input.ConsumerThroughputPerPartition), input.ConsumerThroughputPerPartition, 0, double.MaxValue, minExclusive: true);
        p.ThrowIfAny();
        return Result(KafkaPartitionModel.PerPartitionThroughput,
            input.TargetThroughput / input.ProducerThroughputPerPartition,
            input.TargetThroughput / input.ConsumerThroughputPerPartition);
    }

    /// <summary>A different model: partitions = ceil(max(T ÷ (producers × producer throughput), T ÷ (consumers × consumer throughput))).</summary>
    /// <exception cref="SizingValidationException">An input is invalid (all are listed).</exception>
    public static KafkaPartitionEstimate CalculateInstanceCapacity(KafkaInstanceCapacityInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var p = new ProblemList();
        p.Number(nameof(input.TargetThroughput), input.TargetThroughput, 0, double.MaxValue, minExclusive: true);
        p.Number(nameof(input.ProducerThroughput), input.ProducerThroughput, 0, double.MaxValue, minExclusive: true);
        p.Number(nameof(input.ConsumerThroughput), input.ConsumerThroughput, 0, double.MaxValue, minExclusive: true);
        if (input.Producers < 1)
        {
            p.Add(nameof(input.Producers), $"must be at least 1, got {input.Producers}.");
        }

        if (input.Consumers < 1)
        {
            p.Add(nameof(input.Consumers), $"must be at least 1, got {input.Consumers}.");
        }

        p.ThrowIfAny();
        return Result(KafkaPartitionModel.InstanceCapacity,
            input.TargetThroughput / (input.Producers * input.ProducerThroughput),
            input.TargetThroughput / (input.Consumers * input.ConsumerThroughput));
    }

    private static KafkaPartitionEstimate Result(KafkaPartitionModel model, double producerTerm, double consumerTerm)
    {
        var max = Math.Max(producerTerm, consumerTerm);
        if (!(max <= MaxPartitions))
        {
            throw new SizingValidationException([new SizingProblem(nameof(KafkaPartitionInput.TargetThroughput),
                string.Create(CultureInfo.InvariantCulture, $"needs {max:0.##} partitions, more than the {MaxPartitions} this calculator answers for."))]);
        }

        // Tolerance: 250 ÷ 10 computed in floating point must stay 25, not become 26.
        var partitions = Math.Max(1, (int)Math.Ceiling(max - 1e-9));
        return new KafkaPartitionEstimate(partitions, model, producerTerm, consumerTerm,
            consumerTerm > producerTerm ? KafkaBound.Consumer : KafkaBound.Producer);
    }
}
