using Cloud.Telemetry;
namespace Cloud.Privacy;

/// <summary>
/// Right to be forgotten by crypto-shredding: destroys the user's data key (tombstone in the key store), after which
/// every ciphertext of their personal fields — in the stream, in backups of the stream, anywhere — is unreadable.
/// Used by the <c>cloud</c> CLI and the Forget Lambda function.
/// </summary>
public sealed class CryptoShredder
{
    private readonly UserKeyRing _keyRing;
    private readonly PseudonymousIdentity? _identity;

    /// <summary>Creates the shredder over a key ring (and, in pseudonymous mode, the identity layer over it).</summary>
    public CryptoShredder(UserKeyRing keyRing, PseudonymousIdentity? identity = null)
    {
        ArgumentNullException.ThrowIfNull(keyRing);
        _keyRing = keyRing;
        _identity = identity;
    }

    /// <summary>The pseudonymous identity layer, when in use.</summary>
    public PseudonymousIdentity? Identity => _identity;

    /// <summary>Upper bound until other processes stop using a forgotten key (their cache TTL).</summary>
    public TimeSpan EraseLatency => _keyRing.EraseLatency;

    /// <summary>Forgets the user. Idempotent: forgetting twice keeps the first tombstone.</summary>
    /// <exception cref="KeyStoreException">The key store failed; retry.</exception>
    public async Task<ForgetResult> ForgetAsync(string userId, CancellationToken cancellationToken = default)
    {
        // The span names the operation and its outcome, never the user.
        using var activity = PrivacyTelemetry.Source.StartActivity(ActivityNames.Forget);
        var result = _identity is not null
            ? await _identity.ForgetAsync(userId, cancellationToken).ConfigureAwait(false)
            : await _keyRing.ForgetAsync(userId, cancellationToken).ConfigureAwait(false);
        activity?.SetTag(TelemetryTags.Outcome, result.Outcome.ToString());
        return result;
    }

    /// <summary>True when the user is forgotten (reads the store unless the cache knows).</summary>
    public async Task<bool> IsForgottenAsync(string userId, CancellationToken cancellationToken = default)
    {
        var keyId = _identity is not null ? await _identity.KeyIdOfAsync(userId, cancellationToken).ConfigureAwait(false) : userId;
        return (await _keyRing.FindKeyAsync(keyId, cancellationToken).ConfigureAwait(false)).IsForgotten;
    }
}
