using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Amazon.DynamoDBv2;
using Cloud.Consumer.Events;
using Cloud.Functions.Aggregator;
using Cloud.Records;
using Cloud.Testing;

namespace Cloud.IntegrationTests.ConsumerTests;

/// <summary>
/// The Aggregator against dynalite: KPL-aggregated, zstd-framed input → window results in DynamoDB equal an
/// independent count; a retried final invoke, concurrent shards and early-ended windows never double-count.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class AggregatorDynaliteTests(EmulatorFixture fixture)
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 5, 0, TimeSpan.Zero);
    private static readonly string[] Pages = ["/", "/cart", "/products/shoes", "/help", "/deals"];

    private sealed record Ev(string User, decimal Amount, string Page);

    private static List<Ev> Events(int n, int seed, int users)
    {
        var rnd = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => new Ev("u-" + rnd.Next(users).ToString("D5", CultureInfo.InvariantCulture), rnd.Next(0, 100_000) / 100m, Pages[rnd.Next(Pages.Length)])).ToList();
    }

    private static byte[] Json(Ev e) => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
        $"{{\"userId\":\"{e.User}\",\"name\":\"Ana Example\",\"email\":\"ana@example.com\",\"amount\":{e.Amount},\"page\":\"{e.Page}\"}}"));

    /// <summary>Packs events into KPL aggregates inside zstd frames, as the producer does.</summary>
    private static List<KinesisEventRecord> Records(IEnumerable<Ev> events, string shard, int seqBase)
    {
        var payloads = new List<(string Key, byte[] Data)>();
        using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = 8 * 1024 });
        void Flush()
        {
            payloads.Add((builder.PartitionKey!, CompressedFrame.Encode(builder.ToArray(), CompressionCodec.Zstd)));
            builder.Reset();
        }

        foreach (Ev e in events)
        {
            if (!builder.TryAdd(e.User, null, Json(e)))
            {
                Flush();
                Assert.True(builder.TryAdd(e.User, null, Json(e)));
            }
        }

        if (builder.Count > 0)
        {
            Flush();
        }

        BigInteger seq = BigInteger.Parse("49590338271490256608559692538361571095921575989136588898", CultureInfo.InvariantCulture) + seqBase;
        return payloads.Select((p, i) => new KinesisEventRecord
        {
            Kinesis = new KinesisRecordData
            {
                KinesisSchemaVersion = "1.0",
                PartitionKey = p.Key,
                SequenceNumber = (seq + i).ToString(CultureInfo.InvariantCulture),
                Data = Convert.ToBase64String(p.Data),
                ApproximateArrivalTimestamp = Start.AddMilliseconds(i),
            },
            EventSource = "aws:kinesis",
            EventVersion = "1.0",
            EventId = shard + ":" + (seq + i).ToString(CultureInfo.InvariantCulture),
            EventName = "aws:kinesis:record",
            AwsRegion = "us-east-1",
            EventSourceArn = "arn:aws:kinesis:us-east-1:000000000000:stream/agg",
        }).ToList();
    }

    private static KinesisTimeWindowEvent Invoke(IReadOnlyList<KinesisEventRecord> records, IReadOnlyDictionary<string, string>? state, bool final, string shard) => new()
    {
        Records = records,
        Window = new TimeWindow { Start = Start, End = Start.AddMinutes(1) },
        State = state,
        ShardId = shard,
        EventSourceArn = "arn:aws:kinesis:us-east-1:000000000000:stream/agg",
        IsFinalInvokeForWindow = final,
    };

    private static async Task<KinesisTimeWindowResponse> Call(Function f, KinesisTimeWindowEvent evt)
    {
        using var input = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(evt, KinesisEventsJsonContext.Default.KinesisTimeWindowEvent));
        using Stream output = await f.HandleAsync(input, CancellationToken.None);
        var r = JsonSerializer.Deserialize(output, KinesisEventsJsonContext.Default.KinesisTimeWindowResponse)!;
        Assert.Empty(r.BatchItemFailures);
        return r;
    }

    /// <summary>Feeds one shard's records in batches of <paramref name="batch"/>, then the final invoke (twice when asked).</summary>
    private static async Task RunShard(Function f, List<KinesisEventRecord> records, string shard, int batch, bool retryFinal)
    {
        IReadOnlyDictionary<string, string>? state = null;
        foreach (KinesisEventRecord[] chunk in records.Chunk(batch))
        {
            state = (await Call(f, Invoke(chunk, state, final: false, shard))).State;
        }

        KinesisTimeWindowEvent final = Invoke([], state, final: true, shard);
        await Call(f, final);
        if (retryFinal)
        {
            await Call(f, final);
        }
    }

    private async Task<(IAmazonDynamoDB Db, string Table)> NewTable()
    {
        IAmazonDynamoDB db = fixture.CreateDynamoDbClient();
        string table = EmulatorFixture.UniqueName("agg");
        await AggregatesTable.EnsureExistsAsync(db, table);
        return (db, table);
    }

    private static async Task AssertTableMatches(IAmazonDynamoDB db, string table, IEnumerable<Ev> events)
    {
        var expected = events.GroupBy(e => e.User).ToDictionary(g => g.Key, g => g.ToList());
        var actual = (await AggregatesTable.ScanAsync(db, table)).ToDictionary(r => r.Key);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach ((string user, List<Ev> evs) in expected)
        {
            AggregateResult r = actual[user];
            Assert.Equal(Start, r.WindowStart);
            Assert.Equal(evs.Count, r.Count);
            FieldStats amount = r.Fields["amount"];
            Assert.Equal(evs.Sum(e => e.Amount), amount.Sum);
            Assert.Equal(evs.Min(e => e.Amount), amount.Min);
            Assert.Equal(evs.Max(e => e.Amount), amount.Max);
            Assert.Equal(evs.Count, amount.Count);
            Assert.False(r.TopApproximate);
            Assert.Equal(evs.GroupBy(e => e.Page).ToDictionary(g => g.Key, g => (long)g.Count()).OrderBy(kv => kv.Key, StringComparer.Ordinal),
                r.Top.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task Window_results_equal_an_independent_count_and_a_retried_final_invoke_does_not_double_count()
    {
        var (db, table) = await NewTable();
        using (db)
        {
            var f = new Function(new AggregatorConfig { TableName = table }, db);
            List<Ev> events = Events(3000, seed: 1, users: 150);
            await RunShard(f, Records(events, "shardId-000000000000", 0), "shardId-000000000000", batch: 7, retryFinal: true);
            await AssertTableMatches(db, table, events);

            // Personal fields were never aggregated: no item holds them.
            foreach (AggregateResult r in await AggregatesTable.ScanAsync(db, table))
            {
                Assert.DoesNotContain("ana@example.com", string.Join(",", r.Top.Select(t => t.Key)), StringComparison.Ordinal);
                Assert.DoesNotContain("email", r.Fields.Keys);
            }
        }
    }

    [Fact]
    public async Task Concurrent_shards_merge_into_one_item_per_key_and_window()
    {
        var (db, table) = await NewTable();
        using (db)
        {
            var f = new Function(new AggregatorConfig { TableName = table, WriteConcurrency = 16 }, db);
            var shards = Enumerable.Range(0, 4).Select(s => ($"shardId-00000000000{s}", Events(800, seed: 10 + s, users: 40))).ToList();
            await Task.WhenAll(shards.Select(s => RunShard(f, Records(s.Item2, s.Item1, 0), s.Item1, batch: 50, retryFinal: true)));
            await AssertTableMatches(db, table, shards.SelectMany(s => s.Item2));
            Assert.All(await AggregatesTable.ScanAsync(db, table), r => Assert.Equal(4, r.Contributions.Count));
        }
    }

    [Fact]
    public async Task Early_ended_window_over_the_state_budget_adds_up_exactly()
    {
        var (db, table) = await NewTable();
        using (db)
        {
            var f = new Function(new AggregatorConfig { TableName = table, StateBudgetBytes = 16_384 }, db);
            List<Ev> events = Events(4000, seed: 3, users: 1200);
            await RunShard(f, Records(events, "shardId-000000000000", 0), "shardId-000000000000", batch: 25, retryFinal: true);
            await AssertTableMatches(db, table, events);
            Assert.Contains(await AggregatesTable.ScanAsync(db, table), r => r.Contributions.Count > 1);
        }
    }
}
