using Microsoft.Extensions.Logging;

namespace Cloud.EventSourceMapping.Runner;

/// <summary>
/// Runs one batch until every record is checkpointed, with Lambda's failure rules: partial batch responses
/// (checkpoint before the lowest failed record, retry from it), bisect on function error, MaximumRetryAttempts,
/// MaximumRecordAgeInSeconds; what cannot be processed goes to the on-failure destination. Also the final invoke of a
/// tumbling window, which suspends the shard until it succeeds. Not thread-safe: one shard worker uses it.
/// </summary>
/// <remarks>
/// Sources: https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html (retries, bisect, age),
/// https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html (partial batch responses),
/// https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html (windows).
/// </remarks>
internal sealed class BatchInvoker
{
    private readonly FunctionInvoker _function;
    private readonly EventSourceMappingOptions _options;
    private readonly EventSource _source;
    private readonly TumblingWindow _window;
    private readonly CheckpointWriter _checkpoint;
    private readonly OnFailureSender _onFailure;
    private readonly MappingCounters _counters;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action _progress;

    public BatchInvoker(FunctionInvoker function, EventSourceMappingOptions options, EventSource source, TumblingWindow window, CheckpointWriter checkpoint,
        OnFailureSender onFailure, MappingCounters counters, TimeProvider time, ILogger logger, Action progress)
    {
        _function = function;
        _options = options;
        _source = source;
        _window = window;
        _checkpoint = checkpoint;
        _onFailure = onFailure;
        _counters = counters;
        _time = time;
        _logger = logger;
        _progress = progress;
    }

    private string ShardId => _source.ShardId;

