using System.Text;
using Cloud.Kinesis;
using Cloud.Kinesis.Model;
using Microsoft.Extensions.Logging;

namespace Cloud.EventSourceMapping;

/// <summary>Reads one shard and runs its batches through the function, one batch at a time.</summary>
internal sealed class ShardWorker
{
    /// <summary>Lambda's invocation payload limit (6 MB).</summary>
    internal const long MaxPayloadBytes = 6L * 1024 * 1024;

    /// <summary>Tumbling window state limit per shard (1 MB); above it the window ends early.</summary>
    internal const int MaxStateBytes = 1024 * 1024;

    private const string EmptyState = "{}";

    private readonly LocalEventSourceMapping _owner;
    private readonly EventSourceMappingOptions _options;
    private readonly IKinesisClient _kinesis;
    private readonly Func<Stream, CancellationToken, Task<Stream>> _function;
    private readonly ICheckpointStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _streamName;
    private readonly string _mappingId;
    private readonly EventSource _source;
    private readonly ShardStart _start;
    private readonly List<Record> _buffer = [];
    private readonly long _windowMs;

    private string? _iterator;
    private string? _lastRead;
    private string? _checkpoint;
    private DateTimeOffset? _windowStart;
    private string _windowState = EmptyState;
    private long? _millisBehind;
    private DateTimeOffset? _lastReadAt;

    public ShardWorker(
        LocalEventSourceMapping owner, EventSourceMappingOptions options, IKinesisClient kinesis,
        Func<Stream, CancellationToken, Task<Stream>> function, ICheckpointStore store, TimeProvider time, ILogger logger,
        string streamName, string mappingId, EventSource source, ShardStart start, ShardCheckpoint? checkpoint)
    {
        _owner = owner;
        _options = options;
        _kinesis = kinesis;
        _function = function;
        _store = store;
        _time = time;
        _logger = logger;
        _streamName = streamName;
        _mappingId = mappingId;
        _source = source;
        _start = start;
        _windowMs = options.TumblingWindowInSeconds * 1000L;
        _checkpoint = checkpoint?.SequenceNumber;
        _lastRead = _checkpoint;
        if (Windowed && checkpoint?.WindowStart is { } windowStart)
        {
            _windowStart = windowStart;
            _windowState = checkpoint.WindowState ?? EmptyState;
        }
    }

    private bool Windowed => _windowMs > 0;

