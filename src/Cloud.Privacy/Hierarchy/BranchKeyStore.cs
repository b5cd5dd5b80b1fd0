using System.Collections.Concurrent;

namespace Cloud.Privacy;

/// <summary>One version of a branch key: 256 bits wrapped by the root master key (KMS or local).</summary>
/// <param name="BranchKeyId">The branch key's name (e.g. <c>default</c>).</param>
/// <param name="Version">1, 2, … — each rotation adds one; every version is kept so older user keys stay readable.</param>
/// <param name="WrappedKey">The branch key wrapped by the root master key, bound to <see cref="BranchKeyNames.ContextOf"/>.</param>
/// <param name="MasterKeyId">The root master key that wrapped it.</param>
/// <param name="CreatedAt">When this version was created.</param>
public sealed record BranchKeyRecord(string BranchKeyId, int Version, ReadOnlyMemory<byte> WrappedKey, string? MasterKeyId, DateTimeOffset CreatedAt)
{
    /// <summary>Never prints key material.</summary>
    public override string ToString() => $"BranchKeyRecord({BranchKeyId} v{Version}, wrapped={WrappedKey.Length} bytes)";
}

/// <summary>Names used for branch keys in the key table and in the root master key's context.</summary>
public static class BranchKeyNames
{
    /// <summary>Prefix of every branch-key item in the key table; user ids may not start with it.</summary>
    public const string Prefix = "#branch/";

    /// <summary>True when <paramref name="userId"/> would collide with a branch-key item.</summary>
    public static bool IsReserved(string userId) => userId.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The context a branch key version is wrapped under by the root master key (its "user" in the KMS context).</summary>
    public static string ContextOf(string branchKeyId, int version) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Prefix}{branchKeyId}/v{version}");
}

/// <summary>
/// Durable store of branch key versions and, per branch key, which version is active. Implementations:
/// <see cref="DynamoDbBranchKeyStore"/> (items in the key table) and <see cref="InMemoryBranchKeyStore"/>.
/// </summary>
public interface IBranchKeyStore
{
    /// <summary>The active version, or null when the branch key was never created.</summary>
    /// <exception cref="KeyStoreException">The store failed.</exception>
    Task<BranchKeyRecord?> GetActiveAsync(string branchKeyId, CancellationToken cancellationToken);

    /// <summary>A given version, or null when it does not exist.</summary>
    /// <exception cref="KeyStoreException">The store failed.</exception>
    Task<BranchKeyRecord?> GetVersionAsync(string branchKeyId, int version, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="candidate"/> and makes it the active version, only if the active version is still
    /// <paramref name="expectedActiveVersion"/> (null: none yet). Returns the active version afterwards: the candidate
    /// if it won, otherwise the concurrent winner.
    /// </summary>
    /// <exception cref="KeyStoreException">The store failed.</exception>
    Task<BranchKeyRecord> TryActivateAsync(BranchKeyRecord candidate, int? expectedActiveVersion, CancellationToken cancellationToken);
}

/// <summary>An in-process <see cref="IBranchKeyStore"/>, for tests, benchmarks and single-process tools.</summary>
public sealed class InMemoryBranchKeyStore : IBranchKeyStore
{
    private readonly ConcurrentDictionary<(string, int), BranchKeyRecord> _versions = new();
    private readonly ConcurrentDictionary<string, int> _active = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <inheritdoc />
    public Task<BranchKeyRecord?> GetActiveAsync(string branchKeyId, CancellationToken cancellationToken) =>
        Task.FromResult(_active.TryGetValue(branchKeyId, out var v) ? _versions.GetValueOrDefault((branchKeyId, v)) : null);

    /// <inheritdoc />
    public Task<BranchKeyRecord?> GetVersionAsync(string branchKeyId, int version, CancellationToken cancellationToken) =>
        Task.FromResult(_versions.GetValueOrDefault((branchKeyId, version)));

    /// <inheritdoc />
    public Task<BranchKeyRecord> TryActivateAsync(BranchKeyRecord candidate, int? expectedActiveVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        lock (_lock)
        {
            int? current = _active.TryGetValue(candidate.BranchKeyId, out var v) ? v : null;
            if (current is { } active && active != expectedActiveVersion)
            {
                return Task.FromResult(_versions[(candidate.BranchKeyId, active)]);
            }

            _versions[(candidate.BranchKeyId, candidate.Version)] = candidate;
            _active[candidate.BranchKeyId] = candidate.Version;
            return Task.FromResult(candidate);
        }
    }
}
