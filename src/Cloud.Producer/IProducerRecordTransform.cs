namespace Cloud.Producer;

/// <summary>A record on its way into the producer: payload, partition key and explicit hash key.</summary>
/// <param name="Data">The payload to send.</param>
/// <param name="PartitionKey">Partition key, or null for a balanced keyless record.</param>
/// <param name="ExplicitHashKey">Optional decimal 128-bit hash key.</param>
public readonly record struct ProducerRecord(ReadOnlyMemory<byte> Data, string? PartitionKey, string? ExplicitHashKey);

/// <summary>
/// A stage that rewrites each record before the producer buffers, aggregates and compresses it (as the consumer's
/// <c>IUserRecordTransform</c> does after decoding, or as a Confluent producer's serializer does): field encryption
/// plugs in here. Applied by <see cref="TransformingProducer"/>. A transform must not put the record's payload, partition
/// key or personal values in exception messages.
/// </summary>
public interface IProducerRecordTransform
{
    /// <summary>Returns the record to send, or null to drop it (nothing is sent).</summary>
    /// <param name="data">The caller's payload.</param>
    /// <param name="partitionKey">The caller's partition key (null: let the transform or the producer choose).</param>
    /// <param name="explicitHashKey">The caller's explicit hash key.</param>
    /// <param name="cancellationToken">Cancels the transform.</param>
    ValueTask<ProducerRecord?> TransformAsync(ReadOnlyMemory<byte> data, string? partitionKey, string? explicitHashKey, CancellationToken cancellationToken);
}

/// <summary>
/// Thrown by <see cref="TransformingProducer.SendAsync"/> and <see cref="TransformingProducer.EnqueueAsync"/> when a
/// transform dropped the record; use <see cref="TransformingProducer.TrySendAsync"/> to get null instead.
/// </summary>
public sealed class RecordDroppedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RecordDroppedException(string transform)
        : base($"The producer transform {transform} dropped the record; nothing was sent.") => Transform = transform;

    /// <summary>Type name of the transform that dropped the record.</summary>
    public string Transform { get; }
}
