using System.Threading.Channels;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Kinesis;
using Microsoft.Extensions.Logging;

namespace Cloud.EventSourceMapping.Runner;

/// <summary>
/// The enhanced fan-out reader: a background loop holds a SubscribeToShard subscription of the registered consumer
/// and queues what it pushes; <see cref="ReadAsync"/> takes what is queued without waiting. A subscription is
/// renewed from the last record every <see cref="EventSourceMappingOptions.SubscriptionLifetime"/> (Kinesis ends
/// it after 5 minutes) or when it breaks; the shard has ended when an event carries no continuation sequence number.
/// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_SubscribeToShard.html
/// </summary>
internal sealed class EnhancedFanOutShardReader : IShardReader
{
    private static readonly TimeSpan ClosedCheckInterval = TimeSpan.FromSeconds(1);

    private readonly IAmazonKinesis _kinesis;
    private readonly string _streamName;
    private readonly string _consumerArn;
    private readonly string _shardId;
    private readonly ShardStart _start;
    private readonly TimeSpan _lifetime;
    private readonly TimeSpan _retryDelay;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<ShardRead> _events = Channel.CreateBounded<ShardRead>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _stop = new();
    private string? _continuation;
    private DateTimeOffset _lastClosedCheck;
    private Task? _pump;
    private bool _ended;

    public EnhancedFanOutShardReader(IAmazonKinesis kinesis, string streamName, string consumerArn, string shardId, ShardStart start, string? afterSequenceNumber,
        TimeSpan lifetime, TimeSpan retryDelay, TimeProvider time, ILogger logger)
    {
        _kinesis = kinesis;
        _streamName = streamName;
        _consumerArn = consumerArn;
        _shardId = shardId;
        _start = start;
        _continuation = afterSequenceNumber;
        _lifetime = lifetime;
        _retryDelay = retryDelay;
        _time = time;
        _logger = logger;
    }

    public Task<ShardRead> ReadAsync(int maxRecords, CancellationToken cancellationToken)
    {
        _pump ??= Task.Run(() => PumpAsync(_stop.Token), CancellationToken.None);
        if (_ended)
        {
            return Task.FromResult(new ShardRead([], 0, CaughtUp: true, Ended: true));
        }
        if (_events.Reader.TryRead(out var read))
        {
            _ended = read.Ended;
            return Task.FromResult(read);
        }
        if (_pump.IsFaulted)
        {
            // A permanent error (missing consumer or stream, access denied) stops the mapping, as with polling.
            return Task.FromException<ShardRead>(_pump.Exception!.InnerException!);
        }
        return Task.FromResult(new ShardRead([], null, CaughtUp: true, Ended: false));
    }

    public async Task WaitAsync(TimeSpan max, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(max, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await _events.Reader.WaitToReadAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Nothing pushed within max: the caller goes on (closes a window, publishes lag).
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_pump is not null)
        {
            try
            {
                await _pump.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Stopping: a subscription cut short or an error already reported through ReadAsync.
            }
        }
        _stop.Dispose();
    }

