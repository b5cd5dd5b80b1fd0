using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Amazon.Runtime;

namespace Cloud.Testing.Kinesis;

/// <summary>A stored Kinesis record of the fake stream.</summary>
public sealed record StoredRecord(string ShardId, string SequenceNumber, byte[] Data, string PartitionKey, string? ExplicitHashKey);

/// <summary>
/// The project's one in-memory Kinesis, behind AWS's own <see cref="IAmazonKinesis"/> (a subclass of
/// <see cref="AmazonKinesisClient"/> whose used operations are overridden; any other operation goes to a closed
/// loopback port and fails fast). Routes records exactly like Kinesis (explicit hash key or MD5 of the partition key
/// against open shard ranges), global increasing 56-digit sequence numbers, iterators of every type, closed shards
/// ending with a null NextShardIterator and ChildShards, SplitShard/MergeShards/UpdateShardCount, and fault hooks
/// (per-entry and whole-call failures, a gate that holds PutRecords, a shard listing that lags the routing).
/// </summary>
public sealed class FakeKinesis : AmazonKinesisClient
{
    private static readonly BigInteger SequenceBase = BigInteger.Parse("49600000000000000000000000000000000000000000000000000000", CultureInfo.InvariantCulture);
    private static readonly BigInteger MaxHash = (BigInteger.One << 128) - 1;

    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, FakeStream> _streams = new(StringComparer.Ordinal);
    private long _sequence;
    private int _putRecordsCalls;
    private int _listShardsCalls;
    private int _getRecordsCalls;

    /// <summary>Creates an empty fake Kinesis.</summary>
    public FakeKinesis(TimeProvider? time = null)
        : base(new BasicAWSCredentials("fake", "fake"), new AmazonKinesisConfig { ServiceURL = "http://127.0.0.1:9", AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 }) =>
        _time = time ?? TimeProvider.System;

    /// <summary>Creates a fake Kinesis holding one stream of <paramref name="shardCount"/> even shards.</summary>
    public FakeKinesis(int shardCount, string streamName = "test-stream", TimeProvider? time = null)
        : this(time)
    {
        StreamName = streamName;
        CreateStream(streamName, shardCount);
    }

    /// <summary>The stream of the single-stream constructor.</summary>
    public string StreamName { get; } = "test-stream";

    /// <summary>Every PutRecords request received, in order.</summary>
    public ConcurrentQueue<PutRecordsRequest> Requests { get; } = new();

    /// <summary>Number of ListShards calls so far.</summary>
    public int ListShardsCalls => Volatile.Read(ref _listShardsCalls);

    /// <summary>Number of GetRecords calls so far.</summary>
    public int GetRecordsCalls => Volatile.Read(ref _getRecordsCalls);

    /// <summary>(call index, entry index, entry) → error code to fail that entry with, or null.</summary>
    public Func<int, int, PutRecordsRequestEntry, string?>? FailEntry { get; set; }

    /// <summary>(call index) → exception to throw for the whole PutRecords call, or null.</summary>
    public Func<int, Exception?>? FailCall { get; set; }

    /// <summary>(request) → exception to throw for the whole PutRecords call, or null.</summary>
    public Func<PutRecordsRequest, Exception?>? FailRequest { get; set; }

    /// <summary>When set, every ListShards call throws it.</summary>
    public Exception? ListShardsError { get; set; }

    /// <summary>When set, PutRecords waits for this task (or the caller's cancellation) before answering.</summary>
    public Task? Gate { get; set; }

    /// <summary>When positive, the next GetRecords calls throw ExpiredIteratorException (counted down).</summary>
    public int ExpireNextIterators { get; set; }

    /// <summary>Page size of ListStreams; null answers every name at once.</summary>
    public int? ListStreamsPageSize { get; set; }

    /// <summary>When true, ListStreams pages with HasMoreStreams only (no NextToken), as some implementations do.</summary>
    public bool ListStreamsWithoutNextToken { get; set; }

    /// <summary>One shard of a fake stream.</summary>
    public sealed class FakeShard
    {
        /// <summary>Shard id.</summary>
        public required string ShardId { get; init; }
        /// <summary>Parent shard id.</summary>
        public string? Parent { get; init; }
        /// <summary>Adjacent parent shard id (merges).</summary>
        public string? AdjacentParent { get; init; }
        /// <summary>Starting hash key.</summary>
        public required BigInteger Start { get; init; }
        /// <summary>Ending hash key.</summary>
        public required BigInteger End { get; init; }
        /// <summary>Records, in sequence order.</summary>
        public List<Amazon.Kinesis.Model.Record> Records { get; } = [];
        /// <summary>Whether the shard was closed by a reshard.</summary>
        public bool Closed { get; set; }
        /// <summary>Child shard ids.</summary>
        public List<string> Children { get; } = [];
        /// <summary>Starting sequence number.</summary>
        public string StartingSequence { get; init; } = "0";
    }

