using Amazon.Kinesis.Model;
using CsCheck;
using Cloud.Testing.Kinesis;

namespace Cloud.Kinesis.Tests;

/// <summary>The project's one shard lookup: open shards only, sorted, IndexOf agrees with Kinesis's rule.</summary>
public sealed class ShardMapTests
{
    private static readonly UInt128 Max = UInt128.MaxValue;

    [Fact]
    public void IndexOf_agrees_with_a_linear_scan_of_even_shards()
    {
        // Moved here from the producer's property test, which covered the producer's duplicate copy of the lookup.
        Gen.Select(Gen.Int[1, 64], Gen.UInt128).Sample((count, hash) =>
        {
            var ranges = Even(count);
            var map = new ShardMap(ranges.OrderBy(_ => hash % 7)); // any input order
            Assert.Equal(LinearScan(ranges, hash), map.Ranges[map.IndexOf(hash)].ShardId);
            Assert.Equal(map.Ranges[map.IndexOf(hash)], map.Find(hash));
        }, iter: 10_000);
    }

    [Fact]
    public void IndexOf_agrees_with_a_linear_scan_of_uneven_shards_after_splits()
    {
        // Random split points (what SplitShard with any NewStartingHashKey produces): contiguous, uneven ranges.
        Gen.Select(Gen.UInt128.Array[0, 40], Gen.UInt128).Sample((cuts, hash) =>
        {
            var starts = cuts.Where(c => c != UInt128.Zero).Append(UInt128.Zero).Distinct().Order().ToList();
            var ranges = starts.Select((s, i) => new ShardRange($"shardId-{i:D12}", s, i + 1 < starts.Count ? starts[i + 1] - 1 : Max)).ToList();
            var map = new ShardMap(ranges);
            Assert.Equal(LinearScan(ranges, hash), map.Find(hash).ShardId);
            Assert.True(map.Find(hash).Contains(hash));
        }, iter: 10_000);
    }

    [Fact]
    public void The_map_of_the_fake_routes_like_the_fake()
    {
        Gen.Select(Gen.Int[1, 16], Gen.String[1, 40]).Sample((count, key) =>
        {
            using var fake = new FakeKinesis(count, "s");
            var map = ShardMap.FromShards(fake.ListAllShardsAsync("s").GetAwaiter().GetResult());
            var (shardId, _) = fake.Put("s", key, "x");
            Assert.Equal(shardId, map.Find(FakeKinesis.HashOf(key, null)).ShardId);
        }, iter: 500);
    }

    [Fact]
    public void FromShards_keeps_only_open_shards_sorted_by_start()
    {
        var shards = new List<Shard>
        {
            Listed("shardId-000000000002", "170141183460469231731687303715884105728", "340282366920938463463374607431768211455", closed: false),
            Listed("shardId-000000000000", "0", "340282366920938463463374607431768211455", closed: true),
            Listed("shardId-000000000001", "0", "170141183460469231731687303715884105727", closed: false),
        };

        var map = ShardMap.FromShards(shards);

        Assert.Equal(["shardId-000000000001", "shardId-000000000002"], map.Ranges.Select(r => r.ShardId));
        Assert.Equal(2, map.Count);
        Assert.False(ShardMap.IsOpen(shards[1]));
        Assert.True(ShardMap.IsOpen(shards[0]));
        Assert.Equal("shardId-000000000002", map.Find(Max).ShardId);
        Assert.Equal("shardId-000000000001", map.Find(UInt128.Zero).ShardId);
    }

    [Fact]
    public void A_hash_in_a_gap_goes_to_the_shard_below_and_one_below_every_start_to_the_first()
    {
        var map = new ShardMap([new ShardRange("a", 10, 19), new ShardRange("b", 30, 39)]);

        Assert.Equal("a", map.Find(25).ShardId);
        Assert.Equal("a", map.Find(5).ShardId);
        Assert.Equal("b", map.Find(1000).ShardId);
    }

    [Fact]
    public void ShardRange_middle_contains_and_parse()
    {
        var range = ShardRange.Of(Listed("s", "100", "201", closed: false));

        Assert.Equal((UInt128)150, range.Middle);
        Assert.True(range.Contains(100) && range.Contains(201) && range.Contains(range.Middle));
        Assert.False(range.Contains(99) || range.Contains(202));
        Assert.Equal(Max / 2, new ShardRange("all", 0, Max).Middle);
    }

    [Fact]
    public void An_empty_map_is_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ShardMap([]));
        Assert.Contains("at least one open shard", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ShardMap.FromShards([Listed("x", "0", "1", closed: true)]));
    }

    private static List<ShardRange> Even(int count)
    {
        var width = (Max / (UInt128)count) + 1;
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            var start = width * (UInt128)i;
            var end = i == count - 1 ? Max : (width * (UInt128)(i + 1)) - 1;
            return new ShardRange($"shardId-{i:D12}", start, end);
        })];
    }

    private static string LinearScan(IEnumerable<ShardRange> ranges, UInt128 hash) => ranges.Single(r => r.Start <= hash && hash <= r.End).ShardId;

    private static Shard Listed(string id, string start, string end, bool closed) => new()
    {
        ShardId = id,
        HashKeyRange = new HashKeyRange { StartingHashKey = start, EndingHashKey = end },
        SequenceNumberRange = new SequenceNumberRange { StartingSequenceNumber = "1", EndingSequenceNumber = closed ? "2" : null },
    };

}
