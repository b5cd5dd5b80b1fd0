using System.Collections.Concurrent;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.EventSourceMapping.Runner;
using Cloud.Kinesis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cloud.EventSourceMapping;

/// <summary>
/// A local Lambda event source mapping for Kinesis: polls every shard (parents before children), builds the Lambda
/// event JSON, invokes a <c>Stream</c>-in/<c>Stream</c>-out handler in process and applies the mapping parameters
/// (batching, bisect, retries, record age, partial batch responses, tumbling windows, on-failure destination).
/// Checkpoints go to an <see cref="ICheckpointStore"/> only after successful invokes: at-least-once, nothing skipped.
/// </summary>
/// <remarks>Shards are processed concurrently, one batch at a time per shard; the handler must be thread-safe.</remarks>
public sealed class LocalEventSourceMapping : IAsyncDisposable
{
    private readonly EventSourceMappingOptions _options;
    private readonly IAmazonKinesis _kinesis;
    private readonly Func<Stream, CancellationToken, Task<Stream>> _function;
    private readonly ICheckpointStore _checkpoints;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, ShardLag> _lag = new(StringComparer.Ordinal);
    private readonly Lock _runLock = new();
    private CancellationTokenSource? _stop;
    private Task? _background;
    private int _running;
    private string? _streamArn;

    private readonly MappingCounters _counters;

    /// <summary>Creates the mapping; the options are validated here (throws <see cref="EventSourceMappingOptionsException"/>).</summary>
    /// <param name="options">Mapping parameters.</param>
    /// <param name="kinesis">AWS's Kinesis client, used to list and read shards.</param>
    /// <param name="function">The handler: receives the event JSON, returns the response JSON (or an empty stream).</param>
    /// <param name="checkpoints">Where progress is kept (<see cref="DynamoDbCheckpointStore"/> for durable runs).</param>
    /// <param name="timeProvider">Clock for polling, windows, record age and timeouts.</param>
    /// <param name="logger">Logger.</param>
    public LocalEventSourceMapping(
        EventSourceMappingOptions options,
        IAmazonKinesis kinesis,
        Func<Stream, CancellationToken, Task<Stream>> function,
        ICheckpointStore checkpoints,
        TimeProvider? timeProvider = null,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(kinesis);
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(checkpoints);
        options.Validate();
        _options = options;
        _kinesis = kinesis;
        _function = function;
        _checkpoints = checkpoints;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _counters = new MappingCounters(options.EffectiveStreamName, () => _lag.Values);
    }

    /// <summary>The validated options.</summary>
    public EventSourceMappingOptions Options => _options;

    /// <summary>The stream ARN written to events (known once running).</summary>
    public string? StreamArn => _streamArn;

