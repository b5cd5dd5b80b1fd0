using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Amazon.Runtime;

namespace Cloud.Benchmarks.Producer;

/// <summary>
/// A Kinesis stand-in for producer benchmarks, behind AWS's <see cref="IAmazonKinesis"/>: routes entries by explicit
/// hash key or MD5(partition key) over evenly split shards and counts Kinesis records per shard, keeping nothing.
/// Not tests/Cloud.Testing's FakeKinesis: that one stores every record (data, sequence numbers, arrival times), which
/// at 100k records/s would measure the fake's memory, not the producer's. Other operations go to a closed loopback
/// port and fail fast.
/// </summary>
internal sealed class InMemoryKinesisClient : AmazonKinesisClient
{
    private readonly Shard[] _shards;
    private readonly UInt128[] _starts;
    private readonly long[] _kinesisRecords;
    private long _sequence;

    public InMemoryKinesisClient(int shardCount)
        : base(new BasicAWSCredentials("bench", "bench"), new AmazonKinesisConfig { ServiceURL = "http://127.0.0.1:9", AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 })
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
                HashKeyRange = new HashKeyRange { StartingHashKey = start.ToString(CultureInfo.InvariantCulture), EndingHashKey = end.ToString(CultureInfo.InvariantCulture) },
                SequenceNumberRange = new SequenceNumberRange { StartingSequenceNumber = "0" },
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

    public override Task<ListShardsResponse> ListShardsAsync(ListShardsRequest request, CancellationToken cancellationToken = default) =>
        Task.FromResult(new ListShardsResponse { Shards = [.. _shards] });

    public override Task<DescribeStreamSummaryResponse> DescribeStreamSummaryAsync(DescribeStreamSummaryRequest request, CancellationToken cancellationToken = default) =>
        Task.FromResult(new DescribeStreamSummaryResponse
        {
            StreamDescriptionSummary = new StreamDescriptionSummary { StreamName = request.StreamName, StreamStatus = StreamStatus.ACTIVE, OpenShardCount = _shards.Length },
        });

    public override Task<PutRecordsResponse> PutRecordsAsync(PutRecordsRequest request, CancellationToken cancellationToken = default)
    {
        var results = new List<PutRecordsResultEntry>(request.Records.Count);
        for (int i = 0; i < request.Records.Count; i++)
        {
            var e = request.Records[i];
            var hash = e.ExplicitHashKey is { } ehk ? UInt128.Parse(ehk, CultureInfo.InvariantCulture) : Hash(e.PartitionKey);
            int shard = ShardIndex(hash);
            Interlocked.Increment(ref _kinesisRecords[shard]);
            results.Add(new PutRecordsResultEntry
            {
                ShardId = _shards[shard].ShardId,
                SequenceNumber = Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture),
            });
        }
        int failed = 0; // every entry succeeds (a constant 0 trips the SDK analyzer's minimum-of-1 rule)
        return Task.FromResult(new PutRecordsResponse { FailedRecordCount = failed, Records = results });
    }
}
