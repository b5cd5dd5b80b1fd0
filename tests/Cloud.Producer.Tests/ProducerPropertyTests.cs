using Cloud.Testing.Kinesis;
using Cloud.Records;
using CsCheck;

namespace Cloud.Producer.Tests;

public class ProducerPropertyTests
{
    [Fact]
    public void Keyless_records_are_balanced_to_within_one_record_per_shard()
    {
        Gen.Select(Gen.Int[1, 32], Gen.Int[0, 1500]).Sample((shards, count) =>
        {
            Run(async () =>
            {
                await using var h = new ProducerHarness(shards, o => o.AggregationMaxSize = 4096);
                var sends = Enumerable.Range(0, count).Select(i => h.Producer.SendAsync(new byte[1 + (i % 50)]).AsTask()).ToArray();
                await h.Producer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
                var results = await Task.WhenAll(sends);
                var perShard = new long[shards];
                var ids = h.Client.Shards().Select(s => s.ShardId).ToList();
                foreach (var r in results)
                {
                    perShard[ids.IndexOf(r.ShardId)]++;
                }
                Assert.True(perShard.Max() - perShard.Min() <= 1, $"{shards} shards, {count} records: {string.Join(",", perShard)}");
            });
        }, iter: 300, threads: 1);
    }

    private sealed record Input(int Size, int Key);

    [Fact]
    public void Requests_stay_within_count_and_size_limits_and_every_record_arrives_once()
    {
        var gen = Gen.Select(
            Gen.Int[1, 500],                    // CollectionMaxCount
            Gen.Int[1, 10],                     // CollectionMaxSize in MiB
            Gen.Bool, Gen.Bool, Gen.Int[1, 16], // aggregation, ordering, shards
            Gen.Select(Gen.Int[1, 600].Select(s => s), Gen.Int[-1, 40]).Select((s, k) => new Input(s, k)).Array[1, 400],
            Gen.Int[0, 3]);                     // number of large (up to 1 MiB) records
        gen.Sample((maxCount, maxMiB, aggregate, ordering, shards, inputs, large) =>
        {
            Run(async () =>
            {
                await using var h = new ProducerHarness(shards, o =>
                {
                    o.CollectionMaxCount = maxCount;
                    o.CollectionMaxSize = maxMiB * 1024L * 1024;
                    o.AggregationEnabled = aggregate;
                    o.PreserveOrdering = ordering;
                    o.MaxBufferedBytes = 64L * 1024 * 1024;
                });
                var all = inputs.ToList();
                for (int i = 0; i < large; i++)
                {
                    all.Add(new Input((1024 * 1024) - 64 - (i * 1000), i));
                }
                var sends = new List<Task<SendResult>>();
                for (int i = 0; i < all.Count; i++)
                {
                    var data = new byte[Math.Max(4, all[i].Size)];
                    BitConverter.TryWriteBytes(data, i);
                    sends.Add(h.Producer.SendAsync(data, all[i].Key < 0 ? null : $"key-{all[i].Key}").AsTask());
                }
                // Large records may wait for the 1 MiB/s shard bucket: move the fake clock while flushing.
                await h.DriveAsync(h.Producer.FlushAsync(), TimeSpan.FromMilliseconds(100));
                await Task.WhenAll(sends);
                foreach (var request in h.Client.Requests)
                {
                    Assert.InRange(request.Records.Count, 1, maxCount);
                    long bytes = request.Records.Sum(r => r.Data.Length + System.Text.Encoding.UTF8.GetByteCount(r.PartitionKey));
                    Assert.True(bytes <= maxMiB * 1024L * 1024, $"request of {bytes} bytes");
                    foreach (var r in request.Records)
                    {
                        Assert.True(r.Data.Length + r.PartitionKey.Length <= 1024 * 1024);
                        if (TestKpl.IsAggregate(r.Data.ToArray()))
                        {
                            Assert.True(r.Data.Length <= 51_200);
                        }
                    }
                    if (ordering)
                    {
                        // One Kinesis record per shard per request.
                        var shardsInRequest = request.Records.Select(r => ShardFor(h.Client, FakeKinesis.HashOf(r.PartitionKey, r.ExplicitHashKey))).ToList();
                        Assert.Equal(shardsInRequest.Count, shardsInRequest.Distinct().Count());
                    }
                }
                var received = h.Client.Snapshot().SelectMany(TestKpl.Decode).Select(s => BitConverter.ToInt32(s.Data, 0)).Order().ToList();
                Assert.Equal(Enumerable.Range(0, all.Count), received);
            });
        }, iter: 150, threads: 1);
    }

    [Fact]
    public void Partition_key_hashes_match_kinesis_and_hash_keys_round_trip()
    {
        Gen.Select(Gen.UInt128, Gen.String[1, 40]).Sample((hash, key) =>
        {
            Assert.Equal(FakeKinesis.HashOf(key, null), PartitionKeyHash.Compute(key));
            Assert.True(PartitionKeyHash.TryParseHashKey(PartitionKeyHash.Format(hash), out var parsed) && parsed == hash);
        }, iter: 10_000);
    }

    private static string ShardFor(FakeKinesis client, UInt128 hash) =>
        client.Shards().Single(s => !s.Closed && (System.Numerics.BigInteger)hash >= s.Start && (System.Numerics.BigInteger)hash <= s.End).ShardId;

    private static void Run(Func<Task> body) => body().GetAwaiter().GetResult();
}
