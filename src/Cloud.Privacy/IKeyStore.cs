namespace Cloud.Privacy;

/// <summary>Status of a user's key record.</summary>
public enum KeyStatus
{
    /// <summary>The user has a (wrapped) data key.</summary>
    Active,

    /// <summary>Tombstone: the key material was destroyed and no new key may ever be created for the user.</summary>
    Forgotten,
}

/// <summary>A user's row in the key store. A tombstone has <see cref="KeyStatus.Forgotten"/> and an empty <see cref="WrappedKey"/>.</summary>
/// <param name="UserId">Pseudonymous user id (partition key).</param>
/// <param name="Status">Active or Forgotten.</param>
/// <param name="KeyVersion">Version of the data key (0 for a tombstone of a user who never had a key).</param>
/// <param name="WrappedKey">The data key wrapped by the master key; empty for tombstones.</param>
/// <param name="MasterKeyId">Which master key wrapped it.</param>
/// <param name="CreatedAt">When the key (or the tombstone, if there never was a key) was created.</param>
/// <param name="ForgottenAt">When the user was forgotten.</param>
public sealed record KeyRecord(
    string UserId,
    KeyStatus Status,
    int KeyVersion,
    ReadOnlyMemory<byte> WrappedKey,
    string? MasterKeyId,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ForgottenAt)
{
    /// <summary>Never prints key material.</summary>
    public override string ToString() => $"KeyRecord({UserReference.For(UserId)}, status={Status}, version={KeyVersion}, wrapped={WrappedKey.Length} bytes)";
}

/// <summary>How a forget request ended.</summary>
public enum ForgetOutcome
{
    /// <summary>An active key was destroyed and replaced by a tombstone.</summary>
    KeyDestroyed,

    /// <summary>The user had no key; a tombstone now blocks any future key.</summary>
    TombstoneCreated,

    /// <summary>The user was already forgotten; the original tombstone is kept.</summary>
    AlreadyForgotten,
}

/// <summary>Result of forgetting a user.</summary>
/// <param name="UserId">The user.</param>
/// <param name="Outcome">What happened.</param>
/// <param name="ForgottenAt">Time of the (original) tombstone.</param>
/// <param name="EraseLatency">Upper bound until every process using the key store has dropped its cached copy of the key (the cache TTL).</param>
public sealed record ForgetResult(string UserId, ForgetOutcome Outcome, DateTimeOffset ForgottenAt, TimeSpan EraseLatency);

/// <summary>
/// Durable map user id → wrapped data key. Implementations must make <see cref="TryCreateAsync"/> conditional
/// (first creator wins, never over a tombstone) and <see cref="ForgetAsync"/> a tombstone write, so a forgotten
/// user can never get a key again.
/// </summary>
public interface IKeyStore
{
    /// <summary>Reads a user's record with strong consistency; null when the user has neither key nor tombstone.</summary>
    /// <exception cref="KeyStoreException">The store failed.</exception>
    Task<KeyRecord?> GetAsync(string userId, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="record"/> only if the user has no record yet. Returns the record that is stored afterwards:
    /// <paramref name="record"/> if it won, otherwise the existing one (another creator's key, or a tombstone).
    /// </summary>
    /// <exception cref="KeyStoreException">The store failed.</exception>
    Task<KeyRecord> TryCreateAsync(KeyRecord record, CancellationToken cancellationToken);

    /// <summary>Replaces the user's record by a tombstone (wrapped key removed), unless it already is one.</summary>
    /// <exception cref="KeyStoreException">The store failed.</exception>
    Task<(ForgetOutcome Outcome, DateTimeOffset ForgottenAt)> ForgetAsync(string userId, DateTimeOffset at, CancellationToken cancellationToken);
}
