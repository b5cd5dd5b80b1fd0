using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Cloud.Kinesis;
using Cloud.Kinesis.Model;

namespace Cloud.Producer.Tests;

/// <summary>A stored Kinesis record of the fake stream.</summary>
public sealed record StoredRecord(string ShardId, string SequenceNumber, byte[] Data, string PartitionKey, string? ExplicitHashKey);

/// <summary>
/// In-memory IKinesisClient: routes PutRecords entries exactly like Kinesis (explicit hash key or MD5 of the
/// partition key against the shard ranges), assigns increasing sequence numbers per shard, and can inject
/// per-record failures, whole-call exceptions and blocking.
/// </summary>
public sealed class FakeKinesisClient : IKinesisClient
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _sequence = new();
    private List<Shard> _shards;

    public FakeKinesisClient(int shardCount, string streamName = "test-stream")
    {
        StreamName = streamName;
        _shards = EvenShards(shardCount);
    }

    public string StreamName { get; }

    public ConcurrentQueue<PutRecordsRequest> Requests { get; } = new();

    public List<StoredRecord> Stored { get; } = [];

    private int _listShardsCalls;

    public int ListShardsCalls => Volatile.Read(ref _listShardsCalls);

    /// <summary>(call index, entry index, entry) → error code to fail that entry with, or null.</summary>
    public Func<int, int, PutRecordsRequestEntry, string?>? FailEntry { get; set; }

    /// <summary>(call index) → exception to throw for the whole call, or null.</summary>
    public Func<int, Exception?>? FailCall { get; set; }

    public Exception? ListShardsError { get; set; }

    /// <summary>When set, PutRecords waits for this task before answering.</summary>
    public Task? Gate { get; set; }

    /// <summary>When set, the stream routes with these shards while ListShards still reports the old ones until <see cref="PublishShards"/>.</summary>
    public List<Shard>? RoutingOverride { get; set; }

    private int _calls;

    public static List<Shard> EvenShards(int count, int firstId = 0)
    {
        var shards = new List<Shard>();
        UInt128 width = UInt128.MaxValue / (UInt128)count;
        for (int i = 0; i < count; i++)
        {
            UInt128 start = width * (UInt128)i;
            UInt128 end = i == count - 1 ? UInt128.MaxValue : (width * (UInt128)(i + 1)) - 1;
            shards.Add(new Shard
            {
                ShardId = $"shardId-{firstId + i:D12}",
                HashKeyRange = new HashKeyRange(start.ToString(CultureInfo.InvariantCulture), end.ToString(CultureInfo.InvariantCulture)),
                SequenceNumberRange = new SequenceNumberRange("0", null),
            });
        }
        return shards;
    }

    public void PublishShards(List<Shard> shards)
    {
        lock (_lock)
        {
            _shards = shards;
            RoutingOverride = null;
        }
    }

    public static UInt128 HashOf(string partitionKey, string? explicitHashKey)
    {
        if (explicitHashKey is not null)
        {
            return UInt128.Parse(explicitHashKey, CultureInfo.InvariantCulture);
        }
        var digest = MD5.HashData(Encoding.UTF8.GetBytes(partitionKey));
        return BinaryPrimitives.ReadUInt128BigEndian(digest);
    }

    public static string ShardFor(IEnumerable<Shard> shards, UInt128 hash)
    {
        foreach (var s in shards)
        {
            if (s.SequenceNumberRange.EndingSequenceNumber is null
                && UInt128.Parse(s.HashKeyRange.StartingHashKey, CultureInfo.InvariantCulture) <= hash
                && hash <= UInt128.Parse(s.HashKeyRange.EndingHashKey, CultureInfo.InvariantCulture))
            {
                return s.ShardId;
            }
        }
        throw new InvalidOperationException("hash outside every shard");
    }

    public Task<ListShardsResponse> ListShardsAsync(ListShardsRequest request, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _listShardsCalls);
        if (ListShardsError is { } e)
        {
            return Task.FromException<ListShardsResponse>(e);
        }
        lock (_lock)
        {
            return Task.FromResult(new ListShardsResponse { Shards = [.. _shards] });
        }
    }

    public async Task<PutRecordsResponse> PutRecordsAsync(PutRecordsRequest request, CancellationToken cancellationToken = default)
    {
        int call = Interlocked.Increment(ref _calls) - 1;
        Requests.Enqueue(request);
        if (Gate is { } gate)
        {
            await gate.ConfigureAwait(false);
        }
        if (FailCall?.Invoke(call) is { } error)
        {
            throw error;
        }
        var results = new PutRecordsResultEntry[request.Records.Count];
        int failed = 0;
        lock (_lock)
        {
            var routing = RoutingOverride ?? _shards;
            for (int i = 0; i < results.Length; i++)
            {
                var entry = request.Records[i];
                if (FailEntry?.Invoke(call, i, entry) is { } code)
                {
                    results[i] = new PutRecordsResultEntry { ErrorCode = code, ErrorMessage = "injected" };
                    failed++;
                    continue;
                }
                string shardId = ShardFor(routing, HashOf(entry.PartitionKey, entry.ExplicitHashKey));
                long seq = _sequence.TryGetValue(shardId, out long s) ? s + 1 : 1;
                _sequence[shardId] = seq;
                string sequence = seq.ToString("D20", CultureInfo.InvariantCulture);
                Stored.Add(new StoredRecord(shardId, sequence, entry.Data.ToArray(), entry.PartitionKey, entry.ExplicitHashKey));
                results[i] = new PutRecordsResultEntry { ShardId = shardId, SequenceNumber = sequence };
            }
        }
        return new PutRecordsResponse { FailedRecordCount = failed, Records = results };
    }

    public List<StoredRecord> Snapshot()
    {
        lock (_lock)
        {
            return [.. Stored];
        }
    }

    public static KinesisServiceException ServiceError(string code, HttpStatusCode status = HttpStatusCode.BadRequest) =>
        new("PutRecords", code, "injected", "req-1", status);

    private static Task Unsupported() => throw new NotSupportedException();

    public Task CreateStreamAsync(CreateStreamRequest request, CancellationToken cancellationToken = default) => Unsupported();
    public Task<DescribeStreamSummaryResponse> DescribeStreamSummaryAsync(DescribeStreamSummaryRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<ListStreamsResponse> ListStreamsAsync(ListStreamsRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<PutRecordResponse> PutRecordAsync(PutRecordRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<GetShardIteratorResponse> GetShardIteratorAsync(GetShardIteratorRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<GetRecordsResponse> GetRecordsAsync(GetRecordsRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<UpdateShardCountResponse> UpdateShardCountAsync(UpdateShardCountRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task SplitShardAsync(SplitShardRequest request, CancellationToken cancellationToken = default) => Unsupported();
    public Task MergeShardsAsync(MergeShardsRequest request, CancellationToken cancellationToken = default) => Unsupported();
    public Task IncreaseStreamRetentionPeriodAsync(StreamRetentionPeriodRequest request, CancellationToken cancellationToken = default) => Unsupported();
    public Task DecreaseStreamRetentionPeriodAsync(StreamRetentionPeriodRequest request, CancellationToken cancellationToken = default) => Unsupported();
    public Task StartStreamEncryptionAsync(StartStreamEncryptionRequest request, CancellationToken cancellationToken = default) => Unsupported();
    public Task AddTagsToStreamAsync(AddTagsToStreamRequest request, CancellationToken cancellationToken = default) => Unsupported();
    public Task DeleteStreamAsync(DeleteStreamRequest request, CancellationToken cancellationToken = default) => Unsupported();
    public Task<RegisterStreamConsumerResponse> RegisterStreamConsumerAsync(RegisterStreamConsumerRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<ListStreamConsumersResponse> ListStreamConsumersAsync(ListStreamConsumersRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task DeregisterStreamConsumerAsync(DeregisterStreamConsumerRequest request, CancellationToken cancellationToken = default) => Unsupported();
}
