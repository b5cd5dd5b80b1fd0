using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Kinesis;

namespace Cloud.EventSourceMapping;

/// <summary>
/// Measures a mapping's lag from outside the runner (what <c>cloud lag STREAM</c> shows): reads the checkpoints and
/// counts, per shard, the records after the checkpoint up to the tip of the shard.
/// </summary>
/// <remarks>
/// A shard without checkpoint is counted from TRIM_HORIZON (an upper bound for LATEST or AT_TIMESTAMP mappings).
/// Counting reads the shard like a consumer does (GetRecords pages of up to 10,000 records); it stops at
/// <c>maxRecordsToCount</c> per shard and then reports <see cref="ShardLag.RecordsBehind"/> as null (unknown, larger).
/// </remarks>
public sealed class StreamLagReader
{
    private readonly IAmazonKinesis _kinesis;
    private readonly ICheckpointStore _checkpoints;
    private readonly TimeProvider _time;

    /// <summary>Creates the reader.</summary>
    public StreamLagReader(IAmazonKinesis kinesis, ICheckpointStore checkpoints, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(kinesis);
        ArgumentNullException.ThrowIfNull(checkpoints);
        _kinesis = kinesis;
        _checkpoints = checkpoints;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The lag of every listed shard of <paramref name="streamName"/> for one mapping, ordered by shard id.</summary>
    /// <param name="streamName">The stream.</param>
    /// <param name="mappingId">The mapping; null = <see cref="EventSourceMappingOptions.DefaultMappingId"/> of the stream.</param>
    /// <param name="maxRecordsToCount">Stop counting a shard after this many records.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    public async Task<IReadOnlyList<ShardLag>> ReadAsync(string streamName, string? mappingId = null, int maxRecordsToCount = 100_000, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamName);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRecordsToCount);
        mappingId ??= EventSourceMappingOptions.DefaultMappingId(streamName);
        var checkpoints = await _checkpoints.LoadAsync(mappingId, cancellationToken).ConfigureAwait(false);
        var shards = await _kinesis.ListAllShardsAsync(streamName, cancellationToken).ConfigureAwait(false);

        var listed = new HashSet<string>(shards.Select(s => s.ShardId), StringComparer.Ordinal);
        var result = new List<ShardLag>(shards.Count);
        foreach (var shard in shards.OrderBy(s => s.ShardId, StringComparer.Ordinal))
        {
            var checkpoint = checkpoints.GetValueOrDefault(shard.ShardId);
            if (checkpoint?.Finished == true)
            {
                result.Add(new ShardLag { ShardId = shard.ShardId, CheckpointSequenceNumber = checkpoint.SequenceNumber, Finished = true, MillisBehindLatest = 0, RecordsBehind = 0, LastReadAt = checkpoint.UpdatedAt });
                continue;
            }
            var waiting = new[] { shard.ParentShardId, shard.AdjacentParentShardId }
                .Any(p => !string.IsNullOrEmpty(p) && listed.Contains(p!) && checkpoints.GetValueOrDefault(p!)?.Finished != true);
            var (records, millis, complete) = await CountAsync(streamName, shard.ShardId, checkpoint?.SequenceNumber, maxRecordsToCount, cancellationToken).ConfigureAwait(false);
            result.Add(new ShardLag
            {
                ShardId = shard.ShardId,
                CheckpointSequenceNumber = checkpoint?.SequenceNumber,
                MillisBehindLatest = millis,
                RecordsBehind = complete ? records : null,
                BufferedRecords = 0,
                WaitingForParents = waiting,
                LastReadAt = checkpoint?.UpdatedAt,
            });
        }
        return result;
    }

    private async Task<(long Records, long Millis, bool Complete)> CountAsync(string streamName, string shardId, string? after, int max, CancellationToken cancellationToken)
    {
        var iterator = (await _kinesis.GetShardIteratorAsync(new GetShardIteratorRequest
        {
            StreamName = streamName,
            ShardId = shardId,
            ShardIteratorType = after is null ? ShardIteratorType.TRIM_HORIZON : ShardIteratorType.AFTER_SEQUENCE_NUMBER,
            StartingSequenceNumber = after,
        }, cancellationToken).ConfigureAwait(false)).ShardIterator;
        long count = 0;
        long millis = 0;
        DateTimeOffset? oldest = null;
        // Empty pages can come while the iterator is still behind; the page cap bounds a pathological shard.
        for (var page = 0; page < 10_000 && iterator is not null; page++)
        {
            var response = await _kinesis.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 10_000 }, cancellationToken).ConfigureAwait(false);
            if (page == 0)
            {
                millis = response.MillisBehindLatest ?? 0;
            }
            var records = response.Records ?? [];
            if (records.Count > 0)
            {
                oldest ??= StreamRecord.ToUtc(records[0].ApproximateArrivalTimestamp);
                count += records.Count;
                if (count >= max)
                {
                    return (count, Behind(oldest, millis), false);
                }
            }
            else if ((response.MillisBehindLatest ?? 0) == 0)
            {
                break;
            }
            iterator = response.NextShardIterator;
        }
        return (count, Behind(oldest, count == 0 ? 0 : millis), true);
    }

    private long Behind(DateTimeOffset? oldest, long reported) =>
        oldest is { } first ? Math.Max(reported, Math.Max(0, (long)(_time.GetUtcNow() - first).TotalMilliseconds)) : reported;
}
