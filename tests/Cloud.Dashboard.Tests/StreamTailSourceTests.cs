using Cloud.Records;
using Cloud.Testing.Kinesis;
using Microsoft.Extensions.Time.Testing;

namespace Cloud.Dashboard.Tests;

public class StreamTailSourceTests
{
    [Fact]
    public async Task Counts_user_records_per_shard_per_second_from_LATEST_including_sub_records_of_aggregates()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 3, 0, 0, TimeSpan.Zero));
        var kinesis = new FakeKinesis(shardCount: 2, time: time);
        kinesis.Put(kinesis.StreamName, "before-start", "not counted");
        await using var source = new StreamTailSource(kinesis, kinesis.StreamName, time);
        await source.InitializeAsync(CancellationToken.None);

        // Shard 0 takes the lower half of the hash range: explicit hash keys place the records.
        for (int i = 0; i < 10; i++)
        {
            kinesis.Put(kinesis.StreamName, "k", "plain", explicitHashKey: "1");
        }
        using (var builder = new AggregateBuilder())
        {
            for (int i = 0; i < 30; i++)
            {
                Assert.True(builder.TryAdd("user-" + i, null, "x"u8));
            }
            kinesis.Put(kinesis.StreamName, "agg", builder.ToArray(), explicitHashKey: "340282366920938463463374607431768211455");
        }
        time.Advance(TimeSpan.FromSeconds(2));

        var snapshot = await source.SampleOnceAsync(CancellationToken.None);

        Assert.Equal(2, snapshot.Shards.Count);
        Assert.Equal(5, snapshot.Shards[0].RecordsPerSecond);   // 10 plain records over 2 s
        Assert.Equal(15, snapshot.Shards[1].RecordsPerSecond);  // one aggregate of 30 over 2 s
        Assert.Equal(20, snapshot.RecordsInPerSecond);
        Assert.Equal(kinesis.StreamName, snapshot.Stream);
        Assert.Same(snapshot, await source.GetSnapshotAsync(CancellationToken.None));

        time.Advance(TimeSpan.FromSeconds(1));
        var idle = await source.SampleOnceAsync(CancellationToken.None);
        Assert.Equal(0, idle.RecordsInPerSecond);
    }

    [Fact]
    public async Task An_expired_iterator_is_renewed_and_sampling_goes_on()
    {
        var time = new FakeTimeProvider();
        var kinesis = new FakeKinesis(shardCount: 1, time: time);
        await using var source = new StreamTailSource(kinesis, kinesis.StreamName, time);
        await source.InitializeAsync(CancellationToken.None);
        kinesis.ExpireNextIterators = 1;
        time.Advance(TimeSpan.FromSeconds(1));
        await source.SampleOnceAsync(CancellationToken.None);

        kinesis.Put(kinesis.StreamName, "k", "after renewal");
        time.Advance(TimeSpan.FromSeconds(1));
        var snapshot = await source.SampleOnceAsync(CancellationToken.None);
        Assert.Equal(1, snapshot.RecordsInPerSecond);
    }
}