    private string ShardId => _source.ShardId;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        _iterator = await GetIteratorAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset? gatherStart = null;
        PublishLag();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var caughtUp = false;
            if (_iterator is not null && _buffer.Count < _options.BatchSize)
            {
                caughtUp = await ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            var ended = _iterator is null;
            var now = _time.GetUtcNow();
            if (_buffer.Count == 0)
            {
                gatherStart = null;
                if (ended)
                {
                    // A closed shard is done: a resharding closes its window, then the children may start.
                    if (_windowStart is not null)
                    {
                        await CloseWindowAsync(terminatedEarly: false, cancellationToken).ConfigureAwait(false);
                    }
                    await SaveAsync(finished: true, cancellationToken).ConfigureAwait(false);
                    _logger.LogInformation("Shard {ShardId} is closed and fully processed", ShardId);
                    PublishLag(finished: true);
                    return;
                }
                if (_windowStart is { } open && caughtUp && now >= open.AddMilliseconds(_windowMs))
                {
                    await CloseWindowAsync(terminatedEarly: false, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                PublishLag();
                if (caughtUp)
                {
                    await Task.Delay(_options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
                }
                continue;
            }

            gatherStart ??= now;
            var batchingWindow = TimeSpan.FromSeconds(_options.MaximumBatchingWindowInSeconds);
            var ready = ended
                || _buffer.Count >= _options.BatchSize
                || now - gatherStart.Value >= batchingWindow
                || (Windowed && WindowOf(_buffer[^1]) != WindowOf(_buffer[0]))
                || BufferedBytes() >= MaxPayloadBytes;
            if (!ready)
            {
                PublishLag();
                if (caughtUp)
                {
                    var wait = batchingWindow - (now - gatherStart.Value);
                    await Task.Delay(wait < _options.PollInterval ? wait : _options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
                }
                continue;
            }

            var batch = await TakeBatchAsync(cancellationToken).ConfigureAwait(false);
            await ProcessAsync(batch, cancellationToken).ConfigureAwait(false);
            _buffer.RemoveRange(0, batch.Count);
            gatherStart = _buffer.Count > 0 ? _time.GetUtcNow() : null;
            PublishLag();
        }
    }

    // ---- reading -------------------------------------------------------------------------------------------

    private async Task<string?> GetIteratorAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var request = _lastRead is not null
                ? new GetShardIteratorRequest { StreamName = _streamName, ShardId = ShardId, ShardIteratorType = ShardIteratorType.AfterSequenceNumber, StartingSequenceNumber = _lastRead }
                : new GetShardIteratorRequest { StreamName = _streamName, ShardId = ShardId, ShardIteratorType = _start.IteratorType, Timestamp = _start.Timestamp };
            try
            {
                var response = await _kinesis.GetShardIteratorAsync(request, cancellationToken).ConfigureAwait(false);
                return response.ShardIterator;
            }
            catch (KinesisException e) when (IsTransient(e))
            {
                _logger.LogWarning(e, "GetShardIterator for {ShardId} failed; retrying", ShardId);
                await Task.Delay(_options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>One GetRecords call; returns whether the shard had nothing more to give right now.</summary>
    private async Task<bool> ReadAsync(CancellationToken cancellationToken)
    {
        GetRecordsResponse response;
        try
        {
            response = await _kinesis.GetRecordsAsync(new GetRecordsRequest { ShardIterator = _iterator!, Limit = _options.BatchSize }, cancellationToken).ConfigureAwait(false);
        }
        catch (KinesisServiceException e) when (e.ErrorCode == "ExpiredIteratorException")
        {
            _logger.LogInformation("Iterator of {ShardId} expired; getting a new one after {Sequence}", ShardId, _lastRead ?? "(start)");
            _iterator = await GetIteratorAsync(cancellationToken).ConfigureAwait(false);
            return false;
        }
        catch (KinesisException e) when (IsTransient(e))
        {
            _logger.LogWarning(e, "GetRecords on {ShardId} failed; retrying", ShardId);
            return true;
        }
        _lastReadAt = _time.GetUtcNow();
        _iterator = response.NextShardIterator;
        _millisBehind = response.MillisBehindLatest;
        foreach (var record in response.Records)
        {
            _buffer.Add(record);
            _lastRead = record.SequenceNumber;
        }
        return response.Records.Count == 0 && (response.MillisBehindLatest ?? 0) == 0;
    }

    /// <summary>Errors worth retrying; a missing stream, refused access or an invalid request stops the mapping instead.</summary>
    internal static bool IsTransient(KinesisException e) =>
        e is KinesisTransportException
        || (e is KinesisServiceException s && s.ErrorCode is not ("ResourceNotFoundException" or "AccessDeniedException" or "InvalidArgumentException" or "ValidationException")
            && !s.ErrorCode.StartsWith("KMS", StringComparison.Ordinal));

    private long BufferedBytes()
    {
        long total = 0;
        foreach (var record in _buffer)
        {
            total += KinesisEventWriter.EstimateSize(record);
        }
        return total;
    }

    private long WindowOf(Record record) =>
        record.ApproximateArrivalTimestamp.ToUnixTimeMilliseconds() / _windowMs * _windowMs;

    /// <summary>The next batch: up to BatchSize records, ≤ 6 MB, and (with windows) all of one window.</summary>
    private async Task<List<Record>> TakeBatchAsync(CancellationToken cancellationToken)
    {
        long limit = MaxPayloadBytes - 1024;
        if (Windowed)
        {
            var window = DateTimeOffset.FromUnixTimeMilliseconds(WindowOf(_buffer[0]));
            if (_windowStart is { } open && open != window)
            {
                await CloseWindowAsync(terminatedEarly: false, cancellationToken).ConfigureAwait(false);
            }
            _windowStart ??= window;
            limit -= Encoding.UTF8.GetByteCount(_windowState);
        }
        var batch = new List<Record>(Math.Min(_buffer.Count, _options.BatchSize));
        long size = 0;
        foreach (var record in _buffer)
        {
            if (batch.Count >= _options.BatchSize || (Windowed && WindowOf(record) != WindowOf(_buffer[0])))
            {
                break;
            }
            var recordSize = KinesisEventWriter.EstimateSize(record);
            if (batch.Count > 0 && size + recordSize > limit)
            {
                break;
            }
            batch.Add(record);
            size += recordSize;
        }
        return batch;
    }

    // ---- processing ----------------------------------------------------------------------------------------

    /// <summary>
    /// Runs a batch until every record is checkpointed: success, partial failure (retry from the lowest failed
    /// record), bisect on function error, retries, record age; discarded records go to the on-failure destination.
    /// </summary>
    private async Task ProcessAsync(List<Record> batch, CancellationToken cancellationToken)
    {
        var pending = new Stack<List<Record>>();
        pending.Push(batch);
        while (pending.TryPop(out var segment))
        {
            var attempts = 0;
            FunctionResponse? last = null;
            while (segment.Count > 0)
            {
                PublishLag();
                var expired = CountExpired(segment);
                if (expired > 0)
                {
                    await DiscardAsync(segment.GetRange(0, expired), OnFailureCondition.RecordAgeExceeded, attempts, last, cancellationToken).ConfigureAwait(false);
                    segment = segment.GetRange(expired, segment.Count - expired);
                    continue;
                }
                var window = Windowed ? new WindowContext(_windowStart!.Value, _windowStart.Value.AddMilliseconds(_windowMs), _windowState, false, false) : null;
                var response = await InvokeAsync(segment, window, cancellationToken).ConfigureAwait(false);
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
                    await DiscardAsync(segment, OnFailureCondition.RetryAttemptsExhausted, attempts, response, cancellationToken).ConfigureAwait(false);
                    break;
                }
                _logger.LogWarning("Shard {ShardId}: batch {First}..{Last} failed (attempt {Attempt}): {Error}", ShardId, segment[0].SequenceNumber, segment[^1].SequenceNumber, attempts, response.Error);
                await Task.Delay(_options.RetryDelay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private int CountExpired(List<Record> segment)
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

    private async Task<FunctionResponse> InvokeAsync(IReadOnlyList<Record> records, WindowContext? window, CancellationToken cancellationToken)
    {
        var payload = KinesisEventWriter.ToUtf8Bytes(_source, records, window);
        Interlocked.Increment(ref _owner.Invocations);
        FunctionResponse response;
        using var timeout = new CancellationTokenSource(_options.FunctionTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var input = new MemoryStream(payload, writable: false);
            var output = await _function(input, linked.Token).WaitAsync(_options.FunctionTimeout, _time, cancellationToken).ConfigureAwait(false);
            byte[] body;
            if (output is null)
            {
                body = [];
            }
            else
            {
                await using (output.ConfigureAwait(false))
                {
                    using var copy = new MemoryStream();
                    await output.CopyToAsync(copy, linked.Token).ConfigureAwait(false);
                    body = copy.ToArray();
                }
            }
            var final = window?.IsFinalInvokeForWindow == true;
            response = FunctionResponse.Parse(body, records, _options.ReportsBatchItemFailures, windowed: window is not null && !final);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && timeout.IsCancellationRequested))
        {
            response = FunctionResponse.Failure($"the function timed out after {_options.FunctionTimeout.TotalSeconds:0.###} s", functionError: true);
        }
        catch (Exception e)
        {
            response = FunctionResponse.Failure($"the function threw {e.GetType().Name}: {e.Message}", functionError: true);
        }
        if (response.Outcome != InvokeOutcome.Success)
        {
            Interlocked.Increment(ref _owner.FailedInvocations);
        }
        return response;
    }

    /// <summary>Marks the first <paramref name="count"/> records of a segment done, with the returned window state.</summary>
    private async Task CommitAsync(List<Record> segment, int count, FunctionResponse response, CancellationToken cancellationToken)
    {
        _checkpoint = segment[count - 1].SequenceNumber;
        if (Windowed && response.StateJson is not null)
        {
            _windowState = response.StateJson;
        }
        await SaveAsync(finished: false, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _owner.RecordsProcessed, count);
        if (Windowed && Encoding.UTF8.GetByteCount(_windowState) > MaxStateBytes)
        {
            _logger.LogWarning("Shard {ShardId}: window state passed 1 MB; ending the window early", ShardId);
            await CloseWindowAsync(terminatedEarly: true, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The final invoke of the open window (no records, isFinalInvokeForWindow = true), then a fresh state.</summary>
    private async Task CloseWindowAsync(bool terminatedEarly, CancellationToken cancellationToken)
    {
        var start = _windowStart!.Value;
        var end = start.AddMilliseconds(_windowMs);
        var attempts = 0;
        while (true)
        {
            var response = await InvokeAsync([], new WindowContext(start, end, _windowState, true, terminatedEarly), cancellationToken).ConfigureAwait(false);
            attempts++;
            if (response.Outcome == InvokeOutcome.Success)
            {
                break;
            }
            var tooOld = _options.MaximumRecordAgeInSeconds >= 0 && _time.GetUtcNow() - end > TimeSpan.FromSeconds(_options.MaximumRecordAgeInSeconds);
            if ((_options.MaximumRetryAttempts >= 0 && attempts > _options.MaximumRetryAttempts) || tooOld)
            {
                // There are no records to report: the window's results are lost, so say so loudly.
                _logger.LogError("Shard {ShardId}: final invoke of window {Start} failed {Attempts} time(s) ({Error}); the window is dropped", ShardId, start, attempts, response.Error);
                break;
            }
            _logger.LogWarning("Shard {ShardId}: final invoke of window {Start} failed (attempt {Attempt}): {Error}", ShardId, start, attempts, response.Error);
            await Task.Delay(_options.RetryDelay, _time, cancellationToken).ConfigureAwait(false);
        }
        _windowStart = null;
        _windowState = EmptyState;
        Interlocked.Increment(ref _owner.WindowsClosed);
        await SaveAsync(finished: false, cancellationToken).ConfigureAwait(false);
    }

    private async Task DiscardAsync(List<Record> records, string condition, int invokeCount, FunctionResponse? last, CancellationToken cancellationToken)
    {
        var record = new OnFailureRecord
        {
            RequestId = Guid.NewGuid().ToString(),
            FunctionArn = _options.FunctionArn,
            Condition = condition,
            ApproximateInvokeCount = invokeCount,
            StatusCode = invokeCount > 0 ? 200 : null,
            FunctionError = last?.FunctionError == true ? "Unhandled" : null,
            Timestamp = _time.GetUtcNow(),
            KinesisBatchInfo = new KinesisBatchInfo
            {
                ShardId = ShardId,
                StartSequenceNumber = records[0].SequenceNumber,
                EndSequenceNumber = records[^1].SequenceNumber,
                ApproximateArrivalOfFirstRecord = records[0].ApproximateArrivalTimestamp,
                ApproximateArrivalOfLastRecord = records[^1].ApproximateArrivalTimestamp,
                BatchSize = records.Count,
                StreamArn = _source.StreamArn,
            },
        };
        _logger.LogError("Shard {ShardId}: discarding {Count} record(s) {First}..{Last} ({Condition}, {Invokes} invoke(s)); last error: {Error}",
            ShardId, records.Count, records[0].SequenceNumber, records[^1].SequenceNumber, condition, invokeCount, last?.Error ?? "none");
        if (_options.OnFailureDestination is { } destination)
        {
            await RetryAsync("send an on-failure record", () => destination.SendAsync(record, cancellationToken), cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _owner.OnFailureRecords);
        }
        Interlocked.Add(ref _owner.RecordsDiscarded, records.Count);
        _checkpoint = records[^1].SequenceNumber;
        await SaveAsync(finished: false, cancellationToken).ConfigureAwait(false);
    }

    private Task SaveAsync(bool finished, CancellationToken cancellationToken)
    {
        var checkpoint = new ShardCheckpoint
        {
            MappingId = _mappingId,
            ShardId = ShardId,
            SequenceNumber = _checkpoint,
            Finished = finished,
            WindowStart = _windowStart,
            WindowState = _windowStart is null ? null : _windowState,
            UpdatedAt = _time.GetUtcNow(),
        };
        return RetryAsync("write a checkpoint", () => _store.SaveAsync(checkpoint, cancellationToken), cancellationToken);
    }

    /// <summary>Retries a store write until it succeeds: skipping it would lose data or progress.</summary>
    private async Task RetryAsync(string what, Func<Task> action, CancellationToken cancellationToken)
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
                _logger.LogWarning(e, "Shard {ShardId}: could not {What}; retrying in {Delay}", ShardId, what, delay);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }

    private void PublishLag(bool finished = false)
    {
        long? behind = _millisBehind;
        if (_buffer.Count > 0)
        {
            var oldest = (long)(_time.GetUtcNow() - _buffer[0].ApproximateArrivalTimestamp).TotalMilliseconds;
            behind = Math.Max(behind ?? 0, Math.Max(0, oldest));
        }
        _owner.UpdateLag(new ShardLag
        {
            ShardId = ShardId,
            CheckpointSequenceNumber = _checkpoint,
            MillisBehindLatest = finished ? 0 : behind,
            RecordsBehind = finished ? 0 : (_iterator is null || _millisBehind == 0 ? _buffer.Count : null),
            BufferedRecords = _buffer.Count,
            Finished = finished,
            LastReadAt = _lastReadAt,
        });
    }
}
