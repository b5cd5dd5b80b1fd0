using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Cloud.Privacy;

/// <summary>Outcome of <see cref="HierarchicalMasterKeyProvider.RotateAsync"/>.</summary>
/// <param name="BranchKeyId">The branch key.</param>
/// <param name="PreviousVersion">The version that was active before (null: the branch key was just created).</param>
/// <param name="ActiveVersion">The version now active (wraps every new user key).</param>
public sealed record BranchKeyRotation(string BranchKeyId, int? PreviousVersion, int ActiveVersion);

/// <summary>
/// Hierarchical key wrapping, as the AWS Encryption SDK's hierarchical keyring does: per-user data keys are wrapped
/// locally (AES-256-GCM) by a <em>branch key</em>; branch keys live in the key table wrapped by the root master key
/// (KMS or local). A process calls the root master key once per branch key version per <see cref="CacheTtl"/> —
/// not once per user — so KMS calls and cost no longer grow with the number of users. Forgetting a user still destroys
/// only that user's wrapped key. <see cref="RotateAsync"/> adds a branch key version that wraps new user keys; earlier
/// versions are kept, so nothing is re-encrypted.
/// </summary>
/// <remarks>
/// Wrapped user key (v2): <c>[0x02][branch version, uint32 BE][nonce 12][key 32][tag 16]</c>; associated data
/// <c>"cloud.privacy.branch-wrap/v1" 0 branchKeyId 0 version 0 userId 0 purpose</c>, so a wrapped key moved to another
/// user or branch does not unwrap. Thread-safe.
/// </remarks>
public sealed class HierarchicalMasterKeyProvider : IMasterKeyProvider, IDisposable
{
    /// <summary>First byte of a branch-wrapped user key.</summary>
    public const byte WrapFormat = 2;

    /// <summary>Length of a branch-wrapped user key.</summary>
    public const int WrappedLength = 1 + 4 + FieldCiphertext.NonceSize + UserDataKey.KeySize + FieldCiphertext.TagSize;

    private readonly IBranchKeyStore _store;
    private readonly IMasterKeyProvider _root;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<int, CachedBranch> _versions = new();
    private readonly SemaphoreSlim _load = new(1, 1);
    private CachedBranch? _active;

    /// <summary>Creates the provider.</summary>
    /// <param name="store">Branch key versions and the active pointer.</param>
    /// <param name="root">The root master key (KMS or local) that wraps branch keys.</param>
    /// <param name="branchKeyId">The branch key this process wraps new user keys with.</param>
    /// <param name="cacheTtl">How long an unwrapped branch key (and the active pointer) is served before the store and root are asked again.</param>
    /// <param name="timeProvider">Clock for the cache.</param>
    public HierarchicalMasterKeyProvider(IBranchKeyStore store, IMasterKeyProvider root, string branchKeyId, TimeSpan cacheTtl, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(root);
        ArgumentException.ThrowIfNullOrWhiteSpace(branchKeyId);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(cacheTtl, TimeSpan.Zero);
        if (branchKeyId.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException("A branch key id must not contain '/'.", nameof(branchKeyId));
        }

        _store = store;
        _root = root;
        BranchKeyId = branchKeyId;
        CacheTtl = cacheTtl;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The branch key in use.</summary>
    public string BranchKeyId { get; }

    /// <summary>Branch key cache TTL.</summary>
    public TimeSpan CacheTtl { get; }

    /// <summary>The root master key provider.</summary>
    public IMasterKeyProvider Root => _root;

    /// <inheritdoc />
    public string MasterKeyId => "branch:" + BranchKeyId;

    /// <inheritdoc />
    public async Task<GeneratedDataKey> GenerateDataKeyAsync(string userId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        var branch = await ActiveAsync(userId, cancellationToken).ConfigureAwait(false);
        var plaintext = RandomNumberGenerator.GetBytes(UserDataKey.KeySize);
        var wrapped = new byte[WrappedLength];
        wrapped[0] = WrapFormat;
        BinaryPrimitives.WriteUInt32BigEndian(wrapped.AsSpan(1), (uint)branch.Version);
        var nonce = wrapped.AsSpan(5, FieldCiphertext.NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(branch.Key, FieldCiphertext.TagSize);
        aes.Encrypt(nonce, plaintext, wrapped.AsSpan(5 + FieldCiphertext.NonceSize, UserDataKey.KeySize), wrapped.AsSpan(WrappedLength - FieldCiphertext.TagSize), Aad(branch.Version, userId));
        return new GeneratedDataKey(plaintext, wrapped);
    }

    /// <inheritdoc />
    public async Task<byte[]> DecryptDataKeyAsync(string userId, ReadOnlyMemory<byte> wrappedKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        if (wrappedKey.Length != WrappedLength || wrappedKey.Span[0] != WrapFormat)
        {
            throw new MasterKeyException("Decrypt", userId, $"wrapped key has {wrappedKey.Length} bytes / format {(wrappedKey.Length > 0 ? wrappedKey.Span[0] : 0)}, expected {WrappedLength} / {WrapFormat} (a branch-wrapped key)");
        }

        uint raw = BinaryPrimitives.ReadUInt32BigEndian(wrappedKey.Span[1..]);
        if (raw is 0 or > int.MaxValue)
        {
            throw new MasterKeyException("Decrypt", userId, $"wrapped key names branch version {raw}");
        }

        var branch = await VersionAsync((int)raw, userId, cancellationToken).ConfigureAwait(false);
        var plaintext = new byte[UserDataKey.KeySize];
        try
        {
            using var aes = new AesGcm(branch.Key, FieldCiphertext.TagSize);
            var w = wrappedKey.Span;
            aes.Decrypt(w.Slice(5, FieldCiphertext.NonceSize), w.Slice(5 + FieldCiphertext.NonceSize, UserDataKey.KeySize), w[^FieldCiphertext.TagSize..], plaintext, Aad(branch.Version, userId));
            return plaintext;
        }
        catch (CryptographicException ex)
        {
            throw new MasterKeyException("Decrypt", userId, $"wrapped key is not authentic for this user under branch key '{BranchKeyId}' version {branch.Version}", ex);
        }
    }

    /// <summary>
    /// Adds a branch key version (wrapped by the root master key) and makes it active: new user keys are wrapped with it,
    /// existing ones keep theirs. Creates version 1 when the branch key does not exist yet. Other processes pick the new
    /// version up within <see cref="CacheTtl"/>.
    /// </summary>
    /// <exception cref="KeyStoreException">The store failed.</exception>
    /// <exception cref="MasterKeyException">The root master key failed.</exception>
    public async Task<BranchKeyRotation> RotateAsync(CancellationToken cancellationToken = default)
    {
        await _load.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = await _store.GetActiveAsync(BranchKeyId, cancellationToken).ConfigureAwait(false);
            var next = await CreateVersionLockedAsync((current?.Version ?? 0) + 1, current?.Version, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _active, null);
            return new BranchKeyRotation(BranchKeyId, current?.Version, next.Version);
        }
        finally
        {
            _load.Release();
        }
    }

    /// <summary>Clears cached branch keys.</summary>
    public void Dispose()
    {
        foreach (var b in _versions.Values)
        {
            CryptographicOperations.ZeroMemory(b.Key);
        }

        _versions.Clear();
        _load.Dispose();
    }

    private async ValueTask<CachedBranch> ActiveAsync(string userId, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (Volatile.Read(ref _active) is { } a && now < a.ExpiresAt)
        {
            return a;
        }

        await _load.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _active) is { } again && now < again.ExpiresAt)
            {
                return again;
            }