    private sealed class FakeStream
    {
        public List<FakeShard> Shards { get; } = [];
        public List<Shard>? FrozenListing { get; set; }
        public int NextShardNumber { get; set; }
    }

    /// <summary>The stream ARN the fake reports.</summary>
    public static string ArnOf(string stream) => $"arn:aws:kinesis:us-east-1:000000000000:stream/{stream}";

    /// <summary>Kinesis's hash of a record: the explicit hash key, or MD5 of the partition key as a big-endian 128-bit integer.</summary>
    public static UInt128 HashOf(string partitionKey, string? explicitHashKey)
    {
        if (explicitHashKey is not null)
        {
            return UInt128.Parse(explicitHashKey, CultureInfo.InvariantCulture);
        }
#pragma warning disable CA5351 // Kinesis maps partition keys with MD5 by definition
        var digest = MD5.HashData(Encoding.UTF8.GetBytes(partitionKey));
#pragma warning restore CA5351
        return BinaryPrimitives.ReadUInt128BigEndian(digest);
    }

    /// <summary>A service error as the SDK raises it.</summary>
    public static AmazonKinesisException ServiceError(string code, HttpStatusCode status = HttpStatusCode.BadRequest, string message = "injected") =>
        code switch
        {
            "ResourceNotFoundException" => new ResourceNotFoundException(message) { ErrorCode = code, StatusCode = status },
            "ProvisionedThroughputExceededException" => new ProvisionedThroughputExceededException(message) { ErrorCode = code, StatusCode = status },
            "InvalidArgumentException" => new InvalidArgumentException(message) { ErrorCode = code, StatusCode = status },
            "LimitExceededException" => new LimitExceededException(message) { ErrorCode = code, StatusCode = status },
            _ => new AmazonKinesisException(message) { ErrorCode = code, StatusCode = status },
        };

    /// <summary>Creates a stream of <paramref name="shardCount"/> even shards.</summary>
    public void CreateStream(string name, int shardCount)
    {
        lock (_lock)
        {
            var stream = new FakeStream();
            var width = (MaxHash + 1) / shardCount;
            for (var i = 0; i < shardCount; i++)
            {
                var start = width * i;
                var end = i == shardCount - 1 ? MaxHash : (width * (i + 1)) - 1;
                stream.Shards.Add(new FakeShard { ShardId = NewShardId(stream), Start = start, End = end, StartingSequence = NextSequence(peek: true) });
            }
            _streams[name] = stream;
        }
    }

    /// <summary>Every shard (open and closed) of a stream.</summary>
    public IReadOnlyList<FakeShard> Shards(string? stream = null)
    {
        lock (_lock)
        {
            return [.. Get(stream ?? StreamName, "Shards").Shards];
        }
    }

    /// <summary>Every stored record of the stream, shard by shard.</summary>
    public List<StoredRecord> Snapshot(string? stream = null)
    {
        lock (_lock)
        {
            return [.. Get(stream ?? StreamName, "Snapshot").Shards.SelectMany(s => s.Records.Select(r =>
                new StoredRecord(s.ShardId, r.SequenceNumber, r.Data.ToArray(), r.PartitionKey, ExplicitKeys.GetValueOrDefault(r.SequenceNumber))))];
        }
    }

    private Dictionary<string, string?> ExplicitKeys { get; } = new(StringComparer.Ordinal);

    /// <summary>Writes a record; returns (shard id, sequence number).</summary>
    public (string ShardId, string SequenceNumber) Put(string stream, string partitionKey, string data, string? explicitHashKey = null) =>
        Put(stream, partitionKey, Encoding.UTF8.GetBytes(data), explicitHashKey);

    /// <summary>Writes a record; returns (shard id, sequence number).</summary>
    public (string ShardId, string SequenceNumber) Put(string stream, string partitionKey, byte[] data, string? explicitHashKey = null)
    {
        lock (_lock)
        {
            return PutLocked(Get(stream, "PutRecord"), partitionKey, data, explicitHashKey);
        }
    }

