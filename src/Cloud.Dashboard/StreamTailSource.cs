using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Kinesis;
using Cloud.Records;

namespace Cloud.Dashboard;

/// <summary>
/// Feeds the dashboard from a stream alone (<c>cloud dashboard</c> against a running local stack or a real
/// stream): tails every open shard from LATEST, one GetRecords per shard per sample, and reports user records/s
/// per shard (aggregates counted by their sub-records), the shards' lag behind the tip and read throttles.
/// It is a reader of the stream: it uses one of each shard's 5 GetRecords/s and shares its 2 MiB/s of reads.
/// Records out and window aggregates are not visible from the stream; a running pipeline publishes them through
/// <see cref="LatestSnapshotSource"/> instead.
/// </summary>
public sealed class StreamTailSource : IDashboardSource, IAsyncDisposable
{
    private readonly IAmazonKinesis _kinesis;
    private readonly string _streamName;
    private readonly TimeProvider _time;
    private readonly LatestSnapshotSource _latest;
    private readonly Dictionary<string, string?> _iterators = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _sampling = new(1, 1);
    private CancellationTokenSource? _loopStop;
    private Task? _loop;
    private long _since;

    /// <summary>Creates the source; call <see cref="InitializeAsync"/>, then <see cref="Start"/> or <see cref="SampleOnceAsync"/>.</summary>
    public StreamTailSource(IAmazonKinesis kinesis, string streamName, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(kinesis);
        ArgumentException.ThrowIfNullOrEmpty(streamName);
        _kinesis = kinesis;
        _streamName = streamName;
        _time = timeProvider ?? TimeProvider.System;
        _latest = new LatestSnapshotSource(new DashboardSnapshot { Timestamp = _time.GetUtcNow(), Stream = streamName, Status = "starting" });
    }

    /// <summary>Lists the open shards and takes LATEST iterators: records put after this are counted.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await AddOpenShardsAsync(cancellationToken).ConfigureAwait(false);
        _since = _time.GetTimestamp();
    }

    /// <summary>Samples every <paramref name="interval"/> in the background until disposed.</summary>
    public void Start(TimeSpan interval)
    {
        if (_loop is not null)
        {
            throw new InvalidOperationException("The stream tail is already running.");
        }
        _loopStop = new CancellationTokenSource();
        var ct = _loopStop.Token;
        _loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(interval, _time);
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                await SampleOnceAsync(ct).ConfigureAwait(false);
            }
        }, ct);
    }

    /// <summary>Reads each shard once and publishes the snapshot of the interval since the previous sample.</summary>
    public async Task<DashboardSnapshot> SampleOnceAsync(CancellationToken cancellationToken)
    {
        await _sampling.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var shards = new List<DashboardShard>();
            long throttles = 0;
            var problems = new List<string>();
            bool reshard = false;
            var counts = new Dictionary<string, (long Records, long Behind)>(StringComparer.Ordinal);
            foreach (var (shardId, iterator) in _iterators.ToList())
            {
                if (iterator is null)
                {
                    continue;
                }
                try
                {
                    var response = await _kinesis.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 10_000 }, cancellationToken).ConfigureAwait(false);
                    long users = 0;
                    foreach (var record in response.Records)
                    {
                        users += CountUserRecords(record.Data);
                    }
                    counts[shardId] = (users, response.MillisBehindLatest ?? 0);
                    _iterators[shardId] = response.NextShardIterator;
                    reshard |= response.NextShardIterator is null;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    var error = KinesisErrors.Classify(ex);
                    if (error.Cause == KinesisErrorCause.Expired)
                    {
                        _iterators[shardId] = await LatestIteratorAsync(shardId, cancellationToken).ConfigureAwait(false);
                    }
                    else if (error.IsThrottling)
                    {
                        throttles++;
                    }
                    else
                    {
                        problems.Add($"{shardId}: {error.Code}");
                    }
                    counts[shardId] = (0, 0);
                }
            }
            if (reshard)
            {
                foreach (var closed in _iterators.Where(p => p.Value is null).Select(p => p.Key).ToList())
                {
                    _iterators.Remove(closed);
                }
                await AddOpenShardsAsync(cancellationToken).ConfigureAwait(false);
            }

            long now = _time.GetTimestamp();
            double seconds = Math.Max(_time.GetElapsedTime(_since, now).TotalSeconds, 1e-3);
            _since = now;
            double total = 0;
            foreach (var (shardId, (records, behind)) in counts.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                shards.Add(new DashboardShard(shardId, records / seconds, behind));
                total += records / seconds;
            }
            var snapshot = new DashboardSnapshot
            {
                Timestamp = _time.GetUtcNow(),
                Stream = _streamName,
                RecordsInPerSecond = total,
                ThrottlesPerSecond = throttles / seconds,
                Shards = shards,
                Status = problems.Count == 0
                    ? $"tailing {shards.Count} shards (records out and windows come from a running pipeline)"
                    : "read errors: " + string.Join(", ", problems),
            };
            _latest.Publish(snapshot);
            return snapshot;
        }
        finally
        {
            _sampling.Release();
        }
    }

    /// <inheritdoc />
    public ValueTask<DashboardSnapshot> GetSnapshotAsync(CancellationToken cancellationToken) => _latest.GetSnapshotAsync(cancellationToken);

    /// <summary>Stops the background sampling.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_loopStop is not null)
        {
            await _loopStop.CancelAsync().ConfigureAwait(false);
            try
            {
                await _loop!.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // stopped
            }
            _loopStop.Dispose();
            _loopStop = null;
        }
        _sampling.Dispose();
    }

    private static long CountUserRecords(MemoryStream data)
    {
        var bytes = data.TryGetBuffer(out var segment) ? segment.AsSpan() : data.ToArray();
        if (KplAggregateReader.TryCreate(bytes, out var reader))
        {
            using (reader)
            {
                return reader.RecordCount;
            }
        }
        return 1;
    }

    private async Task AddOpenShardsAsync(CancellationToken cancellationToken)
    {
        var shards = await _kinesis.ListAllShardsAsync(_streamName, cancellationToken).ConfigureAwait(false);
        foreach (var shard in shards)
        {
            if (shard.SequenceNumberRange?.EndingSequenceNumber is null && !_iterators.ContainsKey(shard.ShardId))
            {
                _iterators[shard.ShardId] = await LatestIteratorAsync(shard.ShardId, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<string?> LatestIteratorAsync(string shardId, CancellationToken cancellationToken)
    {
        var response = await _kinesis.GetShardIteratorAsync(new GetShardIteratorRequest
        {
            StreamName = _streamName,
            ShardId = shardId,
            ShardIteratorType = ShardIteratorType.LATEST,
        }, cancellationToken).ConfigureAwait(false);
        return response.ShardIterator;
    }
}
