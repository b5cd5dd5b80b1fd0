using Cloud.Kinesis;
using Cloud.Records;

namespace Cloud.Producer.Internal;

/// <summary>One open shard as the producer sees it: its range, queue, limiter and send state. Loop-owned.</summary>
internal sealed class ShardState
{
    public ShardState(ShardRange range, ShardRateLimiter limiter)
    {
        Range = range;
        Limiter = limiter;
        KeylessKey = PartitionKeyHash.Format(range.Middle);
    }

    public ShardRange Range { get; set; }

    public string ShardId => Range.ShardId;

    public string KeylessKey { get; set; }

    public ShardRateLimiter Limiter { get; }

    public RecordDeque Pending { get; } = new();

    /// <summary>Estimated aggregated size of <see cref="Pending"/>.</summary>
    public long PendingBytes { get; private set; }

    public int InFlight { get; set; }

    /// <summary>Retry backoff: nothing is sent before this time.</summary>
    public long NotBefore { get; set; }

    /// <summary>Rate limit: the next record does not fit the bucket before this time.</summary>
    public long BlockedUntil { get; set; }

    /// <summary>An aggregate of this shard landed on another shard: hold the queue until the map is refreshed.</summary>
    public bool AwaitingMap { get; set; }

    public bool Removed { get; set; }

    public long AssignedRecords { get; set; }

    public void Enqueue(UserRecord r)
    {
        Pending.PushBack(r);
        PendingBytes += EstimatedSize(r);
    }

    public void EnqueueFront(List<UserRecord> records)
    {
        Pending.PushFrontRange(records);
        foreach (var r in records)
        {
            PendingBytes += EstimatedSize(r);
        }
    }

    public UserRecord Dequeue()
    {
        var r = Pending.PopFront();
        PendingBytes -= EstimatedSize(r);
        return r;
    }

    public void DrainTo(List<UserRecord> target)
    {
        while (Pending.Count > 0)
        {
            target.Add(Pending.PopFront());
        }
        PendingBytes = 0;
    }

    private static long EstimatedSize(UserRecord r) => r.Length + 8 + (r.ExplicitHashKey is null ? 0 : 2);
}