            var record = await _store.GetActiveAsync(BranchKeyId, cancellationToken).ConfigureAwait(false)
                ?? await CreateVersionLockedAsync(1, null, cancellationToken).ConfigureAwait(false);
            var branch = await UnwrapLockedAsync(record, userId, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _active, branch);
            return branch;
        }
        finally
        {
            _load.Release();
        }
    }

    private async ValueTask<CachedBranch> VersionAsync(int version, string userId, CancellationToken cancellationToken)
    {
        if (_versions.TryGetValue(version, out var cached) && _time.GetUtcNow() < cached.ExpiresAt)
        {
            return cached;
        }

        await _load.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_versions.TryGetValue(version, out var again) && _time.GetUtcNow() < again.ExpiresAt)
            {
                return again;
            }

            var record = await _store.GetVersionAsync(BranchKeyId, version, cancellationToken).ConfigureAwait(false)
                ?? throw new MasterKeyException("Decrypt", userId, $"branch key '{BranchKeyId}' has no version {version}");
            return await UnwrapLockedAsync(record, userId, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _load.Release();
        }
    }

    // Caller holds _load.
    private async ValueTask<CachedBranch> UnwrapLockedAsync(BranchKeyRecord record, string userId, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_versions.TryGetValue(record.Version, out var cached) && now < cached.ExpiresAt)
        {
            return cached;
        }

        byte[] key;
        try
        {
            key = await _root.DecryptDataKeyAsync(BranchKeyNames.ContextOf(BranchKeyId, record.Version), record.WrappedKey, cancellationToken).ConfigureAwait(false);
        }
        catch (MasterKeyException ex)
        {
            throw new MasterKeyException("UnwrapBranchKey", userId, $"branch key '{BranchKeyId}' version {record.Version}: {ex.Message}", ex);
        }

        var branch = new CachedBranch(record.Version, key, now + CacheTtl);
        _versions[record.Version] = branch;
        return branch;
    }

    // Caller holds _load. A winning candidate's key is cached at once (no root Decrypt for the version just generated).
    private async Task<BranchKeyRecord> CreateVersionLockedAsync(int version, int? expectedActive, CancellationToken cancellationToken)
    {
        var generated = await _root.GenerateDataKeyAsync(BranchKeyNames.ContextOf(BranchKeyId, version), cancellationToken).ConfigureAwait(false);
        var candidate = new BranchKeyRecord(BranchKeyId, version, generated.Wrapped, _root.MasterKeyId, _time.GetUtcNow());
        var active = await _store.TryActivateAsync(candidate, expectedActive, cancellationToken).ConfigureAwait(false);
        if (ReferenceEquals(active, candidate))
        {
            _versions[version] = new CachedBranch(version, generated.Plaintext, _time.GetUtcNow() + CacheTtl);
        }
        else
        {
            CryptographicOperations.ZeroMemory(generated.Plaintext);
        }

        return active;
    }

    private byte[] Aad(int version, string userId) =>
        Encoding.UTF8.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"cloud.privacy.branch-wrap/v1\0{BranchKeyId}\0{version}\0{userId}\0{DataKeyContext.Purpose}"));

    private sealed record CachedBranch(int Version, byte[] Key, DateTimeOffset ExpiresAt);
}
