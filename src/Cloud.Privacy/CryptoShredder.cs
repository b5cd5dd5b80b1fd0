namespace Cloud.Privacy;

/// <summary>
/// Right to be forgotten by crypto-shredding: destroys the user's data key (tombstone in the key store), after which
/// every ciphertext of their personal fields — in the stream, in backups of the stream, anywhere — is unreadable.
/// Used by the <c>cloud</c> CLI and the Forget Lambda function.
/// </summary>
public sealed class CryptoShredder
{
    private readonly UserKeyRing _keyRing;

    /// <summary>Creates the shredder over a key ring.</summary>
    public CryptoShredder(UserKeyRing keyRing)
    {
        ArgumentNullException.ThrowIfNull(keyRing);
        _keyRing = keyRing;
    }

    /// <summary>Upper bound until other processes stop using a forgotten key (their cache TTL).</summary>
    public TimeSpan EraseLatency => _keyRing.EraseLatency;

    /// <summary>Forgets the user. Idempotent: forgetting twice keeps the first tombstone.</summary>
    /// <exception cref="KeyStoreException">The key store failed; retry.</exception>
    public Task<ForgetResult> ForgetAsync(string userId, CancellationToken cancellationToken = default) =>
        _keyRing.ForgetAsync(userId, cancellationToken);

    /// <summary>True when the user is forgotten (reads the store unless the cache knows).</summary>
    public async Task<bool> IsForgottenAsync(string userId, CancellationToken cancellationToken = default) =>
        (await _keyRing.FindKeyAsync(userId, cancellationToken).ConfigureAwait(false)).IsForgotten;
}
