using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Cloud.Privacy;

/// <summary>
/// Pseudonymous identifiers that die with the user's key (issue 11, gap 2). For a user id <c>u</c>:
/// <list type="bullet">
/// <item><b>key id</b> <c>k1_</c> + HMAC-SHA256(index key, u): the user's row in the key table (and its tombstone after
/// a forget). The index key is one secret per key table, stored there wrapped by the master key. This keyed hash is the
/// one value computable from <c>u</c> that survives a forget — needed to refuse new writes.</item>
/// <item><b>pseudonym</b> <c>ps1_</c> + HMAC-SHA256(HKDF(user data key), u): what records carry in clear instead of the
/// user id (user id field, partition key, per-user aggregate key). Computable only with the user's data key, so once the
/// key is destroyed nobody can link it to <c>u</c> again.</item>
/// </list>
/// A pseudonym → key id entry lets consumers find the key; a forget replaces it by a tombstone without the key id.
/// </summary>
public sealed class PseudonymousIdentity
{
    /// <summary>Prefix of a pseudonym.</summary>
    public const string PseudonymPrefix = "ps1_";

    /// <summary>Prefix of a key id.</summary>
    public const string KeyIdPrefix = "k1_";

    /// <summary>Branch-key id under which the index key is kept in the key table.</summary>
    public const string IndexKeyId = "user-index";

    private static readonly byte[] PseudonymInfo = Encoding.UTF8.GetBytes("cloud.privacy.pseudonym/v1");
    private readonly IBranchKeyStore _indexStore;
    private readonly IMasterKeyProvider _root;
    private readonly IPseudonymStore _pseudonyms;
    private readonly UserKeyRing _ring;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, string> _keyIdByPseudonym = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _linked = new(StringComparer.Ordinal);
    private Task<byte[]>? _indexKey;

    /// <summary>Creates the identity layer.</summary>
    /// <param name="ring">The key ring; it only ever sees key ids, never user ids.</param>
    /// <param name="pseudonyms">Pseudonym → key id entries.</param>
    /// <param name="indexStore">Where the index key is kept (wrapped by <paramref name="root"/>).</param>
    /// <param name="root">The master key (KMS or local) — not a branch-key provider.</param>
    /// <param name="timeProvider">Clock for tombstones.</param>
    public PseudonymousIdentity(UserKeyRing ring, IPseudonymStore pseudonyms, IBranchKeyStore indexStore, IMasterKeyProvider root, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(ring);
        ArgumentNullException.ThrowIfNull(pseudonyms);
        ArgumentNullException.ThrowIfNull(indexStore);
        ArgumentNullException.ThrowIfNull(root);
        _ring = ring;
        _pseudonyms = pseudonyms;
        _indexStore = indexStore;
        _root = root;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The key ring (keyed by key ids).</summary>
    public UserKeyRing KeyRing => _ring;

    /// <summary>The pseudonym entries.</summary>
    public IPseudonymStore Pseudonyms => _pseudonyms;

    /// <summary>True when <paramref name="value"/> has the shape of a pseudonym.</summary>
    public static bool IsPseudonym(string? value) => value is not null && value.StartsWith(PseudonymPrefix, StringComparison.Ordinal);

    /// <summary>The pseudonym of <paramref name="userId"/> under its data key.</summary>
    public static string PseudonymOf(UserDataKey key, string userId)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> derived = stackalloc byte[32];
        key.DerivePseudonymKey(PseudonymInfo, derived);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(derived, Encoding.UTF8.GetBytes(userId), mac);
        CryptographicOperations.ZeroMemory(derived);
        return PseudonymPrefix + Convert.ToBase64String(mac[..18]).Replace('+', '-').Replace('/', '_');
    }

    /// <summary>The user's key id (keyed hash under the table's index key; created on first use).</summary>
    /// <exception cref="KeyStoreException">The store failed.</exception>
    /// <exception cref="MasterKeyException">The index key cannot be unwrapped.</exception>
    public async ValueTask<string> KeyIdOfAsync(string userId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        var index = await IndexKeyAsync().ConfigureAwait(false);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(index, Encoding.UTF8.GetBytes(userId), mac);
        return KeyIdPrefix + Convert.ToBase64String(mac[..24]).Replace('+', '-').Replace('/', '_');
    }

