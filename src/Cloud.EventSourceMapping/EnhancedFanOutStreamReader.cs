using System.Runtime.CompilerServices;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.EventSourceMapping.Runner;
using Cloud.Kinesis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cloud.EventSourceMapping;

/// <summary>What an <see cref="EnhancedFanOutStreamReader"/> yields: one pushed event of one shard.</summary>
/// <param name="ShardId">The shard.</param>
/// <param name="Records">Its records, in order (may be empty: a heartbeat).</param>
/// <param name="MillisBehindLatest">How far behind the shard's tip the subscription is.</param>
/// <param name="ShardEnded">The shard is closed and read to its end (its children follow).</param>
public sealed record ShardEvent(string ShardId, IReadOnlyList<StreamRecord> Records, long? MillisBehindLatest, bool ShardEnded);

/// <summary>Options of an <see cref="EnhancedFanOutStreamReader"/>.</summary>
public sealed class EnhancedFanOutStreamReaderOptions
{
    /// <summary>The stream.</summary>
    public required string StreamName { get; init; }

    /// <summary>The enhanced fan-out consumer to read through; registered when missing.</summary>
    public required string ConsumerName { get; init; }

    /// <summary>Where shards without a parent start: TRIM_HORIZON, LATEST or AT_TIMESTAMP (children always from their start).</summary>
    /// <value>The default value is <see cref="StartingPosition.TrimHorizon"/>.</value>
    public StartingPosition StartingPosition { get; init; } = StartingPosition.TrimHorizon;

    /// <summary>The time for <see cref="StartingPosition.AtTimestamp"/>.</summary>
    public DateTimeOffset? StartingPositionTimestamp { get; init; }

    /// <summary>How long one subscription is read before a new one starts from the last record.</summary>
    /// <value>The default value is 5 minutes (Kinesis ends a subscription after 5 minutes).</value>
    public TimeSpan SubscriptionLifetime { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// Reads a whole stream through an enhanced fan-out consumer (SubscribeToShard), for tools such as
/// <c>cloud consume --efo</c>: every shard, a child only after its parents ended (per-key order across reshards),
/// subscriptions renewed every <see cref="EnhancedFanOutStreamReaderOptions.SubscriptionLifetime"/>. Enumerate
/// <see cref="ReadAsync"/> once.
/// </summary>
public sealed class EnhancedFanOutStreamReader
{
    private readonly IAmazonKinesis _kinesis;
    private readonly EnhancedFanOutStreamReaderOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the reader.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public EnhancedFanOutStreamReader(IAmazonKinesis kinesis, EnhancedFanOutStreamReaderOptions options, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(kinesis);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.StreamName);
        ArgumentException.ThrowIfNullOrEmpty(options.ConsumerName);
        if (options.StartingPosition == StartingPosition.AtTimestamp && options.StartingPositionTimestamp is null)
        {
            throw new ArgumentException("StartingPositionTimestamp is required with AT_TIMESTAMP.", nameof(options));
        }
        if (options.SubscriptionLifetime < TimeSpan.FromSeconds(1) || options.SubscriptionLifetime > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentException($"SubscriptionLifetime must be between 1 second and 5 minutes (was {options.SubscriptionLifetime}).", nameof(options));
        }
        _kinesis = kinesis;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The events of every shard as they are pushed, until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async IAsyncEnumerable<ShardEvent> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var summary = await _kinesis.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = _options.StreamName }, cancellationToken).ConfigureAwait(false);
        var consumerArn = await StreamConsumers.EnsureActiveAsync(_kinesis, summary.StreamDescriptionSummary.StreamARN, _options.ConsumerName, _time, _logger, cancellationToken).ConfigureAwait(false);
        var rootStart = _options.StartingPosition switch
        {
            StartingPosition.Latest => new ShardStart(ShardIteratorType.LATEST, null),
            StartingPosition.AtTimestamp => new ShardStart(ShardIteratorType.AT_TIMESTAMP, _options.StartingPositionTimestamp),
            _ => new ShardStart(ShardIteratorType.TRIM_HORIZON, null),
        };
        var finished = new HashSet<string>(StringComparer.Ordinal);
        var readers = new Dictionary<string, EnhancedFanOutShardReader>(StringComparer.Ordinal);
        try
        {
            var refresh = true;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (refresh)
                {
                    refresh = false;
                    var shards = await _kinesis.ListAllShardsAsync(_options.StreamName, cancellationToken).ConfigureAwait(false);
                    var listed = new HashSet<string>(shards.Select(s => s.ShardId), StringComparer.Ordinal);
                    foreach (var shard in shards.OrderBy(s => s.ShardId, StringComparer.Ordinal))
                    {
                        if (finished.Contains(shard.ShardId) || readers.ContainsKey(shard.ShardId))
                        {
                            continue;
                        }
                        var parents = new[] { shard.ParentShardId, shard.AdjacentParentShardId }.Where(p => !string.IsNullOrEmpty(p) && listed.Contains(p!)).ToList();
                        if (parents.Any(p => !finished.Contains(p!)))
                        {
                            continue;
                        }
                        // A child of a parent read here starts at its beginning, whatever the root position was.
                        var start = parents.Count > 0 ? new ShardStart(ShardIteratorType.TRIM_HORIZON, null) : rootStart;
                        readers[shard.ShardId] = new EnhancedFanOutShardReader(_kinesis, _options.StreamName, consumerArn, shard.ShardId, start, null,
                            _options.SubscriptionLifetime, TimeSpan.FromMilliseconds(500), _time, _logger);
                    }
                }

                var any = false;
                foreach (var (shardId, reader) in readers.ToList())
                {
                    var read = await reader.ReadAsync(10_000, cancellationToken).ConfigureAwait(false);
                    if (read.Records.Count > 0 || read.MillisBehindLatest is not null || read.Ended)
                    {
                        any = true;
                        yield return new ShardEvent(shardId, read.Records, read.MillisBehindLatest, read.Ended);
                    }
                    if (read.Ended)
                    {
                        finished.Add(shardId);
                        readers.Remove(shardId);
                        await reader.DisposeAsync().ConfigureAwait(false);
                        refresh = true;
                    }
                }
                if (!any && readers.Count > 0)
                {
                    await Task.WhenAny(readers.Values.Select(r => r.WaitAsync(TimeSpan.FromMilliseconds(200), cancellationToken))).ConfigureAwait(false);
                }
                else if (readers.Count == 0)
                {
                    // Every listed shard is read to its end (or waits for a parent that is not listed yet).
                    await Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken).ConfigureAwait(false);
                    refresh = true;
                }
            }
        }
        finally
        {
            foreach (var reader in readers.Values)
            {
                await reader.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