    private async Task PumpAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            using var renew = new CancellationTokenSource(_lifetime, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, renew.Token);
            try
            {
                var request = new SubscribeToShardRequest { ConsumerARN = _consumerArn, ShardId = _shardId, StartingPosition = Position() };
                using var response = await _kinesis.SubscribeToShardAsync(request, linked.Token).ConfigureAwait(false);
                await foreach (var item in response.EventStream.WithCancellation(linked.Token).ConfigureAwait(false))
                {
                    if (item is not SubscribeToShardEvent e)
                    {
                        continue;
                    }
                    var records = (e.Records ?? []).Select(StreamRecord.From).ToList();
                    if (records.Count > 0)
                    {
                        _continuation = records[^1].SequenceNumber;
                    }
                    // AWS ends a closed shard with ChildShards and no continuation. kinesis-local never does (it sends
                    // empty events with the same continuation), so an idle subscription also asks, at most once a
                    // second, whether the shard is closed and read to its end.
                    bool ended = e.ContinuationSequenceNumber is null || e.ChildShards is { Count: > 0 }
                        || (records.Count == 0 && (e.MillisBehindLatest ?? 0) == 0 && await IsClosedAndReadAsync(linked.Token).ConfigureAwait(false));
                    if (!ended)
                    {
                        _continuation = e.ContinuationSequenceNumber;
                    }
                    await _events.Writer.WriteAsync(new ShardRead(records, e.MillisBehindLatest, CaughtUp: records.Count == 0 && (e.MillisBehindLatest ?? 0) == 0, ended), cancellationToken).ConfigureAwait(false);
                    if (ended)
                    {
                        _events.Writer.TryComplete();
                        return;
                    }
                }
            }
            catch (OperationCanceledException) when (renew.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                _logger.LogDebug("Shard {ShardId}: renewing the SubscribeToShard subscription after {Lifetime}", _shardId, _lifetime);
                continue;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && !KinesisErrors.Classify(e).IsPermanent)
            {
                _logger.LogWarning(e, "SubscribeToShard on {ShardId} failed; subscribing again", _shardId);
                await Task.Delay(_retryDelay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Whether nothing follows the continuation and the shard is closed: a GetRecords after it returns no record and
    /// no next iterator. Checked at most every <see cref="ClosedCheckInterval"/>.
    /// </summary>
    private async Task<bool> IsClosedAndReadAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (now - _lastClosedCheck < ClosedCheckInterval)
        {
            return false;
        }
        _lastClosedCheck = now;
        var position = Position();
        var iterator = await _kinesis.GetShardIteratorAsync(new GetShardIteratorRequest
        {
            StreamName = _streamName,
            ShardId = _shardId,
            ShardIteratorType = position.Type,
            StartingSequenceNumber = position.SequenceNumber,
            Timestamp = position.Timestamp,
        }, cancellationToken).ConfigureAwait(false);
        var page = await _kinesis.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator.ShardIterator, Limit = 1 }, cancellationToken).ConfigureAwait(false);
        return page.NextShardIterator is null && (page.Records?.Count ?? 0) == 0;
    }

    /// <summary>After the last record seen (continuation), else the mapping's start.</summary>
    private Amazon.Kinesis.Model.StartingPosition Position()
    {
        if (_continuation is not null)
        {
            return new Amazon.Kinesis.Model.StartingPosition { Type = ShardIteratorType.AFTER_SEQUENCE_NUMBER, SequenceNumber = _continuation };
        }
        return _start.Timestamp is { } t
            ? new Amazon.Kinesis.Model.StartingPosition { Type = _start.IteratorType, Timestamp = t.UtcDateTime }
            : new Amazon.Kinesis.Model.StartingPosition { Type = _start.IteratorType };
    }
}

/// <summary>Registers (or finds) the enhanced fan-out consumer the runner reads through.</summary>
internal static class StreamConsumers
{
    /// <summary>The ARN of consumer <paramref name="name"/> of the stream, registered when missing, once ACTIVE.</summary>
    public static async Task<string> EnsureActiveAsync(IAmazonKinesis kinesis, string streamArn, string name, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        string? arn = null;
        try
        {
            var described = await kinesis.DescribeStreamConsumerAsync(new DescribeStreamConsumerRequest { StreamARN = streamArn, ConsumerName = name }, cancellationToken).ConfigureAwait(false);
            arn = described.ConsumerDescription.ConsumerARN;
        }
        catch (ResourceNotFoundException)
        {
            var registered = await kinesis.RegisterStreamConsumerAsync(new RegisterStreamConsumerRequest { StreamARN = streamArn, ConsumerName = name }, cancellationToken).ConfigureAwait(false);
            arn = registered.Consumer.ConsumerARN;
            logger.LogInformation("Registered enhanced fan-out consumer {Consumer}", name);
        }
        var deadline = time.GetUtcNow() + TimeSpan.FromMinutes(2);
        while (true)
        {
            var status = (await kinesis.DescribeStreamConsumerAsync(new DescribeStreamConsumerRequest { ConsumerARN = arn }, cancellationToken).ConfigureAwait(false)).ConsumerDescription.ConsumerStatus;
            if (status == ConsumerStatus.ACTIVE)
            {
                return arn;
            }
            if (time.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"Stream consumer {name} is still {status} after 2 minutes.");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken).ConfigureAwait(false);
        }
    }
}
