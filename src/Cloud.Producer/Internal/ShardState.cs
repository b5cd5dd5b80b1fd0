using Cloud.Records;

namespace Cloud.Producer.Internal;

/// <summary>Producer-side state of one open shard. Owned by the producer loop.</summary>
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

    /// <summary>Explicit hash key (and partition key) given to keyless records balanced onto this shard.</summary>
    public string KeylessKey { get; set; }

    public ShardRateLimiter Limiter { get; }

    public RecordDeque Pending { get; } = new();

    /// <summary>Sum of the pending records' estimated sizes inside an aggregate.</summary>
    public long PendingBytes { get; set; }

    /// <summary>Requests in flight that carry records of this shard.</summary>
    public int InFlight { get; set; }

    /// <summary>Retry backoff: nothing is sent to this shard before this timestamp.</summary>
    public long NotBefore { get; set; }

    /// <summary>When the rate limiter next has room for the head record.</summary>
    public long BlockedUntil { get; set; }

    /// <summary>No longer open in the current shard map.</summary>
    public bool Removed { get; set; }

    /// <summary>Records assigned so far (for balance metrics and tests).</summary>
    public long AssignedRecords { get; set; }
}