    private (string ShardId, string SequenceNumber) PutLocked(FakeStream stream, string partitionKey, byte[] data, string? explicitHashKey)
    {
        var hash = (BigInteger)HashOf(partitionKey, explicitHashKey);
        var shard = stream.Shards.Single(s => !s.Closed && s.Start <= hash && hash <= s.End);
        var record = new Amazon.Kinesis.Model.Record
        {
            SequenceNumber = NextSequence(peek: false),
            PartitionKey = partitionKey,
            Data = new MemoryStream(data, writable: false),
            ApproximateArrivalTimestamp = _time.GetUtcNow().UtcDateTime,
        };
        shard.Records.Add(record);
        ExplicitKeys[record.SequenceNumber] = explicitHashKey;
        return (shard.ShardId, record.SequenceNumber);
    }

    /// <summary>Splits a shard in the middle of its hash range; returns the two children.</summary>
    public (string Left, string Right) Split(string stream, string shardId)
    {
        lock (_lock)
        {
            var s = Get(stream, "SplitShard");
            var parent = OpenShard(s, shardId, "SplitShard");
            var middle = parent.Start + ((parent.End - parent.Start) / 2);
            return SplitAt(s, parent, middle + 1);
        }
    }

    private (string Left, string Right) SplitAt(FakeStream s, FakeShard parent, BigInteger newStart)
    {
        parent.Closed = true;
        var left = new FakeShard { ShardId = NewShardId(s), Parent = parent.ShardId, Start = parent.Start, End = newStart - 1, StartingSequence = NextSequence(peek: true) };
        var right = new FakeShard { ShardId = NewShardId(s), Parent = parent.ShardId, Start = newStart, End = parent.End, StartingSequence = NextSequence(peek: true) };
        parent.Children.Add(left.ShardId);
        parent.Children.Add(right.ShardId);
        s.Shards.Add(left);
        s.Shards.Add(right);
        return (left.ShardId, right.ShardId);
    }

    /// <summary>Merges two adjacent open shards; returns the child.</summary>
    public string Merge(string stream, string shardId, string adjacentShardId)
    {
        lock (_lock)
        {
            var s = Get(stream, "MergeShards");
            var a = OpenShard(s, shardId, "MergeShards");
            var b = OpenShard(s, adjacentShardId, "MergeShards");
            var (low, high) = a.Start < b.Start ? (a, b) : (b, a);
            if (low.End + 1 != high.Start)
            {
                throw new InvalidArgumentException($"Shards {shardId} and {adjacentShardId} are not adjacent.") { ErrorCode = "InvalidArgumentException", StatusCode = HttpStatusCode.BadRequest };
            }
            a.Closed = b.Closed = true;
            var child = new FakeShard { ShardId = NewShardId(s), Parent = a.ShardId, AdjacentParent = b.ShardId, Start = low.Start, End = high.End, StartingSequence = NextSequence(peek: true) };
            a.Children.Add(child.ShardId);
            b.Children.Add(child.ShardId);
            s.Shards.Add(child);
            return child.ShardId;
        }
    }

    /// <summary>
    /// Closes every open shard and opens <paramref name="shardCount"/> even ones. With <paramref name="publish"/> false,
    /// ListShards keeps answering the old listing until <see cref="PublishShards"/> (a producer's map goes stale).
    /// </summary>
    public void Reshard(int shardCount, bool publish = true, string? stream = null)
    {
        lock (_lock)
        {
            var s = Get(stream ?? StreamName, "UpdateShardCount");
            if (!publish)
            {
                s.FrozenListing ??= Listing(s);
            }
            var open = s.Shards.Where(x => !x.Closed).ToList();
            foreach (var o in open)
            {
                o.Closed = true;
            }
            var width = (MaxHash + 1) / shardCount;
            for (var i = 0; i < shardCount; i++)
            {
                var start = width * i;
                var end = i == shardCount - 1 ? MaxHash : (width * (i + 1)) - 1;
                var parent = open.First(o => o.Start <= start && start <= o.End);
                var child = new FakeShard { ShardId = NewShardId(s), Parent = parent.ShardId, Start = start, End = end, StartingSequence = NextSequence(peek: true) };
                parent.Children.Add(child.ShardId);
                s.Shards.Add(child);
            }
        }
    }

    /// <summary>Makes ListShards answer the current shards again (after <see cref="Reshard"/> with publish false).</summary>
    public void PublishShards(string? stream = null)
    {
        lock (_lock)
        {
            Get(stream ?? StreamName, "PublishShards").FrozenListing = null;
        }
    }

