using System.Globalization;
using System.Net;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Cloud.Kinesis;
using Cloud.Kinesis.Model;
using Record = Cloud.Kinesis.Model.Record;

namespace Cloud.EventSourceMapping.Tests;

/// <summary>
/// An in-memory Kinesis with the read semantics the runner depends on: shards with hash ranges, global increasing
/// 56-digit sequence numbers, iterators of every type, closed shards ending with a null NextShardIterator and
/// ChildShards, SplitShard, and MillisBehindLatest.
/// </summary>
public sealed class FakeKinesisClient : IKinesisClient
{
    private static readonly BigInteger SequenceBase = BigInteger.Parse("49600000000000000000000000000000000000000000000000000000", CultureInfo.InvariantCulture);
    private static readonly BigInteger MaxHash = (BigInteger.One << 128) - 1;

    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<FakeShard>> _streams = [];
    private long _sequence;
    private int _nextShardNumber;

    public FakeKinesisClient(TimeProvider time) => _time = time;

    /// <summary>Number of GetRecords calls so far.</summary>
    public int GetRecordsCalls { get; private set; }

    /// <summary>When positive, the next GetRecords calls throw ExpiredIteratorException (counted down).</summary>
    public int ExpireNextIterators { get; set; }

    public sealed class FakeShard
    {
        public required string ShardId { get; init; }
        public string? Parent { get; init; }
        public string? AdjacentParent { get; init; }
        public required BigInteger Start { get; init; }
        public required BigInteger End { get; init; }
        public List<Record> Records { get; } = [];
        public bool Closed { get; set; }
        public List<string> Children { get; } = [];
        public string StartingSequence { get; init; } = "0";
    }

    public static string ArnOf(string stream) => $"arn:aws:kinesis:us-east-1:000000000000:stream/{stream}";

    public void CreateStream(string name, int shardCount)
    {
        lock (_lock)
        {
            var shards = new List<FakeShard>();
            var width = (MaxHash + 1) / shardCount;
            for (var i = 0; i < shardCount; i++)
            {
                var start = width * i;
                var end = i == shardCount - 1 ? MaxHash : (width * (i + 1)) - 1;
                shards.Add(new FakeShard { ShardId = NewShardId(), Start = start, End = end, StartingSequence = NextSequence(peek: true) });
            }
            _streams[name] = shards;
        }
    }

    public IReadOnlyList<FakeShard> Shards(string stream)
    {
        lock (_lock)
        {
            return [.. _streams[stream]];
        }
    }

    /// <summary>Writes a record; returns (shard id, sequence number).</summary>
    public (string ShardId, string SequenceNumber) Put(string stream, string partitionKey, string data, string? explicitHashKey = null) =>
        Put(stream, partitionKey, Encoding.UTF8.GetBytes(data), explicitHashKey);

    public (string ShardId, string SequenceNumber) Put(string stream, string partitionKey, byte[] data, string? explicitHashKey = null)
    {
        lock (_lock)
        {
            var hash = explicitHashKey is null ? new BigInteger(HashKey(Encoding.UTF8.GetBytes(partitionKey)), isUnsigned: true, isBigEndian: true) : BigInteger.Parse(explicitHashKey, CultureInfo.InvariantCulture);
            var shard = _streams[stream].Single(s => !s.Closed && s.Start <= hash && hash <= s.End);
            var record = new Record
            {
                SequenceNumber = NextSequence(peek: false),
                PartitionKey = partitionKey,
                Data = data,
                ApproximateArrivalTimestamp = _time.GetUtcNow(),
            };
            shard.Records.Add(record);
            return (shard.ShardId, record.SequenceNumber);
        }
    }

    /// <summary>Splits a shard in the middle of its hash range; returns the two children.</summary>
    public (string Left, string Right) Split(string stream, string shardId)
    {
        lock (_lock)
        {
            var shards = _streams[stream];
            var parent = shards.Single(s => s.ShardId == shardId);
            if (parent.Closed)
            {
                throw new InvalidOperationException("already closed");
            }
            var middle = parent.Start + ((parent.End - parent.Start) / 2);
            parent.Closed = true;
            var left = new FakeShard { ShardId = NewShardId(), Parent = parent.ShardId, Start = parent.Start, End = middle, StartingSequence = NextSequence(peek: true) };
            var right = new FakeShard { ShardId = NewShardId(), Parent = parent.ShardId, Start = middle + 1, End = parent.End, StartingSequence = NextSequence(peek: true) };
            parent.Children.Add(left.ShardId);
            parent.Children.Add(right.ShardId);
            shards.Add(left);
            shards.Add(right);
            return (left.ShardId, right.ShardId);
        }
    }