    /// <summary>For a write: the user's key (created on first use) and pseudonym; makes sure consumers can find the key.</summary>
    /// <exception cref="UserForgottenException">The user was forgotten.</exception>
    public async ValueTask<(UserDataKey Key, string Pseudonym)> OpenAsync(string userId, CancellationToken cancellationToken)
    {
        var keyId = await KeyIdOfAsync(userId, cancellationToken).ConfigureAwait(false);
        var key = await _ring.GetOrCreateKeyAsync(keyId, cancellationToken).ConfigureAwait(false);
        var pseudonym = PseudonymOf(key, userId);
        if (!_linked.ContainsKey(pseudonym))
        {
            await _pseudonyms.AddAsync(pseudonym, keyId, cancellationToken).ConfigureAwait(false);
            if (_linked.Count > _ring.Cache.MaxEntries)
            {
                _linked.Clear();
            }

            _linked.TryAdd(pseudonym, 0);
        }

        return (key, pseudonym);
    }

    /// <summary>The user's current pseudonym, or null when they have no key (never had one, or forgotten).</summary>
    public async ValueTask<string?> FindPseudonymAsync(string userId, CancellationToken cancellationToken)
    {
        var lookup = await _ring.FindKeyAsync(await KeyIdOfAsync(userId, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        return lookup.Key is { } key ? PseudonymOf(key, userId) : null;
    }

    /// <summary>For a read: the key behind a pseudonym (Forgotten when its user was forgotten; default when unknown).</summary>
    public async ValueTask<KeyLookup> FindByPseudonymAsync(string pseudonym, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(pseudonym);
        if (!_keyIdByPseudonym.TryGetValue(pseudonym, out var keyId))
        {
            var entry = await _pseudonyms.GetAsync(pseudonym, cancellationToken).ConfigureAwait(false);
            if (entry is null)
            {
                return default;
            }

            if (entry.Value.Forgotten || entry.Value.KeyId is null)
            {
                return new KeyLookup(KeyStatus.Forgotten, null, null);
            }

            keyId = entry.Value.KeyId;
            if (_keyIdByPseudonym.Count > _ring.Cache.MaxEntries)
            {
                _keyIdByPseudonym.Clear();
            }

            _keyIdByPseudonym[pseudonym] = keyId;
        }

        return await _ring.FindKeyAsync(keyId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Forgets the user: tombstones their pseudonym entry (computed with their key while it still exists), then destroys
    /// the key (a tombstone keyed by the key id). Idempotent; a retry after a partial failure completes it.
    /// </summary>
    public async Task<ForgetResult> ForgetAsync(string userId, CancellationToken cancellationToken)
    {
        var keyId = await KeyIdOfAsync(userId, cancellationToken).ConfigureAwait(false);
        var lookup = await _ring.FindKeyAsync(keyId, cancellationToken).ConfigureAwait(false);
        if (lookup.Key is { } key)
        {
            var pseudonym = PseudonymOf(key, userId);
            await _pseudonyms.ForgetAsync(pseudonym, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            _keyIdByPseudonym.TryRemove(pseudonym, out _);
            _linked.TryRemove(pseudonym, out _);
        }

        var result = await _ring.ForgetAsync(keyId, cancellationToken).ConfigureAwait(false);
        return result with { UserId = userId };
    }

    // One load per process, shared by concurrent callers; a failed load is retried by the next caller.
    private Task<byte[]> IndexKeyAsync()
    {
        var current = Volatile.Read(ref _indexKey);
        if (current is not null && !current.IsFaulted && !current.IsCanceled)
        {
            return current;
        }

        var loading = LoadIndexKeyAsync(CancellationToken.None);
        return Interlocked.CompareExchange(ref _indexKey, loading, current) == current ? loading : _indexKey!;
    }

    private async Task<byte[]> LoadIndexKeyAsync(CancellationToken cancellationToken)
    {
        var record = await _indexStore.GetActiveAsync(IndexKeyId, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            var generated = await _root.GenerateDataKeyAsync(BranchKeyNames.ContextOf(IndexKeyId, 1), cancellationToken).ConfigureAwait(false);
            var candidate = new BranchKeyRecord(IndexKeyId, 1, generated.Wrapped, _root.MasterKeyId, _time.GetUtcNow());
            record = await _indexStore.TryActivateAsync(candidate, null, cancellationToken).ConfigureAwait(false);
            if (ReferenceEquals(record, candidate))
            {
                return generated.Plaintext;
            }

            CryptographicOperations.ZeroMemory(generated.Plaintext);
        }

        return await _root.DecryptDataKeyAsync(BranchKeyNames.ContextOf(IndexKeyId, record.Version), record.WrappedKey, cancellationToken).ConfigureAwait(false);
    }
}
