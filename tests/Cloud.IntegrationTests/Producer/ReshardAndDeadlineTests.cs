using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Emulators.Faults;
using Cloud.Kinesis;
using Cloud.Producer;
using Cloud.Records;
using Cloud.Testing;
using Xunit.Abstractions;

namespace Cloud.IntegrationTests.Producer;

/// <summary>
/// The producer with aggregation on while kinesis-local reshards under it (SplitShard, MergeShards,
/// UpdateShardCount), read back with the KCL's whole-aggregate shard-range rule; and its deadlines against a slow
/// endpoint and an endpoint that refuses the credentials.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class ReshardAndDeadlineTests(EmulatorFixture fixture, ITestOutputHelper output) : IDisposable
{
    private readonly AmazonKinesisClient _admin = fixture.CreateKinesisClient();

    public void Dispose() => _admin.Dispose();

    private AmazonKinesisClient ProducerClient(Uri? endpoint = null) => fixture.CreateKinesisClient(o =>
    {
        o.MaxErrorRetry = 0; // the producer is the one retry layer
        if (endpoint is not null)
        {
            o.ServiceUrl = endpoint;
        }
    });

    [Fact]
    public async Task Reshards_under_an_aggregating_producer_lose_nothing_for_a_KCL_reader_and_keep_per_key_order()
    {
        var stream = EmulatorFixture.UniqueName("reshard-kcl");
        await _admin.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = 2 });
        await _admin.WaitForStreamActiveAsync(stream);
        using var client = ProducerClient();
        var failures = 0;
        var sends = new List<Task<SendResult>>();
        var producer = new KinesisProducer(client, new KinesisProducerOptions
        {
            StreamName = stream,
            RecordMaxBufferedTime = TimeSpan.FromMilliseconds(20),
            RecordTtl = TimeSpan.FromMinutes(2),
            FailureHandler = _ => Interlocked.Increment(ref failures),
        });
        const int Keys = 300;
        var nextPerKey = new int[Keys];
        int total = 0;

        async Task ProduceAsync(int count)
        {
            for (int i = 0; i < count; i++, total++)
            {
                int k = total % Keys;
                // Keyed records carry their per-key counter; every fifth is keyless (balanced by explicit hash keys).
                string? key = total % 5 == 0 ? null : $"user-{k}";
                string text = key is null ? $"keyless|{total}" : $"{key}|{nextPerKey[k]++}";
                sends.Add(producer.SendAsync(Encoding.UTF8.GetBytes(text), key).AsTask());
                if (i % 500 == 499)
                {
                    await Task.Delay(5);
                }
            }
        }

        await ProduceAsync(6000);
        var open = await OpenShardsAsync(stream);
        await _admin.SplitShardAsync(new SplitShardRequest
        {
            StreamName = stream,
            ShardToSplit = open[0].ShardId,
            NewStartingHashKey = Middle(open[0]).ToString(CultureInfo.InvariantCulture),
        });
        await ProduceAsync(6000);
        await _admin.WaitForStreamActiveAsync(stream);
        open = await OpenShardsAsync(stream);
        await _admin.MergeShardsAsync(new MergeShardsRequest { StreamName = stream, ShardToMerge = open[0].ShardId, AdjacentShardToMerge = open[1].ShardId });
        await ProduceAsync(6000);
        await _admin.WaitForStreamActiveAsync(stream);
        await _admin.UpdateShardCountAsync(new UpdateShardCountRequest { StreamName = stream, TargetShardCount = 4, ScalingType = ScalingType.UNIFORM_SCALING });
        await ProduceAsync(6000);
        await _admin.WaitForStreamActiveAsync(stream);
        await ProduceAsync(6000);
        await producer.FlushAsync();
        await producer.DisposeAsync();
        await Task.WhenAll(sends);
        Assert.Equal(0, failures);

        // Read every shard, parents before children, keeping only what the KCL keeps.
        var shards = await _admin.ListAllShardsAsync(stream);
        var read = new List<(string ShardId, string Text)>();
        int dropped = 0;
        foreach (var shard in LineageOrder(shards))
        {
            var range = ShardRange.Of(shard);
            foreach (var record in await ReadShardAsync(stream, shard.ShardId))
            {
                var users = RecordDecoder.Default.Decode(record.Data.ToArray(), record.PartitionKey, record.SequenceNumber);
                if (!KclShardFilter.Keeps(users, range.Start, range.End))
                {
                    dropped++;
                    continue;
                }
                read.AddRange(users.Select(u => (shard.ShardId, Encoding.UTF8.GetString(u.Data.Span))));
            }
        }
        var unique = read.Select(r => r.Text).ToHashSet(StringComparer.Ordinal);
        var (wrongShard, resent) = producer.WrongShardResends;
        output.WriteLine($"sent {total}, read {read.Count} ({read.Count - unique.Count} duplicates), KCL dropped {dropped} aggregates; producer re-sent {wrongShard} wrong-shard aggregates ({resent} records)");
        Assert.Equal(total, unique.Count); // nothing lost
        foreach (var group in read.Where(r => !r.Text.StartsWith("keyless", StringComparison.Ordinal)).GroupBy(r => r.Text.Split('|')[0]))
        {
            var firstSightings = group.Select(r => int.Parse(r.Text.Split('|')[1], CultureInfo.InvariantCulture)).Distinct().ToList();
            Assert.Equal(Enumerable.Range(0, firstSightings.Count), firstSightings); // per-key order across parent → child
        }
        await _admin.DeleteStreamAsync(new DeleteStreamRequest { StreamName = stream });
    }

    [Fact]
    public async Task Behind_an_endpoint_that_holds_requests_records_expire_at_their_ttl()
    {
        var stream = EmulatorFixture.UniqueName("ttl-slow");
        await _admin.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = 1 });
        await _admin.WaitForStreamActiveAsync(stream);
        // Let the shard map load fast, then hold every request far past the TTL.
        await using var proxy = FaultInjectingProxy.Start(fixture.KinesisEndpoint, new FaultOptions());
        using var client = ProducerClient(proxy.Endpoint);
        var ttl = TimeSpan.FromSeconds(2);
        await using var producer = new KinesisProducer(client, new KinesisProducerOptions { StreamName = stream, RecordTtl = ttl });
        await producer.SendAsync(Encoding.UTF8.GetBytes("warm"), "k");
        proxy.Options = new FaultOptions { SlowRate = 1, SlowDelay = TimeSpan.FromSeconds(30) };
        var clock = Stopwatch.StartNew();
        var sends = Enumerable.Range(0, 20).Select(i => producer.SendAsync(Encoding.UTF8.GetBytes($"r{i}"), $"k{i}").AsTask()).ToArray();
        foreach (var send in sends)
        {
            var ex = await Assert.ThrowsAsync<RecordDeliveryException>(() => send.WaitAsync(TimeSpan.FromSeconds(20)));
            Assert.Equal(DeliveryFailureReason.TtlExpired, ex.Reason);
        }
        var elapsed = clock.Elapsed;
        output.WriteLine($"TTL {ttl}: all records expired after {elapsed.TotalMilliseconds:F0} ms");
        Assert.True(elapsed < ttl + TimeSpan.FromSeconds(3), $"records expired after {elapsed}, TTL {ttl}");
        proxy.Options = new FaultOptions();
        await _admin.DeleteStreamAsync(new DeleteStreamRequest { StreamName = stream });
    }

    [Fact]
    public async Task An_endpoint_that_refuses_the_credentials_fails_records_at_once()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var http = new HttpListener();
        http.Prefixes.Add($"http://127.0.0.1:{port}/");
        http.Start();
        using var stop = new CancellationTokenSource();
        var server = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try
                {
                    context = await http.GetContextAsync();
                }
                catch (Exception) when (stop.IsCancellationRequested || !http.IsListening)
                {
                    return;
                }
                var body = Encoding.UTF8.GetBytes("{\"__type\":\"UnrecognizedClientException\",\"message\":\"The security token included in the request is invalid.\"}");
                context.Response.StatusCode = 400;
                context.Response.ContentType = "application/x-amz-json-1.1";
                context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        });
        using var client = ProducerClient(new Uri($"http://127.0.0.1:{port}"));
        await using (var producer = new KinesisProducer(client, new KinesisProducerOptions { StreamName = "any", RecordTtl = TimeSpan.FromSeconds(30) }))
        {
            var clock = Stopwatch.StartNew();
            var ex = await Assert.ThrowsAsync<RecordDeliveryException>(() => producer.SendAsync(Encoding.UTF8.GetBytes("x"), "k").AsTask().WaitAsync(TimeSpan.FromSeconds(20)));
            Assert.Equal(DeliveryFailureReason.Rejected, ex.Reason);
            Assert.Equal("UnrecognizedClientException", ex.LastErrorCode);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"an auth error took {clock.Elapsed}; the TTL is 30 s");
        }
        await stop.CancelAsync();
        http.Stop();
        await server;
    }

    private async Task<List<Shard>> OpenShardsAsync(string stream) =>
        [.. (await _admin.ListAllShardsAsync(stream)).Where(ShardMap.IsOpen).OrderBy(s => UInt128.Parse(s.HashKeyRange.StartingHashKey, CultureInfo.InvariantCulture))];

    private static UInt128 Middle(Shard shard)
    {
        var range = ShardRange.Of(shard);
        return range.Middle + 1;
    }

    /// <summary>Shards in an order where every parent (and adjacent parent) comes before its children.</summary>
    private static List<Shard> LineageOrder(IReadOnlyList<Shard> shards)
    {
        var byId = shards.ToDictionary(s => s.ShardId, StringComparer.Ordinal);
        var done = new HashSet<string>(StringComparer.Ordinal);
        var order = new List<Shard>();
        void Visit(Shard s)
        {
            if (!done.Add(s.ShardId))
            {
                return;
            }
            foreach (var parent in new[] { s.ParentShardId, s.AdjacentParentShardId })
            {
                if (parent is not null && byId.TryGetValue(parent, out var p))
                {
                    Visit(p);
                }
            }
            order.Add(s);
        }
        foreach (var s in shards)
        {
            Visit(s);
        }
        return order;
    }

    private async Task<List<Amazon.Kinesis.Model.Record>> ReadShardAsync(string stream, string shardId)
    {
        var records = new List<Amazon.Kinesis.Model.Record>();
        var iterator = (await _admin.GetShardIteratorAsync(new GetShardIteratorRequest
        {
            StreamName = stream, ShardId = shardId, ShardIteratorType = ShardIteratorType.TRIM_HORIZON,
        })).ShardIterator;
        int empty = 0;
        while (iterator is not null && empty < 3)
        {
            var page = await _admin.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 10_000 });
            empty = (page.Records?.Count ?? 0) == 0 ? empty + 1 : 0;
            records.AddRange(page.Records ?? []);
            iterator = page.NextShardIterator;
        }
        return records;
    }
}