    // ------------------------------------------------------------------ IAmazonKinesis operations

    /// <inheritdoc />
    public override Task<CreateStreamResponse> CreateStreamAsync(CreateStreamRequest request, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_streams.ContainsKey(request.StreamName))
            {
                throw new ResourceInUseException($"Stream {request.StreamName} already exists") { ErrorCode = "ResourceInUseException", StatusCode = HttpStatusCode.BadRequest };
            }
        }
        CreateStream(request.StreamName, request.ShardCount ?? 4);
        return Task.FromResult(new CreateStreamResponse { HttpStatusCode = HttpStatusCode.OK });
    }

    /// <inheritdoc />
    public override Task<DeleteStreamResponse> DeleteStreamAsync(DeleteStreamRequest request, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            Get(request.StreamName, "DeleteStream");
            _streams.Remove(request.StreamName);
        }
        return Task.FromResult(new DeleteStreamResponse { HttpStatusCode = HttpStatusCode.OK });
    }

    /// <inheritdoc />
    public override Task<DescribeStreamSummaryResponse> DescribeStreamSummaryAsync(DescribeStreamSummaryRequest request, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var name = request.StreamName;
            var s = Get(name, "DescribeStreamSummary");
            return Task.FromResult(new DescribeStreamSummaryResponse
            {
                StreamDescriptionSummary = new StreamDescriptionSummary
                {
                    StreamName = name,
                    StreamARN = ArnOf(name),
                    StreamStatus = StreamStatus.ACTIVE,
                    OpenShardCount = s.Shards.Count(x => !x.Closed),
                    RetentionPeriodHours = 24,
                    StreamModeDetails = new StreamModeDetails { StreamMode = StreamMode.PROVISIONED },
                    EncryptionType = EncryptionType.NONE,
                    StreamCreationTimestamp = _time.GetUtcNow().UtcDateTime,
                },
            });
        }
    }

    /// <inheritdoc />
    public override Task<ListStreamsResponse> ListStreamsAsync(ListStreamsRequest request, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var all = _streams.Keys.Order(StringComparer.Ordinal).ToList();
            int start = 0;
            if (!string.IsNullOrEmpty(request.NextToken))
            {
                start = int.Parse(request.NextToken, CultureInfo.InvariantCulture);
            }
            else if (!string.IsNullOrEmpty(request.ExclusiveStartStreamName))
            {
                start = all.FindIndex(n => string.CompareOrdinal(n, request.ExclusiveStartStreamName) > 0);
                start = start < 0 ? all.Count : start;
            }
            int size = Math.Min(ListStreamsPageSize ?? int.MaxValue, request.Limit ?? int.MaxValue);
            var page = all.Skip(start).Take(size).ToList();
            bool more = start + page.Count < all.Count;
            return Task.FromResult(new ListStreamsResponse
            {
                StreamNames = page,
                HasMoreStreams = more,
                NextToken = more && !ListStreamsWithoutNextToken ? (start + page.Count).ToString(CultureInfo.InvariantCulture) : null,
            });
        }
    }

    /// <inheritdoc />
    public override Task<ListShardsResponse> ListShardsAsync(ListShardsRequest request, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _listShardsCalls);
        if (ListShardsError is { } e)
        {
            return Task.FromException<ListShardsResponse>(e);
        }
        lock (_lock)
        {
            var s = Get(request.StreamName ?? StreamName, "ListShards");
            var listing = s.FrozenListing ?? Listing(s);
            if (request.ShardFilter?.Type == ShardFilterType.AT_LATEST)
            {
                listing = [.. listing.Where(x => x.SequenceNumberRange.EndingSequenceNumber is null)];
            }
            return Task.FromResult(new ListShardsResponse { Shards = listing });
        }
    }

    /// <inheritdoc />
    public override Task<PutRecordResponse> PutRecordAsync(PutRecordRequest request, CancellationToken cancellationToken = default)
    {
        var (shard, seq) = Put(request.StreamName, request.PartitionKey, request.Data.ToArray(), request.ExplicitHashKey);
        return Task.FromResult(new PutRecordResponse { ShardId = shard, SequenceNumber = seq });
    }

    /// <inheritdoc />
    public override async Task<PutRecordsResponse> PutRecordsAsync(PutRecordsRequest request, CancellationToken cancellationToken = default)
    {
        int call = Interlocked.Increment(ref _putRecordsCalls) - 1;
        // A copy: a caller may reuse (return to a pool) the entries' buffers once the call has returned, as Kinesis
        // clients do after the request is on the wire.
        Requests.Enqueue(CopyOf(request));
        if (Gate is { } gate)
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (FailCall?.Invoke(call) is { } error)
        {
            throw error;
        }
        if (FailRequest?.Invoke(request) is { } refused)
        {
            throw refused;
        }
        var results = new List<PutRecordsResultEntry>(request.Records.Count);
        int failed = 0;
        lock (_lock)
        {
            var s = Get(request.StreamName, "PutRecords");
            for (int i = 0; i < request.Records.Count; i++)
            {
                var entry = request.Records[i];
                if (FailEntry?.Invoke(call, i, entry) is { } code)
                {
                    results.Add(new PutRecordsResultEntry { ErrorCode = code, ErrorMessage = "injected" });
                    failed++;
                    continue;
                }
                var (shardId, sequence) = PutLocked(s, entry.PartitionKey, entry.Data.ToArray(), entry.ExplicitHashKey);
                results.Add(new PutRecordsResultEntry { ShardId = shardId, SequenceNumber = sequence });
            }
        }
        return new PutRecordsResponse { FailedRecordCount = failed, Records = results };
    }

    /// <inheritdoc />
    public override Task<GetShardIteratorResponse> GetShardIteratorAsync(GetShardIteratorRequest request, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var shard = Get(request.StreamName, "GetShardIterator").Shards.SingleOrDefault(s => s.ShardId == request.ShardId)
                ?? throw new ResourceNotFoundException($"Shard {request.ShardId} not found") { ErrorCode = "ResourceNotFoundException", StatusCode = HttpStatusCode.BadRequest };
            var type = request.ShardIteratorType;
            int position =
                type == ShardIteratorType.TRIM_HORIZON ? 0 :
                type == ShardIteratorType.LATEST ? shard.Records.Count :
                type == ShardIteratorType.AT_TIMESTAMP ? Index(shard, r => r.ApproximateArrivalTimestamp >= request.Timestamp!.Value) :
                type == ShardIteratorType.AT_SEQUENCE_NUMBER ? Index(shard, r => Parse(r.SequenceNumber) >= Parse(request.StartingSequenceNumber!)) :
                type == ShardIteratorType.AFTER_SEQUENCE_NUMBER ? Index(shard, r => Parse(r.SequenceNumber) > Parse(request.StartingSequenceNumber!)) :
                throw new InvalidArgumentException($"ShardIteratorType {type} is unknown") { ErrorCode = "InvalidArgumentException", StatusCode = HttpStatusCode.BadRequest };
            return Task.FromResult(new GetShardIteratorResponse { ShardIterator = $"{request.StreamName}|{shard.ShardId}|{position}" });
        }
    }

    /// <inheritdoc />
    public override Task<GetRecordsResponse> GetRecordsAsync(GetRecordsRequest request, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _getRecordsCalls);
        lock (_lock)
        {
            if (ExpireNextIterators > 0)
            {
                ExpireNextIterators--;
                throw new ExpiredIteratorException("Iterator expired") { ErrorCode = "ExpiredIteratorException", StatusCode = HttpStatusCode.BadRequest };
            }
            var parts = request.ShardIterator.Split('|');
            var shard = Get(parts[0], "GetRecords").Shards.Single(s => s.ShardId == parts[1]);
            var position = int.Parse(parts[2], CultureInfo.InvariantCulture);
            var take = Math.Min(request.Limit ?? 10_000, shard.Records.Count - position);
            var records = shard.Records.GetRange(position, take).Select(Copy).ToList();
            var next = position + take;
            var atEnd = next >= shard.Records.Count;
            long behind = atEnd ? 0 : (long)(_time.GetUtcNow().UtcDateTime - shard.Records[next].ApproximateArrivalTimestamp!.Value).TotalMilliseconds;
            return Task.FromResult(new GetRecordsResponse
            {
                Records = records,
                NextShardIterator = atEnd && shard.Closed ? null : $"{parts[0]}|{shard.ShardId}|{next}",
                MillisBehindLatest = Math.Max(0, behind),
                ChildShards = atEnd && shard.Closed
                    ? [.. shard.Children.Select(c => new ChildShard { ShardId = c, ParentShards = [shard.ShardId], HashKeyRange = new HashKeyRange { StartingHashKey = "0", EndingHashKey = "0" } })]
                    : null,
            });
        }
    }

    /// <inheritdoc />
    public override Task<SplitShardResponse> SplitShardAsync(SplitShardRequest request, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            var s = Get(request.StreamName, "SplitShard");
            var parent = OpenShard(s, request.ShardToSplit, "SplitShard");
            SplitAt(s, parent, BigInteger.Parse(request.NewStartingHashKey, CultureInfo.InvariantCulture));
        }
        return Task.FromResult(new SplitShardResponse { HttpStatusCode = HttpStatusCode.OK });
    }

    /// <inheritdoc />
    public override Task<MergeShardsResponse> MergeShardsAsync(MergeShardsRequest request, CancellationToken cancellationToken = default)
    {
        Merge(request.StreamName, request.ShardToMerge, request.AdjacentShardToMerge);
        return Task.FromResult(new MergeShardsResponse { HttpStatusCode = HttpStatusCode.OK });
    }

    /// <inheritdoc />
    public override Task<UpdateShardCountResponse> UpdateShardCountAsync(UpdateShardCountRequest request, CancellationToken cancellationToken = default)
    {
        int current;
        lock (_lock)
        {
            current = Get(request.StreamName, "UpdateShardCount").Shards.Count(s => !s.Closed);
        }
        Reshard(request.TargetShardCount ?? current, publish: true, request.StreamName);
        return Task.FromResult(new UpdateShardCountResponse { StreamName = request.StreamName, CurrentShardCount = current, TargetShardCount = request.TargetShardCount });
    }

    // ------------------------------------------------------------------ helpers

    private static List<Shard> Listing(FakeStream s) =>
        [.. s.Shards.Select(x => new Shard
        {
            ShardId = x.ShardId,
            ParentShardId = x.Parent,
            AdjacentParentShardId = x.AdjacentParent,
            HashKeyRange = new HashKeyRange { StartingHashKey = x.Start.ToString(CultureInfo.InvariantCulture), EndingHashKey = x.End.ToString(CultureInfo.InvariantCulture) },
            SequenceNumberRange = new SequenceNumberRange
            {
                StartingSequenceNumber = x.StartingSequence,
                EndingSequenceNumber = x.Closed ? (x.Records.Count > 0 ? x.Records[^1].SequenceNumber : x.StartingSequence) : null,
            },
        })];

    private static PutRecordsRequest CopyOf(PutRecordsRequest request) => new()
    {
        StreamName = request.StreamName,
        StreamARN = request.StreamARN,
        Records = [.. request.Records.Select(e => new PutRecordsRequestEntry
        {
            PartitionKey = e.PartitionKey,
            ExplicitHashKey = e.ExplicitHashKey,
            Data = new MemoryStream(e.Data.ToArray(), writable: false),
        })],
    };

    private static Amazon.Kinesis.Model.Record Copy(Amazon.Kinesis.Model.Record r) => new()
    {
        SequenceNumber = r.SequenceNumber,
        PartitionKey = r.PartitionKey,
        Data = new MemoryStream(r.Data.ToArray(), writable: false),
        ApproximateArrivalTimestamp = r.ApproximateArrivalTimestamp,
    };

    private FakeStream Get(string name, string operation) =>
        _streams.TryGetValue(name, out var s)
            ? s
            : throw new ResourceNotFoundException($"{operation}: Stream {name} under account 000000000000 not found.") { ErrorCode = "ResourceNotFoundException", StatusCode = HttpStatusCode.BadRequest };

    private static FakeShard OpenShard(FakeStream s, string shardId, string operation)
    {
        var shard = s.Shards.SingleOrDefault(x => x.ShardId == shardId)
            ?? throw new ResourceNotFoundException($"{operation}: shard {shardId} not found") { ErrorCode = "ResourceNotFoundException", StatusCode = HttpStatusCode.BadRequest };
        return shard.Closed
            ? throw new ResourceInUseException($"{operation}: shard {shardId} is closed") { ErrorCode = "ResourceInUseException", StatusCode = HttpStatusCode.BadRequest }
            : shard;
    }

    private static int Index(FakeShard shard, Func<Amazon.Kinesis.Model.Record, bool> predicate)
    {
        var index = shard.Records.FindIndex(r => predicate(r));
        return index < 0 ? shard.Records.Count : index;
    }

    private static BigInteger Parse(string s) => BigInteger.Parse(s, CultureInfo.InvariantCulture);

    private string NextSequence(bool peek)
    {
        var n = peek ? _sequence + 1 : ++_sequence;
        return (SequenceBase + (n * 1000)).ToString(CultureInfo.InvariantCulture);
    }

    private static string NewShardId(FakeStream s) => $"shardId-{s.NextShardNumber++:D12}";
}
