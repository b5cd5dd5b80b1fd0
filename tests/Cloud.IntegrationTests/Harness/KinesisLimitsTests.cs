using System.Text;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Emulators.Limits;
using Cloud.Kinesis;
using Cloud.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Cloud.IntegrationTests.Harness;

/// <summary>The per-shard accounting against the published limits (1,000 records/s, 1 MiB/s, 5 GetRecords/s).</summary>
public class KinesisThroughputLimitsTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void A_shard_accepts_1000_records_per_second_and_refuses_the_1001st()
    {
        var limits = new KinesisThroughputLimits(_time);
        for (int i = 0; i < 1000; i++)
        {
            Assert.True(limits.TryWrite("s", "shardId-0", 10), $"record {i}");
        }
        Assert.False(limits.TryWrite("s", "shardId-0", 10));
        Assert.True(limits.TryWrite("s", "shardId-1", 10)); // another shard has its own budget
        _time.Advance(TimeSpan.FromMilliseconds(100));
        for (int i = 0; i < 100; i++)
        {
            Assert.True(limits.TryWrite("s", "shardId-0", 10), $"refilled record {i}");
        }
        Assert.False(limits.TryWrite("s", "shardId-0", 10));
        Assert.Equal(2, limits.Throttled);
        Assert.Equal(2, limits.WriteThrottled);
        Assert.Equal(0, limits.ReadThrottled);
    }

    [Fact]
    public void A_shard_accepts_one_MiB_per_second_counting_data_and_key()
    {
        var limits = new KinesisThroughputLimits(_time);
        Assert.True(limits.TryWrite("s", "a", 1024 * 1024 - 10));
        Assert.False(limits.TryWrite("s", "a", 11));
        Assert.True(limits.TryWrite("s", "a", 10));
        _time.Advance(TimeSpan.FromSeconds(10)); // the bucket holds one second, not ten
        Assert.True(limits.TryWrite("s", "a", 1024 * 1024));
        Assert.False(limits.TryWrite("s", "a", 1));
    }

    [Fact]
    public void A_shard_serves_five_GetRecords_calls_per_second()
    {
        var limits = new KinesisThroughputLimits(_time);
        for (int i = 0; i < 5; i++)
        {
            Assert.True(limits.TryRead("s", "a"));
        }
        Assert.False(limits.TryRead("s", "a"));
        _time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.True(limits.TryRead("s", "a"));
        Assert.False(limits.TryRead("s", "a"));
        Assert.Equal((0, 2, 2), (limits.WriteThrottled, limits.ReadThrottled, limits.Throttled));
    }
}

