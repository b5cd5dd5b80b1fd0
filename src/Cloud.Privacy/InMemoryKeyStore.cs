using System.Collections.Concurrent;

namespace Cloud.Privacy;

/// <summary>
/// An in-process <see cref="IKeyStore"/> with the same conditional semantics as <see cref="DynamoDbKeyStore"/>;
/// for tests, benchmarks and single-process tools. Not durable.
/// </summary>
public sealed class InMemoryKeyStore : IKeyStore
{
    private readonly ConcurrentDictionary<string, KeyRecord> _records = new(StringComparer.Ordinal);

    /// <summary>Number of records (keys and tombstones).</summary>
    public int Count => _records.Count;

    /// <inheritdoc />
    public Task<KeyRecord?> GetAsync(string userId, CancellationToken cancellationToken) =>
        Task.FromResult(_records.TryGetValue(userId, out var r) ? r : null);

    /// <inheritdoc />
    public Task<KeyRecord> TryCreateAsync(KeyRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Task.FromResult(_records.GetOrAdd(record.UserId, record));
    }

    /// <inheritdoc />
    public Task<(ForgetOutcome Outcome, DateTimeOffset ForgottenAt)> ForgetAsync(string userId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_records.TryGetValue(userId, out var existing))
            {
                if (existing.Status == KeyStatus.Forgotten)
                {
                    return Task.FromResult((ForgetOutcome.AlreadyForgotten, existing.ForgottenAt ?? at));
                }

                var tombstone = existing with { Status = KeyStatus.Forgotten, WrappedKey = ReadOnlyMemory<byte>.Empty, ForgottenAt = at };
                if (_records.TryUpdate(userId, tombstone, existing))
                {
                    return Task.FromResult((ForgetOutcome.KeyDestroyed, at));
                }
            }
            else if (_records.TryAdd(userId, new KeyRecord(userId, KeyStatus.Forgotten, 0, ReadOnlyMemory<byte>.Empty, null, at, at)))
            {
                return Task.FromResult((ForgetOutcome.TombstoneCreated, at));
            }
        }
    }
}
