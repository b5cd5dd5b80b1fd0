using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using System.Security.Cryptography;

namespace Cloud.Privacy;

/// <summary>Result of looking up a user's key for decryption (never creates one).</summary>
/// <param name="Status">Active, Forgotten, or null when the user has no record.</param>
/// <param name="Key">The unwrapped key when active.</param>
/// <param name="ForgottenAt">When forgotten, if known.</param>
public readonly record struct KeyLookup(KeyStatus? Status, UserDataKey? Key, DateTimeOffset? ForgottenAt)
{
    /// <summary>True when the user is forgotten.</summary>
    public bool IsForgotten => Status == KeyStatus.Forgotten;
}

/// <summary>
/// Per-user data keys: the key store (wrapped keys, tombstones) + the master key provider (unwrap) + a bounded cache.
/// Creating a key for a forgotten user is impossible: the store's create is conditional and a tombstone wins.
/// </summary>
public sealed class UserKeyRing
{
    /// <summary>Version given to newly created keys.</summary>
    public const int InitialKeyVersion = 1;

    private readonly IKeyStore _store;
    private readonly IMasterKeyProvider _masterKey;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the key ring.</summary>
    public UserKeyRing(IKeyStore store, IMasterKeyProvider masterKey, DataKeyCache cache, TimeProvider? timeProvider = null, ILogger<UserKeyRing>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(masterKey);
        ArgumentNullException.ThrowIfNull(cache);
        _store = store;
        _masterKey = masterKey;
        Cache = cache;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The cache of unwrapped keys.</summary>
    public DataKeyCache Cache { get; }

    /// <summary>The key store.</summary>
    public IKeyStore Store => _store;

    /// <summary>Upper bound for other processes to stop using a forgotten user's key: the cache TTL.</summary>
    public TimeSpan EraseLatency => Cache.Ttl;

    /// <summary>Returns the user's key, creating it on first use.</summary>
    /// <exception cref="UserForgottenException">The user was forgotten; no key is created.</exception>
    /// <exception cref="KeyStoreException">The key store failed.</exception>
    /// <exception cref="MasterKeyException">Generating or unwrapping the key failed.</exception>
    public async ValueTask<UserDataKey> GetOrCreateKeyAsync(string userId, CancellationToken cancellationToken)
    {
        CheckUserId(userId);
        if (Cache.TryGet(userId, out var cached))
        {
            return cached.Key ?? throw new UserForgottenException(userId, cached.ForgottenAt);
        }

        long lookup = Cache.BeginLookup();
        var record = await _store.GetAsync(userId, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            var generated = await _masterKey.GenerateDataKeyAsync(userId, cancellationToken).ConfigureAwait(false);
            try
            {
                var candidate = new KeyRecord(userId, KeyStatus.Active, InitialKeyVersion, generated.Wrapped, _masterKey.MasterKeyId, _time.GetUtcNow(), null);
                record = await _store.TryCreateAsync(candidate, cancellationToken).ConfigureAwait(false);
                if (ReferenceEquals(record, candidate))
                {
                    _logger.LogInformation("Created data key version {KeyVersion} for {UserRef}", InitialKeyVersion, UserReference.For(userId));
                    var created = new UserDataKey(userId, InitialKeyVersion, generated.Plaintext);
                    Cache.TrySetKey(created, lookup);
                    return created;
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(generated.Plaintext);
            }
        }

        var found = await UnwrapAsync(record, lookup, cancellationToken).ConfigureAwait(false);
        return found.Key ?? throw new UserForgottenException(userId, found.ForgottenAt);
    }

    /// <summary>Finds the user's key for decryption; never creates one.</summary>
    /// <exception cref="KeyStoreException">The key store failed.</exception>
    /// <exception cref="MasterKeyException">Unwrapping the key failed.</exception>
    public async ValueTask<KeyLookup> FindKeyAsync(string userId, CancellationToken cancellationToken)
    {
        CheckUserId(userId);
        if (Cache.TryGet(userId, out var cached))
        {
            return cached.Key is { } key ? new KeyLookup(KeyStatus.Active, key, null) : new KeyLookup(KeyStatus.Forgotten, null, cached.ForgottenAt);
        }

        long lookup = Cache.BeginLookup();
        var record = await _store.GetAsync(userId, cancellationToken).ConfigureAwait(false);
        return record is null ? default : await UnwrapAsync(record, lookup, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Forgets the user: writes the tombstone (destroying the wrapped key) and drops the local cache entry at once.
    /// Other processes stop using the key within <see cref="EraseLatency"/>. Idempotent.
    /// </summary>
    /// <exception cref="KeyStoreException">The key store failed; the user is not yet forgotten — retry.</exception>
    public async Task<ForgetResult> ForgetAsync(string userId, CancellationToken cancellationToken)
    {
        CheckUserId(userId);
        Cache.Invalidate(userId);
        var (outcome, at) = await _store.ForgetAsync(userId, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        // Only now that the tombstone is durable: overwrites any key a concurrent lookup cached, and makes the cache
        // refuse the key of every lookup that began earlier (it may have read the record before the tombstone).
        Cache.SetForgotten(userId, at);
        _logger.LogInformation("Forgot {UserRef}: {Outcome}; other processes drop the key within {EraseLatency}", UserReference.For(userId), outcome, EraseLatency);
        return new ForgetResult(userId, outcome, at, EraseLatency);
    }

    // A user id equal to a branch-key item's name would read — or forget — a branch key.
    private static void CheckUserId(string userId)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        if (BranchKeyNames.IsReserved(userId))
        {
            throw new InvalidPersonalDataException($"a user id must not start with '{BranchKeyNames.Prefix}' (reserved for branch keys)", null);
        }
    }

    private async ValueTask<KeyLookup> UnwrapAsync(KeyRecord record, long lookupToken, CancellationToken cancellationToken)
    {
        if (record.Status == KeyStatus.Forgotten)
        {
            Cache.SetForgotten(record.UserId, record.ForgottenAt);
            return new KeyLookup(KeyStatus.Forgotten, null, record.ForgottenAt);
        }

        var plaintext = await _masterKey.DecryptDataKeyAsync(record.UserId, record.WrappedKey, cancellationToken).ConfigureAwait(false);
        try
        {
            var key = new UserDataKey(record.UserId, record.KeyVersion, plaintext);
            Cache.TrySetKey(key, lookupToken);
            return new KeyLookup(KeyStatus.Active, key, null);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }
}