    /// <summary>Starts polling in the background; <see cref="StopAsync"/> or <see cref="DisposeAsync"/> ends it.</summary>
    /// <exception cref="InvalidOperationException">The mapping is already running.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        lock (_runLock)
        {
            if (_background is not null)
            {
                throw new InvalidOperationException("The event source mapping is already started.");
            }
            _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var token = _stop.Token;
            _background = Task.Run(() => RunAsync(token), CancellationToken.None);
        }
        return Task.CompletedTask;
    }

    /// <summary>Stops polling, cancels an invoke in flight (its batch is not checkpointed) and waits for the end.</summary>
    /// <exception cref="Exception">The error that stopped the mapping, if it failed.</exception>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        Task? background;
        lock (_runLock)
        {
            background = _background;
            _stop?.Cancel();
        }
        if (background is not null)
        {
            await background.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The background run (null before <see cref="StartAsync"/>); faults with the error that stopped the mapping.</summary>
    public Task? Completion => _background;

    /// <summary>
    /// Runs the mapping until <paramref name="cancellationToken"/> is cancelled (then returns normally).
    /// Throws when the stream does not exist or a checkpoint cannot be read.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            throw new InvalidOperationException("The event source mapping is already running.");
        }
        try
        {
            await RunCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped.
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>A snapshot of the lag of every shard seen so far, ordered by shard id.</summary>
    public IReadOnlyList<ShardLag> GetLag() => [.. _lag.Values.OrderBy(l => l.ShardId, StringComparer.Ordinal)];

    /// <summary>A snapshot of the counters.</summary>
    public EventSourceMappingStatistics GetStatistics() => _counters.Snapshot();

    /// <summary>Stops the mapping (errors are logged, not thrown).</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Event source mapping {MappingId} had stopped with an error", _options.EffectiveMappingId);
        }
        _stop?.Dispose();
        _counters.Dispose();
    }

    internal void UpdateLag(ShardLag lag) => _lag[lag.ShardId] = lag;

    private async Task RunCoreAsync(CancellationToken cancellationToken)
    {
        var streamName = _options.EffectiveStreamName;
        var mappingId = _options.EffectiveMappingId;
        _streamArn = _options.StreamArn;
        if (string.IsNullOrEmpty(_streamArn))
        {
            var summary = await _kinesis.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = streamName }, cancellationToken).ConfigureAwait(false);
            _streamArn = summary.StreamDescriptionSummary.StreamARN;
        }
        var start = await ResolveStartAsync(mappingId, cancellationToken).ConfigureAwait(false);
        string? consumerArn = null;
        if (_options.ConsumerName is { } consumerName)
        {
            consumerArn = await StreamConsumers.EnsureActiveAsync(_kinesis, _streamArn!, consumerName, _time, _logger, cancellationToken).ConfigureAwait(false);
        }
        var checkpoints = await _checkpoints.LoadAsync(mappingId, cancellationToken).ConfigureAwait(false);
        var finished = new HashSet<string>(checkpoints.Values.Where(c => c.Finished).Select(c => c.ShardId), StringComparer.Ordinal);
        var workers = new Dictionary<string, Task>(StringComparer.Ordinal);
        var context = new MappingContext(_options, new FunctionInvoker(_function, _options, _time, _counters), _checkpoints, _counters, UpdateLag, _time, _logger);
        using var stopWorkers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _logger.LogInformation("Event source mapping {MappingId} started on {StreamArn} ({Finished} shards already finished)", mappingId, _streamArn, finished.Count);
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                IReadOnlyList<Shard> shards;
                try
                {
                    shards = await _kinesis.ListAllShardsAsync(streamName, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && !KinesisErrors.Classify(e).IsPermanent)
                {
                    // Keep the running shards going; look for new ones on the next round.
                    _logger.LogWarning(e, "ListShards of {Stream} failed; retrying", streamName);
                    shards = [];
                }
                var listed = new HashSet<string>(shards.Select(s => s.ShardId), StringComparer.Ordinal);
                foreach (var shard in shards.OrderBy(s => s.ShardId, StringComparer.Ordinal))
                {
                    if (finished.Contains(shard.ShardId) || workers.ContainsKey(shard.ShardId))
                    {
                        if (finished.Contains(shard.ShardId))
                        {
                            UpdateLag(new ShardLag { ShardId = shard.ShardId, Finished = true, MillisBehindLatest = 0, RecordsBehind = 0, CheckpointSequenceNumber = checkpoints.GetValueOrDefault(shard.ShardId)?.SequenceNumber });
                        }
                        continue;
                    }
                    // A parent no longer listed was trimmed away: nothing of it is left to read.
                    var parents = new[] { shard.ParentShardId, shard.AdjacentParentShardId }
                        .Where(p => !string.IsNullOrEmpty(p) && listed.Contains(p!)).ToList();
                    if (parents.Any(p => !finished.Contains(p!)))
                    {
                        UpdateLag(new ShardLag { ShardId = shard.ShardId, WaitingForParents = true });
                        continue;
                    }
                    var source = new EventSource(_streamArn, shard.ShardId, _options.Region, _options.InvokeIdentityArn);
                    var checkpoint = checkpoints.GetValueOrDefault(shard.ShardId);
                    IShardReader reader = consumerArn is null
                        ? new PollingShardReader(_kinesis, streamName, shard.ShardId, start, checkpoint?.SequenceNumber, _options.PollInterval, _time, _logger)
                        : new EnhancedFanOutShardReader(_kinesis, streamName, consumerArn, shard.ShardId, start, checkpoint?.SequenceNumber, _options.SubscriptionLifetime, _options.RetryDelay, _time, _logger);
                    var worker = new ShardWorker(context, source, reader, mappingId, checkpoint);
                    workers[shard.ShardId] = worker.RunAsync(stopWorkers.Token);
                }

                using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var delay = Task.Delay(_options.ShardDiscoveryInterval, _time, wake.Token);
                await Task.WhenAny(workers.Values.Append(delay)).ConfigureAwait(false);
                await wake.CancelAsync().ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var (shardId, task) in workers.Where(w => w.Value.IsCompleted).ToList())
                {
                    workers.Remove(shardId);
                    await task.ConfigureAwait(false); // rethrows a worker's fatal error
                    finished.Add(shardId);
                }
            }
        }
        finally
        {
            await stopWorkers.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(workers.Values).ConfigureAwait(false);
            }
            catch (Exception) when (stopWorkers.IsCancellationRequested)
            {
                // Workers end with OperationCanceledException on stop; a fatal error is already propagating.
            }
        }
    }

    private async Task<ShardStart> ResolveStartAsync(string mappingId, CancellationToken cancellationToken)
    {
        switch (_options.StartingPosition)
        {
            case StartingPosition.AtTimestamp:
                return new ShardStart(ShardIteratorType.AT_TIMESTAMP, _options.StartingPositionTimestamp);
            case StartingPosition.Latest:
                // LATEST means "from when the mapping was created": a shard first read after a restart (or a child
                // shard) must not skip what arrived meanwhile, so the creation time is kept with the checkpoints.
                var startedAt = await _checkpoints.GetOrAddStartTimeAsync(mappingId, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
                return new ShardStart(ShardIteratorType.AT_TIMESTAMP, startedAt);
            default:
                return new ShardStart(ShardIteratorType.TRIM_HORIZON, null);
        }
    }
}