    /// <summary>Runs <paramref name="batch"/> until all of it is processed or discarded.</summary>
    public async Task ProcessAsync(List<StreamRecord> batch, CancellationToken cancellationToken)
    {
        var pending = new Stack<List<StreamRecord>>();
        pending.Push(batch);
        while (pending.TryPop(out var segment))
        {
            var attempts = 0;
            FunctionResponse? last = null;
            while (segment.Count > 0)
            {
                _progress();
                var expired = CountExpired(segment);
                if (expired > 0)
                {
                    await _onFailure.DiscardAsync(segment.GetRange(0, expired), OnFailureCondition.RecordAgeExceeded, attempts, last, _window, cancellationToken).ConfigureAwait(false);
                    segment = segment.GetRange(expired, segment.Count - expired);
                    continue;
                }
                var context = _window.Enabled ? _window.Context(final: false, terminatedEarly: false) : null;
                var response = await _function.InvokeAsync(_source, segment, context, cancellationToken).ConfigureAwait(false);
                attempts++;
                last = response;
                if (response.Outcome == InvokeOutcome.Success)
                {
                    await CommitAsync(segment, segment.Count, response, cancellationToken).ConfigureAwait(false);
                    break;
                }
                if (response.Outcome == InvokeOutcome.PartialFailure && response.FirstFailedIndex > 0)
                {
                    // Checkpoint before the lowest failed record and retry from it (Lambda's checkpoint rule).
                    var done = response.FirstFailedIndex;
                    _logger.LogWarning("Shard {ShardId}: {Error}; retrying from it", ShardId, response.Error);
                    await CommitAsync(segment, done, response, cancellationToken).ConfigureAwait(false);
                    segment = segment.GetRange(done, segment.Count - done);
                    attempts = 0;
                    continue;
                }
                if (_options.BisectBatchOnFunctionError && segment.Count > 1)
                {
                    var half = segment.Count / 2;
                    _logger.LogWarning("Shard {ShardId}: batch {First}..{Last} failed ({Error}); bisecting", ShardId, segment[0].SequenceNumber, segment[^1].SequenceNumber, response.Error);
                    pending.Push(segment.GetRange(half, segment.Count - half));
                    pending.Push(segment.GetRange(0, half));
                    break;
                }
                if (_options.MaximumRetryAttempts >= 0 && attempts > _options.MaximumRetryAttempts)
                {
                    await _onFailure.DiscardAsync(segment, OnFailureCondition.RetryAttemptsExhausted, attempts, response, _window, cancellationToken).ConfigureAwait(false);
                    break;
                }
                _logger.LogWarning("Shard {ShardId}: batch {First}..{Last} failed (attempt {Attempt}): {Error}", ShardId, segment[0].SequenceNumber, segment[^1].SequenceNumber, attempts, response.Error);
                await Task.Delay(_options.RetryDelay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The final invoke of the open window (no records, isFinalInvokeForWindow = true). Lambda suspends the shard
    /// until it succeeds: MaximumRetryAttempts does not end it, bisect has nothing to split. Only MaximumRecordAge
    /// does: once the window's newest record is older than the limit, the window's records go to the on-failure
    /// destination (RecordAgeExceeded) and the window closes. Returns after the window is closed either way.
    /// </summary>
    public async Task CloseWindowAsync(bool terminatedEarly, CancellationToken cancellationToken)
    {
        var attempts = 0;
        FunctionResponse? last = null;
        while (true)
        {
            _progress();
            if (WindowAgedOut())
            {
                var info = _window.Taken is { } t
                    ? _onFailure.Describe(t.First, t.Last, t.Count)
                    : WindowFromCheckpoint();
                _logger.LogError("Shard {ShardId}: final invoke of window {Start} failed {Attempts} time(s) ({Error}); its records are past MaximumRecordAgeInSeconds",
                    ShardId, _window.Start, attempts, last?.Error ?? "none");
                await _onFailure.SendAsync(info, OnFailureCondition.RecordAgeExceeded, attempts, last, cancellationToken).ConfigureAwait(false);
                break;
            }
            var response = await _function.InvokeAsync(_source, [], _window.Context(final: true, terminatedEarly), cancellationToken).ConfigureAwait(false);
            attempts++;
            last = response;
            if (response.Outcome == InvokeOutcome.Success)
            {
                break;
            }
            _logger.LogWarning("Shard {ShardId}: final invoke of window {Start} failed (attempt {Attempt}): {Error}; the shard waits for it", ShardId, _window.Start, attempts, response.Error);
            await Task.Delay(_options.RetryDelay, _time, cancellationToken).ConfigureAwait(false);
        }
        _window.Reset();
        _counters.WindowClosed();
        await _checkpoint.SaveAsync(_window, finished: false, cancellationToken).ConfigureAwait(false);
    }

    private bool WindowAgedOut()
    {
        if (_options.MaximumRecordAgeInSeconds < 0)
        {
            return false;
        }
        // Without the records (restart from a checkpoint), the window's end bounds its newest record's arrival.
        var newest = _window.Taken?.Last.ApproximateArrivalTimestamp ?? _window.End;
        return _time.GetUtcNow() - newest > TimeSpan.FromSeconds(_options.MaximumRecordAgeInSeconds);
    }

    private Cloud.Consumer.Events.KinesisBatchInfo WindowFromCheckpoint() => new()
    {
        ShardId = ShardId,
        StartSequenceNumber = _checkpoint.SequenceNumber ?? "",
        EndSequenceNumber = _checkpoint.SequenceNumber ?? "",
        ApproximateArrivalOfFirstRecord = _window.Start!.Value,
        ApproximateArrivalOfLastRecord = _window.End,
        BatchSize = 0,
        StreamArn = _source.StreamArn,
    };

    private int CountExpired(List<StreamRecord> segment)
    {
        if (_options.MaximumRecordAgeInSeconds < 0)
        {
            return 0;
        }
        var oldest = _time.GetUtcNow() - TimeSpan.FromSeconds(_options.MaximumRecordAgeInSeconds);
        var count = 0;
        while (count < segment.Count && segment[count].ApproximateArrivalTimestamp < oldest)
        {
            count++;
        }
        return count;
    }

    /// <summary>Marks the first <paramref name="count"/> records of a segment done, with the returned window state.</summary>
    private async Task CommitAsync(List<StreamRecord> segment, int count, FunctionResponse response, CancellationToken cancellationToken)
    {
        _window.Commit(segment.GetRange(0, count), response.StateJson);
        await _checkpoint.AdvanceAsync(segment[count - 1].SequenceNumber, _window, cancellationToken).ConfigureAwait(false);
        _counters.Processed(count);
        if (_window.Enabled && _window.StateBytes > TumblingWindow.MaxStateBytes)
        {
            _logger.LogWarning("Shard {ShardId}: window state passed 1 MB; ending the window early", ShardId);
            await CloseWindowAsync(terminatedEarly: true, cancellationToken).ConfigureAwait(false);
        }
    }
}
