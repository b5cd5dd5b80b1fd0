namespace Cloud.Producer;

/// <summary>
/// An <see cref="IKinesisProducer"/> decorator that runs each record through its <see cref="IProducerRecordTransform"/>s
/// in order, then hands it to the inner producer. Thread-safe when the transforms are. Disposing it disposes (flushes)
/// the inner producer when it owns it.
/// </summary>
public sealed class TransformingProducer : IKinesisProducer
{
    private readonly IKinesisProducer _inner;
    private readonly IProducerRecordTransform[] _transforms;
    private readonly bool _ownsInner;

    /// <summary>Creates the decorator.</summary>
    /// <param name="inner">The producer that sends the transformed records.</param>
    /// <param name="transforms">Applied in order; at least one.</param>
    /// <param name="ownsInner">Dispose <paramref name="inner"/> with this producer.</param>
    /// <exception cref="ArgumentException">No transform, or a null one.</exception>
    public TransformingProducer(IKinesisProducer inner, IEnumerable<IProducerRecordTransform> transforms, bool ownsInner = true)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(transforms);
        _transforms = [.. transforms];
        if (_transforms.Length == 0 || Array.Exists(_transforms, t => t is null))
        {
            throw new ArgumentException("Give at least one transform, and no null one.", nameof(transforms));
        }

        _inner = inner;
        _ownsInner = ownsInner;
    }

    /// <summary>The decorated producer.</summary>
    public IKinesisProducer Inner => _inner;

    /// <inheritdoc />
    public int BufferedRecords => _inner.BufferedRecords;

    /// <inheritdoc />
    /// <exception cref="RecordDroppedException">A transform dropped the record.</exception>
    public async ValueTask<SendResult> SendAsync(ReadOnlyMemory<byte> data, string? partitionKey = null, string? explicitHashKey = null, CancellationToken cancellationToken = default)
    {
        var (record, droppedBy) = await ApplyAsync(data, partitionKey, explicitHashKey, cancellationToken).ConfigureAwait(false);
        return record is { } r
            ? await _inner.SendAsync(r.Data, r.PartitionKey, r.ExplicitHashKey, cancellationToken).ConfigureAwait(false)
            : throw new RecordDroppedException(droppedBy!);
    }

    /// <inheritdoc />
    /// <exception cref="RecordDroppedException">A transform dropped the record.</exception>
    public async ValueTask<Task<SendResult>> EnqueueAsync(ReadOnlyMemory<byte> data, string? partitionKey = null, string? explicitHashKey = null, CancellationToken cancellationToken = default)
    {
        var (record, droppedBy) = await ApplyAsync(data, partitionKey, explicitHashKey, cancellationToken).ConfigureAwait(false);
        return record is { } r
            ? await _inner.EnqueueAsync(r.Data, r.PartitionKey, r.ExplicitHashKey, cancellationToken).ConfigureAwait(false)
            : throw new RecordDroppedException(droppedBy!);
    }

    /// <summary>Transforms then sends one record; null when a transform dropped it.</summary>
    public async ValueTask<SendResult?> TrySendAsync(ReadOnlyMemory<byte> data, string? partitionKey = null, string? explicitHashKey = null, CancellationToken cancellationToken = default)
    {
        var (record, _) = await ApplyAsync(data, partitionKey, explicitHashKey, cancellationToken).ConfigureAwait(false);
        return record is { } r ? await _inner.SendAsync(r.Data, r.PartitionKey, r.ExplicitHashKey, cancellationToken).ConfigureAwait(false) : null;
    }

    /// <summary>Transforms, then waits until the record is buffered; returns its delivery task, or null when a transform dropped it.</summary>
    public async ValueTask<Task<SendResult>?> TryEnqueueAsync(ReadOnlyMemory<byte> data, string? partitionKey = null, string? explicitHashKey = null, CancellationToken cancellationToken = default)
    {
        var (record, _) = await ApplyAsync(data, partitionKey, explicitHashKey, cancellationToken).ConfigureAwait(false);
        return record is { } r ? await _inner.EnqueueAsync(r.Data, r.PartitionKey, r.ExplicitHashKey, cancellationToken).ConfigureAwait(false) : null;
    }

    /// <inheritdoc />
    public Task FlushAsync(CancellationToken cancellationToken = default) => _inner.FlushAsync(cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _ownsInner ? _inner.DisposeAsync() : ValueTask.CompletedTask;

    private async ValueTask<(ProducerRecord? Record, string? DroppedBy)> ApplyAsync(ReadOnlyMemory<byte> data, string? partitionKey, string? explicitHashKey, CancellationToken cancellationToken)
    {
        var record = new ProducerRecord(data, partitionKey, explicitHashKey);
        foreach (var transform in _transforms)
        {
            if (await transform.TransformAsync(record.Data, record.PartitionKey, record.ExplicitHashKey, cancellationToken).ConfigureAwait(false) is not { } next)
            {
                return (null, transform.GetType().Name);
            }

            record = next;
        }

        return (record, null);
    }
}
