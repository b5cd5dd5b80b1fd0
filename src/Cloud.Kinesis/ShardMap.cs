using System.Globalization;
using Amazon.Kinesis.Model;

namespace Cloud.Kinesis;

/// <summary>One shard's inclusive hash key range.</summary>
/// <param name="ShardId">The shard id.</param>
/// <param name="Start">StartingHashKey.</param>
/// <param name="End">EndingHashKey (inclusive).</param>
public sealed record ShardRange(string ShardId, UInt128 Start, UInt128 End)
{
    /// <summary>A hash key in the middle of the range, used as explicit hash key for keyless records.</summary>
    public UInt128 Middle => Start + ((End - Start) / 2);

    /// <summary>Whether <paramref name="hashKey"/> falls inside the range.</summary>
    public bool Contains(UInt128 hashKey) => Start <= hashKey && hashKey <= End;

    /// <summary>Reads a ListShards/DescribeStream shard's range.</summary>
    public static ShardRange Of(Shard shard)
    {
        ArgumentNullException.ThrowIfNull(shard);
        return new ShardRange(
            shard.ShardId,
            UInt128.Parse(shard.HashKeyRange.StartingHashKey, CultureInfo.InvariantCulture),
            UInt128.Parse(shard.HashKeyRange.EndingHashKey, CultureInfo.InvariantCulture));
    }
}

/// <summary>
/// Immutable map of the open shards of a stream, sorted by starting hash key, predicting the shard of a hash key
/// the way Kinesis does (the shard whose [StartingHashKey, EndingHashKey] contains it). The project's one shard lookup.
/// </summary>
public sealed class ShardMap
{
    private readonly ShardRange[] _ranges;

    /// <summary>Creates a map of the given open shards.</summary>
    /// <exception cref="ArgumentException">No shard given.</exception>
    public ShardMap(IEnumerable<ShardRange> ranges)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        _ranges = [.. ranges.OrderBy(r => r.Start)];
        if (_ranges.Length == 0)
        {
            throw new ArgumentException("A shard map needs at least one open shard.", nameof(ranges));
        }
    }

    /// <summary>The open shards, by starting hash key.</summary>
    public IReadOnlyList<ShardRange> Ranges => _ranges;

    /// <summary>Number of open shards.</summary>
    public int Count => _ranges.Length;

    /// <summary>Builds the map from ListShards output: open shards are those without an ending sequence number.</summary>
    public static ShardMap FromShards(IEnumerable<Shard> shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        return new ShardMap(shards.Where(IsOpen).Select(ShardRange.Of));
    }

    /// <summary>Whether a listed shard is open (its sequence number range has no end).</summary>
    public static bool IsOpen(Shard shard)
    {
        ArgumentNullException.ThrowIfNull(shard);
        return shard.SequenceNumberRange?.EndingSequenceNumber is null;
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

    /// <summary>The shard predicted for <paramref name="hashKey"/>.</summary>
    public ShardRange Find(UInt128 hashKey) => _ranges[IndexOf(hashKey)];
}
