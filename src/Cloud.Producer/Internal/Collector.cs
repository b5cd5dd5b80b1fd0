using System.Buffers;

namespace Cloud.Producer.Internal;

/// <summary>One Kinesis record ready to send: its user records, bytes and keys.</summary>
internal sealed class Packed(ShardState shard, UserRecord[] records, byte[]? rentedBuffer, ReadOnlyMemory<byte> data, string partitionKey, string? explicitHashKey)
{
    public ShardState Shard { get; } = shard;
    public UserRecord[] Records { get; } = records;
    public byte[]? RentedBuffer { get; private set; } = rentedBuffer;

    /// <summary>The Kinesis record's bytes; final once the request is sealed (<see cref="Aggregator.Seal"/>).</summary>
    public ReadOnlyMemory<byte> Data { get; private set; } = data;
    public string PartitionKey { get; } = partitionKey;
    public string? ExplicitHashKey { get; } = explicitHashKey;

    /// <summary>The data is a KPL aggregate, even of one record (a traced lone record carries its tags that way).</summary>
    public bool Aggregated { get; init; }

    /// <summary>An aggregate whose MD5 trailer (and compression, when on) waits for the whole request (<see cref="Aggregator.Seal"/>).</summary>
    public bool Unsealed { get; set; }

    /// <summary>Replaces the bytes (compressed) and the pooled buffer that holds them; the caller has dealt with the old buffer.</summary>
    public void ReplaceData(byte[]? rentedBuffer, ReadOnlyMemory<byte> data)
    {
        RentedBuffer = rentedBuffer;
        Data = data;
    }

    /// <summary>Returns the pooled buffer once the request no longer needs it.</summary>
    public void ReturnBuffer()
    {
        if (RentedBuffer is { } b)
        {
            RentedBuffer = null;
            ArrayPool<byte>.Shared.Return(b);
        }
    }
}

/// <summary>One PutRecords request: its Kinesis records, the shards they come from, and the earliest deadline.</summary>
internal sealed class Batch
{
    public List<Packed> Entries { get; } = [];
    public List<ShardState> Shards { get; } = [];
    public long Bytes { get; private set; }
    public long EarliestDeadline { get; private set; } = long.MaxValue;

    public void Add(Packed packed, long size)
    {
        Entries.Add(packed);
        Bytes += size;
        foreach (var r in packed.Records)
        {
            EarliestDeadline = Math.Min(EarliestDeadline, r.Deadline);
        }
    }
}

/// <summary>
/// Collector stage: decides when to send and fills PutRecords requests (≤ CollectionMaxCount records,
/// ≤ CollectionMaxSize bytes) from the shards' queues, round-robin, through each shard's rate limiter.
/// </summary>
/// <remarks>Threading: owned by the producer's loop.</remarks>
internal sealed class Collector(KinesisProducerOptions options, Aggregator aggregator, long lingerTicks)
{
    private int _cursor;

    /// <summary>Whether a shard may send now: records waiting, no backoff, no rate block, no held queue, order kept.</summary>
    public bool Eligible(ShardState s, long now) =>
        s.Pending.Count > 0 && s.NotBefore <= now && s.BlockedUntil <= now && !s.AwaitingMap && !(options.PreserveOrdering && s.InFlight > 0);

    private bool IsDue(ShardState s, long now, bool flushing) => flushing || now - s.Pending.Front.EnqueuedAt >= lingerTicks;

    /// <summary>Whether a request is worth sending now (a due shard, or enough full records to fill one).</summary>
    public bool ShouldSend(ShardState[] shards, long now, bool flushing)
    {
        long sendable = 0, sendableBytes = 0;
        int withData = 0, withFull = 0;
        foreach (var s in shards)
        {
            if (!Eligible(s, now))
            {
                continue;
            }
            if (IsDue(s, now, flushing))
            {
                return true;
            }
            long full = aggregator.FullRecords(s);
            withData++;
            if (full > 0)
            {
                withFull++;
            }
            long n = options.PreserveOrdering ? Math.Min(1, full) : full;
            sendable += n;
            sendableBytes += options.AggregationEnabled ? n * options.AggregationMaxSize : s.PendingBytes;
        }
        if (sendable >= options.CollectionMaxCount || sendableBytes >= options.CollectionMaxSize)
        {
            return true;
        }
        // With ordering each shard contributes one record per request: go once every ready shard has a full one.
        return options.PreserveOrdering && withData > 0 && withFull == withData;
    }

    /// <summary>Fills one request.</summary>
    public Batch Build(ShardState[] shards, long now, bool flushing)
    {
        try
        {
            return Fill(shards, now, flushing);
        }
        catch
        {
            aggregator.Discard(); // no trailer may be written later into buffers this failed request gave up
            throw;
        }
    }

    private Batch Fill(ShardState[] shards, long now, bool flushing)
    {
        var batch = new Batch();
        int n = shards.Length;
        int start = _cursor++ % n;
        for (int k = 0; k < n && batch.Entries.Count < options.CollectionMaxCount; k++)
        {
            var s = shards[(start + k) % n];
            if (!Eligible(s, now))
            {
                continue;
            }
            bool due = IsDue(s, now, flushing);
            if (!due && aggregator.FullRecords(s) == 0)
            {
                continue;
            }
            int taken = 0;
            bool requestFull = false;
            while (s.Pending.Count > 0 && batch.Entries.Count < options.CollectionMaxCount)
            {
                if (options.PreserveOrdering && taken == 1)
                {
                    break;
                }
                int count = aggregator.Plan(s, out long size, out bool complete);
                if (!complete && !due)
                {
                    break;
                }
                if (batch.Bytes + size > options.CollectionMaxSize)
                {
                    requestFull = true;
                    break;
                }
                if (!s.Limiter.TryTake(size, now))
                {
                    s.BlockedUntil = s.Limiter.AvailableAt(size, now);
                    break;
                }
                batch.Add(aggregator.Take(s, count), size);
                taken++;
            }
            if (taken > 0)
            {
                batch.Shards.Add(s);
            }
            if (requestFull)
            {
                break;
            }
        }
        aggregator.Seal(batch);
        return batch;
    }
}
