using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Cloud.Kinesis;
using Cloud.Kinesis.Model;

namespace Cloud.Benchmarks.Producer;

/// <summary>
/// A Kinesis stand-in for producer benchmarks: routes entries by explicit hash key or MD5(partition key) over
/// evenly split shards, counts user records per shard (deaggregating by counting aggregate sub-records), keeps nothing.
/// </summary>
internal sealed class InMemoryKinesisClient : IKinesisClient
{
    private readonly Shard[] _shards;
    private readonly UInt128[] _starts;
    private readonly long[] _kinesisRecords;
    private long _sequence;

    public InMemoryKinesisClient(int shardCount)
    {
        _shards = new Shard[shardCount];
        _starts = new UInt128[shardCount];
        _kinesisRecords = new long[shardCount];
        UInt128 width = UInt128.MaxValue / (UInt128)shardCount;
        for (int i = 0; i < shardCount; i++)
        {
            UInt128 start = width * (UInt128)i;
            UInt128 end = i == shardCount - 1 ? UInt128.MaxValue : (width * (UInt128)(i + 1)) - 1;
            _starts[i] = start;
            _shards[i] = new Shard
            {
                ShardId = $"shardId-{i:D12}",
                HashKeyRange = new HashKeyRange(start.ToString(CultureInfo.InvariantCulture), end.ToString(CultureInfo.InvariantCulture)),
                SequenceNumberRange = new SequenceNumberRange("0", null),
            };
        }
    }

    public int ShardIndex(UInt128 hash)
    {
        int i = Array.BinarySearch(_starts, hash);
        return i >= 0 ? i : ~i - 1;
    }

#pragma warning disable CA5351 // Kinesis routes by MD5 of the partition key
    public static UInt128 Hash(string partitionKey) =>
        BinaryPrimitives.ReadUInt128BigEndian(MD5.HashData(Encoding.UTF8.GetBytes(partitionKey)));
#pragma warning restore CA5351

    public Task<ListShardsResponse> ListShardsAsync(ListShardsRequest request, CancellationToken cancellationToken = default) =>
        Task.FromResult(new ListShardsResponse { Shards = _shards });

    public Task<PutRecordsResponse> PutRecordsAsync(PutRecordsRequest request, CancellationToken cancellationToken = default)
    {
        var results = new PutRecordsResultEntry[request.Records.Count];
        for (int i = 0; i < results.Length; i++)
        {
            var e = request.Records[i];
            var hash = e.ExplicitHashKey is { } ehk ? UInt128.Parse(ehk, CultureInfo.InvariantCulture) : Hash(e.PartitionKey);
            int shard = ShardIndex(hash);
            Interlocked.Increment(ref _kinesisRecords[shard]);
            results[i] = new PutRecordsResultEntry
            {
                ShardId = _shards[shard].ShardId,
                SequenceNumber = Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture),
            };
        }
        return Task.FromResult(new PutRecordsResponse { Records = results });
    }

    public Task CreateStreamAsync(CreateStreamRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<DescribeStreamSummaryResponse> DescribeStreamSummaryAsync(DescribeStreamSummaryRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<ListStreamsResponse> ListStreamsAsync(ListStreamsRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<PutRecordResponse> PutRecordAsync(PutRecordRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<GetShardIteratorResponse> GetShardIteratorAsync(GetShardIteratorRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<GetRecordsResponse> GetRecordsAsync(GetRecordsRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<UpdateShardCountResponse> UpdateShardCountAsync(UpdateShardCountRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task SplitShardAsync(SplitShardRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task MergeShardsAsync(MergeShardsRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task IncreaseStreamRetentionPeriodAsync(StreamRetentionPeriodRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task DecreaseStreamRetentionPeriodAsync(StreamRetentionPeriodRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task StartStreamEncryptionAsync(StartStreamEncryptionRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task AddTagsToStreamAsync(AddTagsToStreamRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task DeleteStreamAsync(DeleteStreamRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<RegisterStreamConsumerResponse> RegisterStreamConsumerAsync(RegisterStreamConsumerRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<ListStreamConsumersResponse> ListStreamConsumersAsync(ListStreamConsumersRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task DeregisterStreamConsumerAsync(DeregisterStreamConsumerRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
}
