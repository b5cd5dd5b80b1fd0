using System.Collections.Concurrent;

namespace Cloud.EventSourceMapping;

/// <summary>Progress of a mapping on one shard, written only after a successful invoke.</summary>
public sealed record ShardCheckpoint
{
    /// <summary>The mapping.</summary>
    public required string MappingId { get; init; }

    /// <summary>The shard.</summary>
    public required string ShardId { get; init; }

    /// <summary>Last sequence number handled (or sent to the on-failure destination); null = nothing yet.</summary>
    public string? SequenceNumber { get; init; }

    /// <summary>The shard is closed and every record of it is handled: its children may start.</summary>
    public bool Finished { get; init; }

    /// <summary>Start of the open tumbling window, if any.</summary>
    public DateTimeOffset? WindowStart { get; init; }

    /// <summary>State object (JSON text) of the open tumbling window, if any.</summary>
    public string? WindowState { get; init; }

    /// <summary>When the checkpoint was written.</summary>
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>Durable checkpoints of event source mappings, per (mapping id, shard id).</summary>
public interface ICheckpointStore
{
    /// <summary>Every shard checkpoint of a mapping, by shard id.</summary>
    Task<IReadOnlyDictionary<string, ShardCheckpoint>> LoadAsync(string mappingId, CancellationToken cancellationToken = default);

    /// <summary>Writes (replaces) one shard checkpoint.</summary>
    Task SaveAsync(ShardCheckpoint checkpoint, CancellationToken cancellationToken = default);

    /// <summary>
    /// The time the mapping first started (stored on first call with <paramref name="now"/>); a LATEST mapping
    /// reads shards without a checkpoint from this time, so a restart skips nothing.
    /// </summary>
    Task<DateTimeOffset> GetOrAddStartTimeAsync(string mappingId, DateTimeOffset now, CancellationToken cancellationToken = default);
}

/// <summary>Checkpoints in process memory (tests, throwaway runs).</summary>
public sealed class InMemoryCheckpointStore : ICheckpointStore
{
    private readonly ConcurrentDictionary<(string Mapping, string Shard), ShardCheckpoint> _checkpoints = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _starts = new();

    /// <summary>How many checkpoints were written (each save counts).</summary>
    public int SaveCount => _saveCount;

    private int _saveCount;

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, ShardCheckpoint>> LoadAsync(string mappingId, CancellationToken cancellationToken = default)
    {
        IReadOnlyDictionary<string, ShardCheckpoint> result = _checkpoints
            .Where(pair => pair.Key.Mapping == mappingId)
            .ToDictionary(pair => pair.Key.Shard, pair => pair.Value, StringComparer.Ordinal);
        return Task.FromResult(result);
    }

    /// <inheritdoc />
    public Task SaveAsync(ShardCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _checkpoints[(checkpoint.MappingId, checkpoint.ShardId)] = checkpoint;
        Interlocked.Increment(ref _saveCount);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<DateTimeOffset> GetOrAddStartTimeAsync(string mappingId, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        Task.FromResult(_starts.GetOrAdd(mappingId, now));
}