/// <summary>The limit-enforcing proxy in front of kinesis-local, through AWS's SDK.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class KinesisLimitProxyTests(EmulatorFixture fixture)
{
    [Fact]
    public async Task PutRecords_over_a_shards_limit_fails_those_entries_with_the_documented_error_and_writes_the_others()
    {
        using var admin = fixture.CreateKinesisClient();
        var stream = EmulatorFixture.UniqueName("limits");
        await admin.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = 1 });
        await admin.WaitForStreamActiveAsync(stream);
        var clock = new FakeTimeProvider(); // frozen: the accounting is exact, whatever the machine's speed
        await using var proxy = KinesisLimitProxy.Start(fixture.KinesisEndpoint, clock);
        using var client = fixture.CreateKinesisClient(o => { o.ServiceUrl = proxy.Endpoint; o.MaxErrorRetry = 0; });

        int written = 0, throttled = 0;
        for (int call = 0; call < 3; call++)
        {
            var response = await client.PutRecordsAsync(new PutRecordsRequest
            {
                StreamName = stream,
                Records = [.. Enumerable.Range(0, 500).Select(i => new PutRecordsRequestEntry { PartitionKey = $"k{i}", Data = new MemoryStream(Encoding.UTF8.GetBytes("x")) })],
            });
            foreach (var entry in response.Records)
            {
                if (entry.ErrorCode is null)
                {
                    written++;
                }
                else
                {
                    Assert.Equal("ProvisionedThroughputExceededException", entry.ErrorCode);
                    Assert.StartsWith("Rate exceeded for shard shardId-", entry.ErrorMessage, StringComparison.Ordinal);
                    throttled++;
                }
            }
            Assert.Equal(response.Records.Count(r => r.ErrorCode is not null), response.FailedRecordCount);
        }
        // 1,500 records within one (frozen) second on one shard: exactly 1,000 pass.
        Assert.Equal(1000, written);
        Assert.Equal(500, throttled);
        var stored = 0;
        var shard = (await admin.ListAllShardsAsync(stream)).Single();
        var iterator = (await admin.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = stream, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.TRIM_HORIZON })).ShardIterator;
        var page = await admin.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 10_000 });
        stored += page.Records.Count;
        Assert.Equal(written, stored); // refused entries were really not written

        // Reads: a sixth GetRecords call within a second is refused as Kinesis does.
        var readIterator = (await client.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = stream, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.LATEST })).ShardIterator;
        var refused = 0;
        for (int i = 0; i < 8; i++)
        {
            try
            {
                readIterator = (await client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = readIterator })).NextShardIterator;
            }
            catch (ProvisionedThroughputExceededException ex)
            {
                Assert.Equal(KinesisErrorKind.Throttling, KinesisErrors.Classify(ex).Kind);
                refused++;
            }
        }
        Assert.Equal(3, refused);
        clock.Advance(TimeSpan.FromSeconds(1)); // a second later the shard takes writes again
        var again = await client.PutRecordAsync(new PutRecordRequest { StreamName = stream, PartitionKey = "k", Data = new MemoryStream(Encoding.UTF8.GetBytes("y")) });
        Assert.False(string.IsNullOrEmpty(again.SequenceNumber));
        await admin.DeleteStreamAsync(new DeleteStreamRequest { StreamName = stream });
    }

    [Fact]
    public async Task A_producer_without_aggregation_over_a_shards_limit_is_throttled_retries_and_delivers_each_record_once()
    {
        // What `cloud pipeline --enforce-limits --no-aggregation` does to its producer, without the pipeline around it.
        // The proxy's clock is frozen (kinesis-local stores only a few hundred records/s on a busy machine, so a real
        // second would refill the bucket before the emulator answered): 1,500 records within one proxy second on one
        // shard, then the test lets proxy time pass, one second per 100 ms, until every record is written.
        using var admin = fixture.CreateKinesisClient();
        var stream = EmulatorFixture.UniqueName("limits-producer");
        await admin.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = 1 });
        await admin.WaitForStreamActiveAsync(stream);
        var clock = new FakeTimeProvider();
        await using var proxy = KinesisLimitProxy.Start(fixture.KinesisEndpoint, clock);
        using var client = fixture.CreateKinesisClient(o => { o.ServiceUrl = proxy.Endpoint; o.MaxErrorRetry = 0; });
        const int Count = 1_500;
        long failures = 0;
        await using (var producer = new Cloud.Producer.KinesisProducer(client, new Cloud.Producer.KinesisProducerOptions
        {
            StreamName = stream,
            AggregationEnabled = false,
            RecordTtl = TimeSpan.FromMinutes(3),
            FailureHandler = _ => Interlocked.Increment(ref failures),
        }))
        {
            var sends = new List<Task>(Count);
            for (int i = 0; i < Count; i++)
            {
                sends.Add(await producer.EnqueueAsync(Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"), partitionKey: $"k{i % 50}"));
            }

            var all = Task.WhenAll(sends);
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            while (proxy.Limits.WriteThrottled == 0 && !all.IsCompleted)
            {
                await Task.Delay(50, timeout.Token);
            }

            while (!all.IsCompleted)
            {
                clock.Advance(TimeSpan.FromSeconds(1));
                await Task.WhenAny(all, Task.Delay(100, timeout.Token));
            }

            await all;
        }

        Assert.Equal(0, Interlocked.Read(ref failures));
        // Proxy time moved only after the first refusal: the producer really went over the shard's 1,000 records.
        Assert.True(proxy.Limits.WriteThrottled > 0);
        Assert.Equal(0, proxy.Limits.ReadThrottled);
        var shard = (await admin.ListAllShardsAsync(stream)).Single();
        var iterator = (await admin.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = stream, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.TRIM_HORIZON })).ShardIterator;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int stored = 0;
        while (iterator is not null)
        {
            var page = await admin.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 10_000 });
            foreach (var record in page.Records)
            {
                stored++;
                seen.Add(Encoding.UTF8.GetString(record.Data.ToArray()));
            }

            iterator = page.Records.Count == 0 ? null : page.NextShardIterator;
        }

        // Refused entries were not written, retried ones were written once: every record exactly once.
        Assert.Equal(Count, seen.Count);
        Assert.Equal(Count, stored);
        await admin.DeleteStreamAsync(new DeleteStreamRequest { StreamName = stream });
    }
}
