using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Kinesis;
using Microsoft.Extensions.Logging;

namespace Cloud.EventSourceMapping.Runner;

/// <summary>What one read of a shard gave.</summary>
/// <param name="Records">The records, in sequence order (may be empty).</param>
/// <param name="MillisBehindLatest">How far the read position is behind the tip, when the service said.</param>
/// <param name="CaughtUp">Nothing more to read right now: the caller may pause before reading again.</param>
/// <param name="Ended">The shard is closed and fully read: no further read will give records.</param>
internal readonly record struct ShardRead(IReadOnlyList<StreamRecord> Records, long? MillisBehindLatest, bool CaughtUp, bool Ended);

/// <summary>
/// Reads one shard from a position on. Polling (GetRecords) and enhanced fan-out (SubscribeToShard) are the two
/// ways. Not thread-safe: one shard worker calls it.
/// </summary>
internal interface IShardReader : IAsyncDisposable
{
    /// <summary>The next records after everything returned so far (at most <paramref name="maxRecords"/>).</summary>
    /// <exception cref="Amazon.Kinesis.AmazonKinesisException">A permanent error (missing stream, access denied): the mapping stops.</exception>
    Task<ShardRead> ReadAsync(int maxRecords, CancellationToken cancellationToken);

    /// <summary>
    /// Waits before the next read when the shard was caught up: polling sleeps <paramref name="max"/>; a push reader
    /// returns as soon as records arrive.
    /// </summary>
    Task WaitAsync(TimeSpan max, CancellationToken cancellationToken);
}

/// <summary>Where a shard without checkpoint starts.</summary>
/// <param name="IteratorType">TRIM_HORIZON or AT_TIMESTAMP.</param>
/// <param name="Timestamp">The timestamp for AT_TIMESTAMP.</param>
internal sealed record ShardStart(ShardIteratorType IteratorType, DateTimeOffset? Timestamp);

/// <summary>
/// The shared-throughput reader: GetShardIterator, then GetRecords pages. An expired iterator is replaced after the
/// last record returned; transient errors are retried after the poll interval; permanent ones are thrown.
/// </summary>
internal sealed class PollingShardReader : IShardReader
{
    private readonly IAmazonKinesis _kinesis;
    private readonly string _streamName;
    private readonly string _shardId;
    private readonly ShardStart _start;
    private readonly TimeSpan _retryDelay;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private string? _iterator;
    private string? _lastRead;
    private bool _ended;

    public PollingShardReader(IAmazonKinesis kinesis, string streamName, string shardId, ShardStart start, string? afterSequenceNumber, TimeSpan retryDelay, TimeProvider time, ILogger logger)
    {
        _kinesis = kinesis;
        _streamName = streamName;
        _shardId = shardId;
        _start = start;
        _lastRead = afterSequenceNumber;
        _retryDelay = retryDelay;
        _time = time;
        _logger = logger;
    }

    public async Task<ShardRead> ReadAsync(int maxRecords, CancellationToken cancellationToken)
    {
        if (_ended)
        {
            return new ShardRead([], 0, CaughtUp: true, Ended: true);
        }
        _iterator ??= await GetIteratorAsync(cancellationToken).ConfigureAwait(false);
        GetRecordsResponse response;
        using var activity = Cloud.Telemetry.CloudActivitySources.EventSourceMapping.StartActivity(Cloud.Telemetry.ActivityNames.Poll, System.Diagnostics.ActivityKind.Client);
        activity?.SetTag(Cloud.Telemetry.TelemetryTags.Stream, _streamName);
        activity?.SetTag(Cloud.Telemetry.TelemetryTags.Shard, _shardId);
        try
        {
            response = await _kinesis.GetRecordsAsync(new GetRecordsRequest { ShardIterator = _iterator, Limit = maxRecords }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && KinesisErrors.Classify(e).Cause == KinesisErrorCause.Expired)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, "ExpiredIteratorException");
            _logger.LogInformation("Iterator of {ShardId} expired; getting a new one after {Sequence}", _shardId, _lastRead ?? "(start)");
            _iterator = null;
            return new ShardRead([], null, CaughtUp: false, Ended: false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && !KinesisErrors.Classify(e).IsPermanent)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.GetType().Name);
            _logger.LogWarning(e, "GetRecords on {ShardId} failed; retrying", _shardId);
            return new ShardRead([], null, CaughtUp: true, Ended: false);
        }
        var records = new List<StreamRecord>(response.Records?.Count ?? 0);
        foreach (var record in response.Records ?? [])
        {
            records.Add(StreamRecord.From(record));
        }
        if (records.Count > 0)
        {
            _lastRead = records[^1].SequenceNumber;
        }
        _iterator = response.NextShardIterator;
        _ended = _iterator is null;
        var behind = response.MillisBehindLatest;
        activity?.SetTag("records", records.Count);
        return new ShardRead(records, behind, CaughtUp: records.Count == 0 && (behind ?? 0) == 0, Ended: _ended);
    }

    public Task WaitAsync(TimeSpan max, CancellationToken cancellationToken) => Task.Delay(max, _time, cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task<string> GetIteratorAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var request = _lastRead is not null
                ? new GetShardIteratorRequest { StreamName = _streamName, ShardId = _shardId, ShardIteratorType = ShardIteratorType.AFTER_SEQUENCE_NUMBER, StartingSequenceNumber = _lastRead }
                : new GetShardIteratorRequest { StreamName = _streamName, ShardId = _shardId, ShardIteratorType = _start.IteratorType, Timestamp = _start.Timestamp?.UtcDateTime };
            try
            {
                var response = await _kinesis.GetShardIteratorAsync(request, cancellationToken).ConfigureAwait(false);
                return response.ShardIterator;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && !KinesisErrors.Classify(e).IsPermanent)
            {
                _logger.LogWarning(e, "GetShardIterator for {ShardId} failed; retrying", _shardId);
                await Task.Delay(_retryDelay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
