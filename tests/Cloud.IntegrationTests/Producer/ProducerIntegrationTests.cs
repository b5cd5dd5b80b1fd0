using System.Globalization;
using System.Text;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Emulators.Faults;
using Cloud.Kinesis;
using Cloud.Producer;
using Cloud.Records;
using Cloud.Testing;
using static Cloud.IntegrationTests.Kinesis.KinesisTestSupport;

namespace Cloud.IntegrationTests.Producer;

/// <summary>The producer against kinesis-local, directly and behind the fault-injecting proxy.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class ProducerIntegrationTests(EmulatorFixture fixture) : IDisposable
{
    private readonly AmazonKinesisClient _client = CreateClient(fixture);

    // The producer is the one retry layer of its calls: its client has SDK retries off.
    private readonly AmazonKinesisClient _producerClient = fixture.CreateKinesisClient(o => o.MaxErrorRetry = 0);

    public void Dispose()
    {
        _client.Dispose();
        _producerClient.Dispose();
    }

    private static byte[] Payload(string key, int index) => Encoding.UTF8.GetBytes($"{key}|{index.ToString(CultureInfo.InvariantCulture)}|{{\"event\":\"click\",\"page\":\"/p/{index % 97}\"}}");

    /// <summary>Every user record of the stream in shard order (sequence number, then sub-sequence number).</summary>
    private async Task<Dictionary<string, List<(string Text, string Sequence, long Sub)>>> ReadBackAsync(string stream)
    {
        var shards = await _client.ListAllShardsAsync(stream);
        var byShard = new Dictionary<string, List<(string, string, long)>>();
        foreach (var shard in shards)
        {
            var list = new List<(string, string, long)>();
            var iterator = (await _client.GetShardIteratorAsync(new GetShardIteratorRequest
            {
                StreamName = stream, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.TRIM_HORIZON,
            })).ShardIterator;
            int empty = 0;
            while (iterator is not null && empty < 3)
            {
                var page = await _client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 10_000 });
                empty = page.Records.Count == 0 ? empty + 1 : 0;
                foreach (var record in page.Records)
                {
                    foreach (var user in RecordDecoder.Default.Decode(record.Data.ToArray(), record.PartitionKey, record.SequenceNumber))
                    {
                        list.Add((Encoding.UTF8.GetString(user.Data.Span), record.SequenceNumber, user.SubSequenceNumber));
                    }
                }
                iterator = page.NextShardIterator;
            }
            byShard[shard.ShardId] = list;
        }
        return byShard;
    }

    [Fact]
    public async Task Produced_records_are_read_back_where_SendAsync_said_they_are()
    {
        var stream = EmulatorFixture.UniqueName("prod-basic");
        await CreateActiveStreamAsync(_client, stream, shards: 2);
        try
        {
            var sends = new List<(byte[] Data, Task<SendResult> Task)>();
            await using (var producer = new KinesisProducer(_producerClient, new KinesisProducerOptions { StreamName = stream }))
            {
                for (int i = 0; i < 3000; i++)
                {
                    var data = Payload(i % 3 == 0 ? "keyless" : $"user-{i % 50}", i);
                    sends.Add((data, producer.SendAsync(data, i % 3 == 0 ? null : $"user-{i % 50}").AsTask()));
                }
                await producer.FlushAsync();
            }
            var stored = await ReadBackAsync(stream);
            foreach (var (data, task) in sends)
            {
                var result = await task;
                var atShard = stored[result.ShardId];
                Assert.Contains(atShard, u => u.Sequence == result.SequenceNumber && u.Sub == (result.SubSequenceNumber ?? 0) && u.Text == Encoding.UTF8.GetString(data));
            }
            Assert.Equal(3000, stored.Values.Sum(l => l.Count));
            Assert.Contains(sends, s => s.Task.Result.IsAggregated);
        }
        finally
        {
            await DeleteQuietlyAsync(_client, stream);
        }
    }

    [Fact]
    public async Task Under_injected_faults_200000_records_arrive_with_none_lost_and_per_key_order_kept()
    {
        var stream = EmulatorFixture.UniqueName("prod-faults");
        await CreateActiveStreamAsync(_client, stream, shards: 4);
        await using var proxy = FaultInjectingProxy.Start(fixture.KinesisEndpoint, new FaultOptions
        {
            Seed = 20261123,
            ThrottleRecordRate = 0.10,
            InternalFailureRecordRate = 0.05,
            ServerErrorRate = 0.03,
            SlowRate = 0.03,
            SlowDelay = TimeSpan.FromMilliseconds(400),
            DropBeforeForwardRate = 0.02,
            DropAfterForwardRate = 0.01,
        });
        // AWS's client behind the fault proxy, SDK retries off: every fault reaches the producer's own retry layer.
        using var faulty = KinesisClientFactory.Create(new KinesisConnectionOptions
        {
            ServiceUrl = proxy.Endpoint,
            Region = fixture.Region,
            Credentials = fixture.Credentials,
            MaxErrorRetry = 0,
            Timeout = TimeSpan.FromSeconds(20),
        });
        const int total = 200_000;
        var failures = new List<RecordDeliveryException>();
        try
        {
            var tasks = new Task<SendResult>[total];
            await using (var producer = new KinesisProducer(faulty, new KinesisProducerOptions
            {
                StreamName = stream,
                RecordTtl = TimeSpan.FromMinutes(10),
                FailureHandler = e => { lock (failures) { failures.Add(e); } },
            }))
            {
                for (int i = 0; i < total; i++)
                {
                    string key = $"k{i % 1000}";
                    tasks[i] = await producer.EnqueueAsync(Payload(key, i), key);
                }
                await producer.FlushAsync();
            }
            Assert.Empty(failures);
            Assert.All(tasks, t => Assert.True(t.IsCompletedSuccessfully));
            Assert.True(proxy.Counters.ThrottledRecords > 0 && proxy.Counters.ServerErrors > 0, proxy.Counters.ToString());

            var stored = await ReadBackAsync(stream);
            var seen = new HashSet<int>();
            var lastPerKey = new Dictionary<string, int>();
            foreach (var shard in stored.Values)
            {
                foreach (var (text, _, _) in shard) // already in shard order
                {
                    var parts = text.Split('|');
                    int index = int.Parse(parts[1], CultureInfo.InvariantCulture);
                    if (!seen.Add(index))
                    {
                        continue; // a duplicate from a connection dropped after the write (at-least-once)
                    }
                    if (lastPerKey.TryGetValue(parts[0], out int last))
                    {
                        Assert.True(index > last, $"key {parts[0]}: {index} after {last}");
                    }
                    lastPerKey[parts[0]] = index;
                }
            }
            Assert.Equal(total, seen.Count);
        }
        finally
        {
            await DeleteQuietlyAsync(_client, stream);
        }
    }

    [Fact]
    public async Task A_missing_stream_fails_records_with_a_typed_error()
    {
        var stream = EmulatorFixture.UniqueName("prod-missing");
        await using var producer = new KinesisProducer(_producerClient, new KinesisProducerOptions { StreamName = stream });
        var ex = await Assert.ThrowsAsync<RecordDeliveryException>(() => producer.SendAsync(Encoding.UTF8.GetBytes("x"), "k").AsTask());
        Assert.Equal(DeliveryFailureReason.StreamNotFound, ex.Reason);
        Assert.Contains(stream, ex.Message, StringComparison.Ordinal);
    }
}
