using Cloud.Privacy;

namespace Cloud.Producer.Privacy;

/// <summary>Result of <see cref="EncryptingProducer.SendAsync"/>.</summary>
/// <param name="Protection">What the protector did (Encrypted, NoPersonalData, or Dropped for a forgotten user).</param>
/// <param name="Send">Shard and sequence number; null when the record was dropped.</param>
public readonly record struct EncryptedSendResult(ProtectStatus Protection, SendResult? Send);

/// <summary>
/// Encrypts the configured personal fields of each JSON record with its user's key and then hands it to an
/// <see cref="IKinesisProducer"/>, so encryption happens before aggregation and compression. When no partition key is
/// given, the record's (pseudonymous, clear-text) user id is used, keeping each user's records in order on one shard.
/// A write for a forgotten user throws <see cref="UserForgottenException"/> (policy Reject) or is dropped (policy Drop)
/// — it never creates a new key.
/// </summary>
public sealed class EncryptingProducer : IAsyncDisposable
{
    private readonly IKinesisProducer _inner;
    private readonly PersonalDataProtector _protector;
    private readonly bool _ownsInner;

    /// <summary>Creates the wrapper.</summary>
    /// <param name="inner">The producer writing to <paramref name="streamName"/>.</param>
    /// <param name="protector">Field encryption.</param>
    /// <param name="streamName">The stream the inner producer writes to (bound into every ciphertext).</param>
    /// <param name="ownsInner">Dispose <paramref name="inner"/> with this wrapper.</param>
    public EncryptingProducer(IKinesisProducer inner, PersonalDataProtector protector, string streamName, bool ownsInner = true)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(protector);
        ArgumentException.ThrowIfNullOrWhiteSpace(streamName);
        _inner = inner;
        _protector = protector;
        StreamName = streamName;
        _ownsInner = ownsInner;
    }

    /// <summary>The stream bound into ciphertexts.</summary>
    public string StreamName { get; }

    /// <summary>The wrapped producer.</summary>
    public IKinesisProducer Inner => _inner;

    /// <summary>Encrypts then sends one UTF-8 JSON record; completes when it is durable (or at once when dropped).</summary>
    /// <exception cref="UserForgottenException">The user is forgotten and the policy is Reject.</exception>
    /// <exception cref="InvalidPersonalDataException">The record is not JSON, or has personal fields but no user id.</exception>
    /// <exception cref="KeyStoreException">The key store failed.</exception>
    /// <exception cref="MasterKeyException">The master key provider failed.</exception>
    public async ValueTask<EncryptedSendResult> SendAsync(ReadOnlyMemory<byte> json, string? partitionKey = null, string? explicitHashKey = null, CancellationToken cancellationToken = default)
    {
        var (status, data, key) = await ProtectAsync(json, partitionKey, cancellationToken).ConfigureAwait(false);
        if (status == ProtectStatus.Dropped)
        {
            return new EncryptedSendResult(status, null);
        }

        var sent = await _inner.SendAsync(data, key, explicitHashKey, cancellationToken).ConfigureAwait(false);
        return new EncryptedSendResult(status, sent);
    }

    /// <summary>Encrypts, then waits only until the record is accepted into the producer's buffer; returns the delivery task (null when dropped).</summary>
    public async ValueTask<Task<SendResult>?> EnqueueAsync(ReadOnlyMemory<byte> json, string? partitionKey = null, string? explicitHashKey = null, CancellationToken cancellationToken = default)
    {
        var (status, data, key) = await ProtectAsync(json, partitionKey, cancellationToken).ConfigureAwait(false);
        return status == ProtectStatus.Dropped ? null : await _inner.EnqueueAsync(data, key, explicitHashKey, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Flushes the inner producer.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) => _inner.FlushAsync(cancellationToken);

    /// <summary>Disposes (flushes) the inner producer when owned.</summary>
    public ValueTask DisposeAsync() => _ownsInner ? _inner.DisposeAsync() : ValueTask.CompletedTask;

    private async ValueTask<(ProtectStatus Status, ReadOnlyMemory<byte> Data, string? PartitionKey)> ProtectAsync(ReadOnlyMemory<byte> json, string? partitionKey, CancellationToken cancellationToken)
    {
        var result = await _protector.EncryptAsync(json, StreamName, cancellationToken).ConfigureAwait(false);
        return (result.Status, result.Json, partitionKey ?? result.UserId);
    }
}
