using System.Globalization;
using Cloud.Kinesis.Model;

namespace Cloud.Producer.Internal;

/// <summary>One open shard's inclusive hash key range.</summary>
internal sealed record ShardRange(string ShardId, UInt128 Start, UInt128 End)
{
    /// <summary>A hash key in the middle of the range, used as explicit hash key for keyless records.</summary>
    public UInt128 Middle => Start + ((End - Start) / 2);
}

/// <summary>
/// Immutable map of the open shards of a stream, sorted by starting hash key, predicting the shard of a hash key
/// the way Kinesis does (the shard whose [StartingHashKey, EndingHashKey] contains it).
/// </summary>
internal sealed class ShardMap
{
    private readonly ShardRange[] _ranges;

    public ShardMap(IEnumerable<ShardRange> ranges)
    {
        _ranges = [.. ranges.OrderBy(r => r.Start)];
        if (_ranges.Length == 0)
        {
            throw new ArgumentException("A shard map needs at least one open shard.", nameof(ranges));
        }
    }

    public IReadOnlyList<ShardRange> Ranges => _ranges;

    public int Count => _ranges.Length;

    /// <summary>Builds the map from ListShards output: open shards are those without an ending sequence number.</summary>
    public static ShardMap FromShards(IEnumerable<Shard> shards)
    {
        var open = new List<ShardRange>();
        foreach (var shard in shards)
        {
            if (shard.SequenceNumberRange.EndingSequenceNumber is not null)
            {
                continue;
            }
            var start = UInt128.Parse(shard.HashKeyRange.StartingHashKey, CultureInfo.InvariantCulture);
            var end = UInt128.Parse(shard.HashKeyRange.EndingHashKey, CultureInfo.InvariantCulture);
            open.Add(new ShardRange(shard.ShardId, start, end));
        }
        return new ShardMap(open);
    }

    /// <summary>Index of the shard predicted for <paramref name="hashKey"/>.</summary>
    public int IndexOf(UInt128 hashKey)
    {
        int lo = 0, hi = _ranges.Length - 1, found = 0;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_ranges[mid].Start <= hashKey)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        // A hash in a gap (emulators have been seen with ranges off by one) goes to the shard below it.
        return found;
    }
}
