using Microsoft.Extensions.Logging;

namespace Cloud.EventSourceMapping.Runner;

/// <summary>
/// Owns one shard's checkpoint: the last sequence number done and the open window with its state. Writes go to the
/// <see cref="ICheckpointStore"/> and are retried until they succeed (skipping one would lose progress or state).
/// Not thread-safe: one shard worker uses it.
/// </summary>
internal sealed class CheckpointWriter
{
    private readonly ICheckpointStore _store;
    private readonly string _mappingId;
    private readonly string _shardId;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public CheckpointWriter(ICheckpointStore store, string mappingId, string shardId, string? sequenceNumber, TimeProvider time, ILogger logger)
    {
        _store = store;
        _mappingId = mappingId;
        _shardId = shardId;
        SequenceNumber = sequenceNumber;
        _time = time;
        _logger = logger;
    }

    /// <summary>The last sequence number done (processed or sent to the on-failure destination).</summary>
    public string? SequenceNumber { get; private set; }

    /// <summary>Moves the checkpoint to <paramref name="sequenceNumber"/> and writes it with the window.</summary>
    public Task AdvanceAsync(string sequenceNumber, TumblingWindow window, CancellationToken cancellationToken)
    {
        SequenceNumber = sequenceNumber;
        return SaveAsync(window, finished: false, cancellationToken);
    }

    /// <summary>Writes the checkpoint as it is, with the window's start and state.</summary>
    public Task SaveAsync(TumblingWindow window, bool finished, CancellationToken cancellationToken)
    {
        var checkpoint = new ShardCheckpoint
        {
            MappingId = _mappingId,
            ShardId = _shardId,
            SequenceNumber = SequenceNumber,
            Finished = finished,
            WindowStart = window.Start,
            WindowState = window.Start is null ? null : window.State,
            UpdatedAt = _time.GetUtcNow(),
        };
        return RetryAsync("write a checkpoint", () => _store.SaveAsync(checkpoint, cancellationToken), _shardId, _time, _logger, cancellationToken);
    }

    /// <summary>Retries a write until it succeeds, doubling the pause from 100 ms to 10 s.</summary>
    internal static async Task RetryAsync(string what, Func<Task> action, string shardId, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                await action().ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Shard {ShardId}: could not {What}; retrying in {Delay}", shardId, what, delay);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }
}
