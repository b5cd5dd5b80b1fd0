using Cloud.Producer;

namespace Cloud.Privacy.Streaming;

/// <summary>
/// <see cref="IProducerRecordTransform"/> that encrypts the configured personal fields of each UTF-8 JSON record with its
/// user's key (<see cref="PersonalDataProtector.EncryptAsync"/>), so encryption happens before the producer aggregates
/// and compresses. When the caller gives no partition key, the record's user id is used, keeping each user's records in
/// order on one shard. A write for a forgotten user throws <see cref="UserForgottenException"/> (policy Reject) or is
/// dropped (policy Drop: the transform returns null) — it never creates a new key.
/// </summary>
public sealed class EncryptingTransform : IProducerRecordTransform
{
    private readonly PersonalDataProtector _protector;

    /// <summary>Creates the transform.</summary>
    /// <param name="protector">Field encryption.</param>
    /// <param name="streamName">The stream the records are written to (the default data-set context).</param>
    public EncryptingTransform(PersonalDataProtector protector, string streamName)
    {
        ArgumentNullException.ThrowIfNull(protector);
        ArgumentException.ThrowIfNullOrWhiteSpace(streamName);
        _protector = protector;
        StreamName = streamName;
    }

    /// <summary>The stream written to.</summary>
    public string StreamName { get; }

    /// <inheritdoc />
    /// <exception cref="UserForgottenException">The user is forgotten and the policy is Reject.</exception>
    /// <exception cref="InvalidPersonalDataException">The record is not JSON, or has personal fields but no user id.</exception>
    /// <exception cref="KeyStoreException">The key store failed.</exception>
    /// <exception cref="MasterKeyException">The master key provider failed.</exception>
    public async ValueTask<ProducerRecord?> TransformAsync(ReadOnlyMemory<byte> data, string? partitionKey, string? explicitHashKey, CancellationToken cancellationToken)
    {
        var (status, record) = await ProtectAsync(data, partitionKey, explicitHashKey, cancellationToken).ConfigureAwait(false);
        return status == ProtectStatus.Dropped ? null : record;
    }

    /// <summary>Like <see cref="TransformAsync"/>, and says what the protector did.</summary>
    public async ValueTask<(ProtectStatus Status, ProducerRecord Record)> ProtectAsync(ReadOnlyMemory<byte> data, string? partitionKey, string? explicitHashKey, CancellationToken cancellationToken)
    {
        var result = await _protector.EncryptAsync(data, StreamName, cancellationToken).ConfigureAwait(false);
        return (result.Status, new ProducerRecord(result.Json, partitionKey ?? result.UserId, explicitHashKey));
    }
}
