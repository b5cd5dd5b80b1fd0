using Cloud.Producer;

namespace Cloud.Privacy.Streaming;

/// <summary>Result of <see cref="EncryptingProducer.SendAsync"/>.</summary>
/// <param name="Protection">What the protector did (Encrypted, NoPersonalData, or Dropped for a forgotten user).</param>
/// <param name="Send">Shard and sequence number; null when the record was dropped.</param>
public readonly record struct EncryptedSendResult(ProtectStatus Protection, SendResult? Send);

/// <summary>
/// An <see cref="IKinesisProducer"/> wrapped with an <see cref="EncryptingTransform"/>: each JSON record's personal fields
/// are encrypted before the inner producer aggregates and compresses it. Use it when you want the protection status of
/// each record; otherwise a <see cref="TransformingProducer"/> with an <see cref="EncryptingTransform"/> is the same.
/// </summary>
public sealed class EncryptingProducer : IAsyncDisposable
{
    private readonly IKinesisProducer _inner;
    private readonly EncryptingTransform _transform;
    private readonly bool _ownsInner;

    /// <summary>Creates the wrapper.</summary>
    /// <param name="inner">The producer writing to <paramref name="streamName"/>.</param>
    /// <param name="protector">Field encryption.</param>
    /// <param name="streamName">The stream the inner producer writes to (the default data-set context).</param>
    /// <param name="ownsInner">Dispose <paramref name="inner"/> with this wrapper.</param>
    public EncryptingProducer(IKinesisProducer inner, PersonalDataProtector protector, string streamName, bool ownsInner = true)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _transform = new EncryptingTransform(protector, streamName);
        _inner = inner;
        _ownsInner = ownsInner;
    }

    /// <summary>The stream written to.</summary>
    public string StreamName => _transform.StreamName;

    /// <summary>The wrapped producer.</summary>
    public IKinesisProducer Inner => _inner;

    /// <summary>Encrypts then sends one UTF-8 JSON record; completes when it is durable (or at once when dropped).</summary>
    /// <exception cref="UserForgottenException">The user is forgotten and the policy is Reject.</exception>
    /// <exception cref="InvalidPersonalDataException">The record is not JSON, or has personal fields but no user id.</exception>
    /// <exception cref="KeyStoreException">The key store failed.</exception>
    /// <exception cref="MasterKeyException">The master key provider failed.</exception>
    public async ValueTask<EncryptedSendResult> SendAsync(ReadOnlyMemory<byte> json, string? partitionKey = null, string? explicitHashKey = null, CancellationToken cancellationToken = default)
    {
        var (status, r) = await _transform.ProtectAsync(json, partitionKey, explicitHashKey, cancellationToken).ConfigureAwait(false);
        if (status == ProtectStatus.Dropped)
        {
            return new EncryptedSendResult(status, null);
        }

        var sent = await _inner.SendAsync(r.Data, r.PartitionKey, r.ExplicitHashKey, cancellationToken).ConfigureAwait(false);
        return new EncryptedSendResult(status, sent);
    }

    /// <summary>Encrypts, then waits only until the record is accepted into the producer's buffer; returns the delivery task (null when dropped).</summary>
    public async ValueTask<Task<SendResult>?> EnqueueAsync(ReadOnlyMemory<byte> json, string? partitionKey = null, string? explicitHashKey = null, CancellationToken cancellationToken = default)
    {
        var (status, r) = await _transform.ProtectAsync(json, partitionKey, explicitHashKey, cancellationToken).ConfigureAwait(false);
        return status == ProtectStatus.Dropped ? null : await _inner.EnqueueAsync(r.Data, r.PartitionKey, r.ExplicitHashKey, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Flushes the inner producer.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) => _inner.FlushAsync(cancellationToken);

    /// <summary>Disposes (flushes) the inner producer when owned.</summary>
    public ValueTask DisposeAsync() => _ownsInner ? _inner.DisposeAsync() : ValueTask.CompletedTask;
}