    public Task<DescribeStreamSummaryResponse> DescribeStreamSummaryAsync(DescribeStreamSummaryRequest request, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var name = request.StreamName!;
            if (!_streams.TryGetValue(name, out var shards))
            {
                throw NotFound("DescribeStreamSummary", name);
            }
            return Task.FromResult(new DescribeStreamSummaryResponse
            {
                StreamDescriptionSummary = new StreamDescriptionSummary { StreamName = name, StreamARN = ArnOf(name), StreamStatus = "ACTIVE", OpenShardCount = shards.Count(s => !s.Closed) },
            });
        }
    }

    public Task<ListShardsResponse> ListShardsAsync(ListShardsRequest request, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_streams.TryGetValue(request.StreamName!, out var shards))
            {
                throw NotFound("ListShards", request.StreamName!);
            }
            return Task.FromResult(new ListShardsResponse
            {
                Shards = [.. shards.Select(s => new Shard
                {
                    ShardId = s.ShardId,
                    ParentShardId = s.Parent,
                    AdjacentParentShardId = s.AdjacentParent,
                    HashKeyRange = new HashKeyRange(s.Start.ToString(CultureInfo.InvariantCulture), s.End.ToString(CultureInfo.InvariantCulture)),
                    SequenceNumberRange = new SequenceNumberRange(s.StartingSequence, s.Closed ? (s.Records.Count > 0 ? s.Records[^1].SequenceNumber : s.StartingSequence) : null),
                })],
            });
        }
    }

    public Task<GetShardIteratorResponse> GetShardIteratorAsync(GetShardIteratorRequest request, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var shard = _streams[request.StreamName].Single(s => s.ShardId == request.ShardId);
            int position = request.ShardIteratorType switch
            {
                ShardIteratorType.TrimHorizon => 0,
                ShardIteratorType.Latest => shard.Records.Count,
                ShardIteratorType.AtTimestamp => Index(shard, r => r.ApproximateArrivalTimestamp >= request.Timestamp!.Value),
                ShardIteratorType.AtSequenceNumber => Index(shard, r => Seq(r) >= Parse(request.StartingSequenceNumber!)),
                ShardIteratorType.AfterSequenceNumber => Index(shard, r => Seq(r) > Parse(request.StartingSequenceNumber!)),
                _ => throw new KinesisValidationException("GetShardIterator", "ShardIteratorType", "is unknown"),
            };
            return Task.FromResult(new GetShardIteratorResponse { ShardIterator = $"{request.StreamName}|{shard.ShardId}|{position}" });
        }
    }

    public Task<GetRecordsResponse> GetRecordsAsync(GetRecordsRequest request, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            GetRecordsCalls++;
            if (ExpireNextIterators > 0)
            {
                ExpireNextIterators--;
                throw new KinesisServiceException("GetRecords", "ExpiredIteratorException", "Iterator expired", "req", HttpStatusCode.BadRequest);
            }
            var parts = request.ShardIterator.Split('|');
            var shard = _streams[parts[0]].Single(s => s.ShardId == parts[1]);
            var position = int.Parse(parts[2], CultureInfo.InvariantCulture);
            var take = Math.Min(request.Limit ?? 10_000, shard.Records.Count - position);
            var records = shard.Records.GetRange(position, take);
            var next = position + take;
            var atEnd = next >= shard.Records.Count;
            long behind = atEnd ? 0 : (long)(_time.GetUtcNow() - shard.Records[next].ApproximateArrivalTimestamp).TotalMilliseconds;
            return Task.FromResult(new GetRecordsResponse
            {
                Records = records,
                NextShardIterator = atEnd && shard.Closed ? null : $"{parts[0]}|{shard.ShardId}|{next}",
                MillisBehindLatest = Math.Max(0, behind),
                ChildShards = atEnd && shard.Closed
                    ? [.. shard.Children.Select(c => new ChildShard { ShardId = c, ParentShards = [shard.ShardId], HashKeyRange = new HashKeyRange("0", "0") })]
                    : null,
            });
        }
    }

#pragma warning disable CA5351 // Kinesis maps partition keys with MD5 by definition
    private static byte[] HashKey(byte[] key) => MD5.HashData(key);
#pragma warning restore CA5351

    private static int Index(FakeShard shard, Func<Record, bool> predicate)
    {
        var index = shard.Records.FindIndex(r => predicate(r));
        return index < 0 ? shard.Records.Count : index;
    }

    private static BigInteger Seq(Record r) => Parse(r.SequenceNumber);

    private static BigInteger Parse(string s) => BigInteger.Parse(s, CultureInfo.InvariantCulture);

    private string NextSequence(bool peek)
    {
        var n = peek ? _sequence + 1 : ++_sequence;
        return (SequenceBase + (n * 1000)).ToString(CultureInfo.InvariantCulture);
    }

    private string NewShardId() => $"shardId-{_nextShardNumber++:D12}";

    private static KinesisServiceException NotFound(string operation, string name) =>
        new(operation, "ResourceNotFoundException", $"Stream {name} not found", "req", HttpStatusCode.BadRequest);

    public Task CreateStreamAsync(CreateStreamRequest request, CancellationToken cancellationToken = default) { CreateStream(request.StreamName, request.ShardCount ?? 1); return Task.CompletedTask; }
    public Task<ListStreamsResponse> ListStreamsAsync(ListStreamsRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<PutRecordResponse> PutRecordAsync(PutRecordRequest request, CancellationToken cancellationToken = default)
    {
        var (shard, seq) = Put(request.StreamName, request.PartitionKey, request.Data.ToArray(), request.ExplicitHashKey);
        return Task.FromResult(new PutRecordResponse { ShardId = shard, SequenceNumber = seq });
    }
    public Task<PutRecordsResponse> PutRecordsAsync(PutRecordsRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<UpdateShardCountResponse> UpdateShardCountAsync(UpdateShardCountRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task SplitShardAsync(SplitShardRequest request, CancellationToken cancellationToken = default) { Split(request.StreamName, request.ShardToSplit); return Task.CompletedTask; }
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
