using Cloud.Kinesis;
using Cloud.Records;

namespace Cloud.Producer.Internal;

/// <summary>
/// Shard map stage: predicts each record's shard from the open shards' hash ranges (the project's one
/// <see cref="ShardMap"/>), balances keyless records round-robin with an explicit hash key inside the chosen shard,
/// and reconciles a refreshed map: records of closed, changed or wrong-shard-suspect shards are routed again, in order,
/// ahead of newer records.
/// </summary>
/// <remarks>Threading: owned by the producer's loop; <see cref="Snapshot"/> may be read from any thread.</remarks>
internal sealed class ShardRouter(KinesisProducerOptions options, TimeProvider time)
{
    private const double ShardRecordsPerSecond = 1000;
    private const double ShardBytesPerSecond = 1024 * 1024;

    private readonly Dictionary<string, ShardState> _byId = new(StringComparer.Ordinal);
    private ShardMap? _map;
    private volatile ShardState[] _snapshot = [];
    private int _roundRobin;

    /// <summary>Open shards in hash order (empty before the first map).</summary>
    public ShardState[] Shards { get; private set; } = [];

    /// <summary>The open shards, safe to read from any thread.</summary>
    public ShardState[] Snapshot => _snapshot;

    /// <summary>Records not routed yet (no map, or routed again after a map change), oldest first.</summary>
    public RecordDeque Unassigned { get; } = new();

    /// <summary>Whether a map has been loaded.</summary>
    public bool HaveMap => _map is not null;

    /// <summary>Whether the map should be refreshed (start, reshard suspected).</summary>
    public bool Stale { get; private set; } = true;

    /// <summary>A ListShards call is under way.</summary>
    public bool Refreshing { get; set; }

    /// <summary>Earliest time of the next refresh (rate limit and backoff).</summary>
    public long RefreshNotBefore { get; set; }

    /// <summary>Consecutive failed refreshes.</summary>
    public int RefreshFailures { get; set; }

    /// <summary>Asks for a refresh (a prediction was wrong, or the stream answered InvalidArgument).</summary>
    public void MarkStale() => Stale = true;

    /// <summary>Forgets the map (the stream is gone).</summary>
    public void Drop()
    {
        _map = null;
        Stale = true;
    }

    /// <summary>Routes a record to its predicted shard and queues it there.</summary>
    public void Assign(UserRecord r)
    {
        ShardState shard;
        if (r.Keyless)
        {
            shard = Shards[_roundRobin];
            _roundRobin = (_roundRobin + 1) % Shards.Length;
            r.Hash = shard.Range.Middle;
            r.ExplicitHashKey = shard.KeylessKey;
            r.PartitionKey = shard.KeylessKey;
            r.PartitionKeyBytes = shard.KeylessKey.Length;
        }
        else
        {
            shard = Shards[_map!.IndexOf(r.Hash)];
        }
        r.Shard = shard;
        shard.AssignedRecords++;
        shard.Enqueue(r);
    }

    /// <summary>Routes every unassigned record (when a map is loaded).</summary>
    public void AssignUnassigned()
    {
        if (_map is null)
        {
            return;
        }
        while (Unassigned.Count > 0)
        {
            Assign(Unassigned.PopFront());
        }
    }

    /// <summary>Adopts a freshly listed map. Returns how many buffered records were routed again.</summary>
    public int Reconcile(ShardMap map, long now)
    {
        Stale = false;
        RefreshFailures = 0;
        var next = new ShardState[map.Count];
        var moved = new List<UserRecord>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < map.Count; i++)
        {
            var range = map.Ranges[i];
            seen.Add(range.ShardId);
            if (_byId.TryGetValue(range.ShardId, out var existing))
            {
                if (existing.Range != range || existing.AwaitingMap)
                {
                    // Its range changed, or an aggregate it sent landed elsewhere: route its queue again.
                    existing.DrainTo(moved);
                }
                existing.Range = range;
                existing.KeylessKey = PartitionKeyHash.Format(range.Middle);
                existing.AwaitingMap = false;
                next[i] = existing;
            }
            else
            {
                double rate = options.RateLimit / 100.0;
                var state = new ShardState(range, new ShardRateLimiter(ShardRecordsPerSecond * rate, ShardBytesPerSecond * rate, time.TimestampFrequency, now));
                _byId.Add(range.ShardId, state);
                next[i] = state;
            }
        }
        foreach (var old in Shards)
        {
            if (seen.Contains(old.ShardId))
            {
                continue;
            }
            old.Removed = true;
            _byId.Remove(old.ShardId);
            old.DrainTo(moved);
        }
        ResetKeyless(moved);
        Unassigned.PushFrontRange(moved);
        Shards = next;
        _snapshot = next;
        _map = map;
        _roundRobin %= next.Length;
        return moved.Count;
    }

    /// <summary>Puts records back ahead of newer ones: on their shard, or unassigned when it closed.</summary>
    public void Requeue(ShardState shard, List<UserRecord> records)
    {
        if (shard.Removed)
        {
            ResetKeyless(records);
            Unassigned.PushFrontRange(records);
            return;
        }
        shard.EnqueueFront(records);
    }

    /// <summary>Every record the router holds, oldest shard queue first.</summary>
    public IEnumerable<UserRecord> Held()
    {
        for (int i = 0; i < Unassigned.Count; i++)
        {
            yield return Unassigned[i];
        }
        foreach (var s in Shards)
        {
            for (int i = 0; i < s.Pending.Count; i++)
            {
                yield return s.Pending[i];
            }
        }
    }

    /// <summary>Removes and returns every record held.</summary>
    public List<UserRecord> TakeAll()
    {
        var all = new List<UserRecord>();
        while (Unassigned.Count > 0)
        {
            all.Add(Unassigned.PopFront());
        }
        foreach (var s in Shards)
        {
            s.DrainTo(all);
        }
        return all;
    }

    private static void ResetKeyless(List<UserRecord> records)
    {
        foreach (var r in records)
        {
            if (r.Keyless)
            {
                r.ExplicitHashKey = null;
                r.PartitionKey = "";
            }
        }
    }
}
