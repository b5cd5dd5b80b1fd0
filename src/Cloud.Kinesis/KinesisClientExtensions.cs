using Amazon.Kinesis;
using Amazon.Kinesis.Model;

namespace Cloud.Kinesis;

/// <summary>Multi-call helpers the SDK lacks, written once for the whole project.</summary>
public static class KinesisClientExtensions
{
    /// <summary>
    /// Lists every shard of a stream by following <c>NextToken</c> until it is absent. Later pages send only the
    /// token (and the page size), as the API requires.
    /// </summary>
    /// <param name="client">The client.</param>
    /// <param name="streamName">The stream.</param>
    /// <param name="filter">Optional ShardFilter (e.g. AT_LATEST, FROM_TRIM_HORIZON).</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    public static async Task<IReadOnlyList<Shard>> ListAllShardsAsync(this IAmazonKinesis client, string streamName, ShardFilter? filter = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(streamName);
        var shards = new List<Shard>();
        var page = await client.ListShardsAsync(new ListShardsRequest { StreamName = streamName, ShardFilter = filter }, cancellationToken).ConfigureAwait(false);
        shards.AddRange(page.Shards ?? []);
        while (!string.IsNullOrEmpty(page.NextToken))
        {
            page = await client.ListShardsAsync(new ListShardsRequest { NextToken = page.NextToken }, cancellationToken).ConfigureAwait(false);
            shards.AddRange(page.Shards ?? []);
        }
        return shards;
    }

    /// <summary>Lists every shard of a stream (see <see cref="ListAllShardsAsync(IAmazonKinesis, string, ShardFilter?, CancellationToken)"/>).</summary>
    public static Task<IReadOnlyList<Shard>> ListAllShardsAsync(this IAmazonKinesis client, string streamName, CancellationToken cancellationToken) =>
        client.ListAllShardsAsync(streamName, null, cancellationToken);

    /// <summary>The map of the stream's open shards (one ListShards listing).</summary>
    public static async Task<ShardMap> GetShardMapAsync(this IAmazonKinesis client, string streamName, CancellationToken cancellationToken = default) =>
        ShardMap.FromShards(await client.ListAllShardsAsync(streamName, null, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// Lists every stream name of the account. Follows <c>NextToken</c> when the service returns one; a service that
    /// pages with <c>HasMoreStreams</c> but no token is followed with <c>ExclusiveStartStreamName</c> (the last name
    /// seen), to the end.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ListAllStreamsAsync(this IAmazonKinesis client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var names = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var request = new ListStreamsRequest();
        while (true)
        {
            var page = await client.ListStreamsAsync(request, cancellationToken).ConfigureAwait(false);
            var pageNames = page.StreamNames ?? [];
            if (pageNames.Count == 0 && page.StreamSummaries is { Count: > 0 } summaries)
            {
                pageNames = [.. summaries.Select(s => s.StreamName)];
            }
            int added = 0;
            foreach (var name in pageNames)
            {
                if (seen.Add(name))
                {
                    names.Add(name);
                    added++;
                }
            }
            if (page.HasMoreStreams != true || pageNames.Count == 0)
            {
                return names;
            }
            if (!string.IsNullOrEmpty(page.NextToken))
            {
                request = new ListStreamsRequest { NextToken = page.NextToken };
            }
            else if (added == 0)
            {
                return names; // the service repeats itself: stop rather than loop
            }
            else
            {
                request = new ListStreamsRequest { ExclusiveStartStreamName = pageNames[^1] };
            }
        }
    }

    /// <summary>
    /// Polls DescribeStreamSummary until the stream is ACTIVE (after CreateStream, UpdateShardCount, SplitShard,
    /// MergeShards, StartStreamEncryption...). A stream that is not visible yet counts as "not yet".
    /// </summary>
    /// <param name="client">The client.</param>
    /// <param name="streamName">Stream to wait for.</param>
    /// <param name="timeout">How long to wait. The default is 2 minutes.</param>
    /// <param name="pollInterval">Pause between polls. The default is 250 ms.</param>
    /// <param name="timeProvider">Clock for the pauses and the timeout. The default is <see cref="TimeProvider.System"/>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The ACTIVE stream's summary.</returns>
    /// <exception cref="TimeoutException">The stream did not become ACTIVE in time (the last status is in the message).</exception>
    public static async Task<StreamDescriptionSummary> WaitForStreamActiveAsync(
        this IAmazonKinesis client,
        string streamName,
        TimeSpan? timeout = null,
        TimeSpan? pollInterval = null,
        TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(streamName);
        var time = timeProvider ?? TimeProvider.System;
        var limit = timeout ?? TimeSpan.FromMinutes(2);
        var pause = pollInterval ?? TimeSpan.FromMilliseconds(250);
        var started = time.GetTimestamp();
        var lastStatus = "not found";
        while (true)
        {
            try
            {
                var summary = (await client.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = streamName }, cancellationToken)
                    .ConfigureAwait(false)).StreamDescriptionSummary;
                if (summary.StreamStatus == StreamStatus.ACTIVE)
                {
                    return summary;
                }

                lastStatus = summary.StreamStatus?.Value ?? "unknown";
            }
            catch (ResourceNotFoundException)
            {
                lastStatus = "not found";
            }

            if (time.GetElapsedTime(started) + pause > limit)
            {
                throw new TimeoutException($"Stream '{streamName}' did not become ACTIVE within {limit} (last status: {lastStatus}).");
            }

            await Task.Delay(pause, time, cancellationToken).ConfigureAwait(false);
        }
    }
}
