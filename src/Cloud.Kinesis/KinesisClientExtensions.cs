using Cloud.Kinesis.Model;

namespace Cloud.Kinesis;

/// <summary>Multi-call helpers over <see cref="IKinesisClient"/>.</summary>
public static class KinesisClientExtensions
{
    /// <summary>
    /// Lists every shard by following <see cref="ListShardsResponse.NextToken"/> until it is absent.
    /// The first call sends <paramref name="request"/> as given (stream, filter, page size); later calls send only the
    /// token and the page size, as the API requires.
    /// </summary>
    public static async Task<IReadOnlyList<Shard>> ListAllShardsAsync(this IKinesisClient client, ListShardsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(request);
        var shards = new List<Shard>();
        var page = await client.ListShardsAsync(request, cancellationToken).ConfigureAwait(false);
        shards.AddRange(page.Shards);
        while (!string.IsNullOrEmpty(page.NextToken))
        {
            page = await client.ListShardsAsync(new ListShardsRequest { NextToken = page.NextToken, MaxResults = request.MaxResults }, cancellationToken)
                .ConfigureAwait(false);
            shards.AddRange(page.Shards);
        }

        return shards;
    }

    /// <summary>Lists every shard of <paramref name="streamName"/>.</summary>
    public static Task<IReadOnlyList<Shard>> ListAllShardsAsync(this IKinesisClient client, string streamName, CancellationToken cancellationToken = default) =>
        client.ListAllShardsAsync(new ListShardsRequest { StreamName = streamName }, cancellationToken);

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
        this IKinesisClient client,
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
                if (summary.StreamStatus == "ACTIVE")
                {
                    return summary;
                }

                lastStatus = summary.StreamStatus;
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
