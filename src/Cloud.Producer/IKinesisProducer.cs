namespace Cloud.Producer;

/// <summary>
/// Writes user records to one Kinesis stream with KPL-style aggregation, batching, per-shard rate limiting and retries.
/// </summary>
public interface IKinesisProducer : IAsyncDisposable
{
    /// <summary>
    /// Sends one record and completes when it is durable in a shard. Await it for synchronous production, or keep the
    /// task for asynchronous production. When the buffer is full this waits for space (back-pressure).
    /// </summary>
    /// <param name="data">Payload (1 byte up to the stream's record size limit minus the partition key); copied, so the caller may reuse it.</param>
    /// <param name="partitionKey">1–256 characters; records with one key stay in order on one shard.
    /// <see langword="null"/>: the producer spreads the record evenly over the shards with an explicit hash key.</param>
    /// <param name="explicitHashKey">Decimal 128-bit hash key that selects the shard instead of the partition key.</param>
    /// <param name="cancellationToken">Cancels only the wait for buffer space; an accepted record is still delivered.</param>
    /// <returns>Shard and sequence number; faults with <see cref="RecordDeliveryException"/> when the record cannot be delivered.</returns>
    ValueTask<SendResult> SendAsync(ReadOnlyMemory<byte> data, string? partitionKey = null, string? explicitHashKey = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits only until the record is accepted into the bounded buffer and returns the task of its delivery: the
    /// way to produce asynchronously at full speed while still being slowed down when the buffer is full.
    /// </summary>
    /// <param name="data">Payload; copied.</param>
    /// <param name="partitionKey">Partition key or <see langword="null"/> for balanced keyless records.</param>
    /// <param name="explicitHashKey">Optional decimal 128-bit hash key.</param>
    /// <param name="cancellationToken">Cancels the wait for buffer space.</param>
    ValueTask<Task<SendResult>> EnqueueAsync(ReadOnlyMemory<byte> data, string? partitionKey = null, string? explicitHashKey = null, CancellationToken cancellationToken = default);

    /// <summary>Sends everything accepted so far without waiting for the linger time and completes when all of it has completed.</summary>
    Task FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>Records accepted and not yet completed.</summary>
    int BufferedRecords { get; }
}
