using System.Globalization;
using System.Text;
using System.Text.Json;
using Amazon.DynamoDBv2.Model;
using Amazon.Kinesis.Model;
using Cloud.EventSourceMapping;
using Cloud.Functions.Aggregator;
using Cloud.Producer;
using Cloud.Records;
using Cloud.Testing;
using Xunit.Abstractions;
using ConsumerEvents = Cloud.Consumer.Events;

namespace Cloud.IntegrationTests.EventSourceMapping;

/// <summary>
/// The whole pipeline on kinesis-local + dynalite: the real <see cref="KinesisProducer"/> (KPL aggregation, optionally
/// zstd frames) → stream (2 shards) → <see cref="LocalEventSourceMapping"/> (tumbling windows, ReportBatchItemFailures,
/// bisect, bounded retries) → the Aggregator's Stream entry point → aggregates table. The table must equal a count the
/// test makes itself from what it produced, exactly; one poison record must end in the on-failure destination and
/// nowhere else.
/// </summary>
/// <remarks>
/// The Aggregator does not skip bad input: it validates each Kinesis record (all its KPL sub-records) before applying it,
/// and reports the first bad one as the only batch item failure, returning the state of the records before it. The
/// runner checkpoints those, retries from the poison record, bisects down to it alone (a partial response naming the
/// first record of the batch cannot move the checkpoint), retries it <see cref="AggregatorPipeline.MaximumRetryAttempts"/>
/// times and then sends it to the on-failure destination. The poison record is written with PutRecords as a Kinesis
/// record of its own, right behind a plain good record: inside a KPL aggregate it would (by design) take the aggregate's
/// other user records with it. Poison: a string where the Aggregator needs a number (handler stage), or in the
/// compressed variant a frame whose CRC no longer matches (decode stage).
/// </remarks>
[Collection(EmulatorCollection.Name)]
public sealed class PipelineTests(EmulatorFixture fixture, ITestOutputHelper output) : IDisposable
{
    private const int WindowSeconds = 2;
    private const int Users = 24;
    private const int EventsPerPhase = 2_500;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private static readonly string[] Pages = ["/", "/cart", "/checkout", "/products/shoes", "/help"];
    private readonly RunnerTestSupport _s = new(fixture);

    public void Dispose() => _s.Dispose();

    private sealed record Ev(string User, decimal Amount, int? Qty, string Page);

    private static List<Ev> Generate(int count, int seed)
    {
        var rnd = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => new Ev(
            "u-" + rnd.Next(Users).ToString("D2", CultureInfo.InvariantCulture),
            rnd.Next(-50_000, 250_000) / 100m,
            rnd.Next(10) == 0 ? null : rnd.Next(1, 20),
            Pages[rnd.Next(Pages.Length)]))];
    }

    private static byte[] Json(Ev e) => Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
        $$"""{"userId":"{{e.User}}","amount":{{e.Amount}},"qty":{{(e.Qty is { } q ? q.ToString(CultureInfo.InvariantCulture) : "null")}},"page":"{{e.Page}}","meta":{"ua":"Mozilla/5.0 \"test\"","tags":["a",1,{"b":null}]},"amountText":"{{e.Amount}}"}"""));

    /// <summary>A record the Aggregator must refuse: a string where a number belongs, or (compressed variant) a frame with a damaged byte.</summary>
    private static byte[] Poison(CompressionCodec codec)
    {
        var bad = """{"userId":"u-05","amount":"12.50","qty":1,"page":"/"}"""u8.ToArray();
        if (codec == CompressionCodec.None)
        {
            return bad;
        }
        var frame = CompressedFrame.Encode(Json(new Ev("u-05", 1m, 1, "/")), codec);
        frame[^5] ^= 0x20; // last payload byte: the CRC no longer matches
        return frame;
    }

    [Theory]
    [InlineData(CompressionCodec.None, false)]
    [InlineData(CompressionCodec.Zstd, true)]
    public async Task Produced_events_are_aggregated_exactly_once_per_key_and_window_and_a_poison_record_goes_to_the_on_failure_destination(CompressionCodec codec, bool backlogAndRestart)
    {
        // Live: the runner reads while the producer writes. Backlog: the runner starts once the first phase is in the stream
        // (invokes slowed down a little) and is stopped and replaced a third of the way through it: the in-flight batch is
        // delivered again and the open windows continue from the state in the checkpoints.
        var stream = await _s.CreateStreamAsync("pipe", 2);
        var logs = new CapturingLoggerFactory();
        await using var pipeline = await AggregatorPipeline.CreateAsync(_s, stream, new AggregatorConfig
        {
            KeyField = "userId",
            SumFields = ["amount", "qty"],
            TopKField = "page",
            TopKSize = Pages.Length,
        }, WindowSeconds, batchSize: 10, logs, invokeDelay: backlogAndRestart ? TimeSpan.FromMilliseconds(20) : TimeSpan.Zero, startRunner: !backlogAndRestart);

        // First, with PutRecords, a plain good record and the poison record right behind it on the same shard: in the first
        // batch of that shard the poison record follows a good one, so the Aggregator answers with a partial batch response.
        var lead = new Ev("u-05", 7.25m, 3, "/help");
        var put = await _s.Kinesis.PutRecordsAsync(new PutRecordsRequest
        {
            StreamName = stream,
            Records =
            [
                new PutRecordsRequestEntry { PartitionKey = lead.User, Data = new MemoryStream(Json(lead)) },
                new PutRecordsRequestEntry { PartitionKey = lead.User, Data = new MemoryStream(Poison(codec)) },
            ],
        });
        Assert.Equal(0, put.FailedRecordCount);
        var poison = (ShardId: put.Records[1].ShardId!, SequenceNumber: put.Records[1].SequenceNumber!);
        var produced = new List<(Ev Event, SendResult Sent)> { (lead, new SendResult(put.Records[0].ShardId!, put.Records[0].SequenceNumber!, null, 1)) };

        await using (var producer = new KinesisProducer(_s.Kinesis, new KinesisProducerOptions
        {
            StreamName = stream,
            AggregationEnabled = true,
            AggregationMaxSize = 4096,
            Compression = codec,
            RandomSeed = 1,
        }))
        {
            async Task ProduceAsync(int seed)
            {
                var pending = new List<(Ev, Task<SendResult>)>();
                foreach (var e in Generate(EventsPerPhase, seed))
                {
                    pending.Add((e, await producer.EnqueueAsync(Json(e), e.User)));
                }
                await producer.FlushAsync();
                foreach (var (e, task) in pending)
                {
                    produced.Add((e, await task));
                }
            }

            await ProduceAsync(seed: 1);
            if (backlogAndRestart)
            {
                var backlog = produced.Select(p => p.Sent.SequenceNumber).Distinct().Count() + 1;
                await pipeline.StartRunnerAsync();
                await RunnerTestSupport.WaitUntilAsync(() => pipeline.Statistics.RecordsProcessed >= backlog / 3, Patience, "the first runner made progress", pipeline.Mapping);
                var open = (await pipeline.Checkpoints.LoadAsync(pipeline.Options.EffectiveMappingId)).Values.Count(c => c.WindowStart is not null);
                output.WriteLine($"restarting the runner after {pipeline.Statistics.RecordsProcessed} of {backlog} records with {open} window(s) open in the checkpoints");
                await pipeline.RestartAsync();
            }

            // Phase 2 starts a full window length after phase 1 was durable: every key gets at least two windows.
            await Task.Delay(TimeSpan.FromSeconds(WindowSeconds));
            await ProduceAsync(seed: 2);
        }

        // What is in the stream, read directly: each Kinesis record's arrival time decides its window.
        var records = await _s.ReadAllAsync(stream);
        var kinesisRecords = produced.Select(p => p.Sent.SequenceNumber).Distinct().Count();
        Assert.Equal(kinesisRecords + 1, records.Count);
        Assert.True(kinesisRecords * 10 < produced.Count, $"the producer should aggregate ({produced.Count} events in {kinesisRecords} Kinesis records)");
        Assert.Equal(2, records.Select(r => r.ShardId).Distinct().Count());
        var expectedKind = codec == CompressionCodec.None ? RecordKind.KplAggregated : RecordKind.Compressed;
        // (A lone record, or an aggregate that would not shrink, is sent plain: allow a few.)
        var ofExpectedKind = records.Count(r => RecordFormat.Detect(r.Record.Data.Span) == expectedKind);
        Assert.True(ofExpectedKind >= 0.9 * records.Count, $"{ofExpectedKind} of {records.Count} Kinesis records are {expectedKind}");
        var arrival = records.ToDictionary(r => r.Record.SequenceNumber, r => r.Record.ApproximateArrivalTimestamp);
        DateTimeOffset WindowOf(string sequenceNumber)
        {
            var ms = arrival[sequenceNumber].ToUnixTimeMilliseconds();
            return DateTimeOffset.FromUnixTimeMilliseconds(ms - (ms % (WindowSeconds * 1000L)));
        }

        var expected = produced.GroupBy(p => (p.Event.User, Window: WindowOf(p.Sent.SequenceNumber))).ToDictionary(g => g.Key, g => g.Select(p => p.Event).ToList());
        Assert.True(expected.Keys.Select(k => k.Window).Distinct().Count() >= 2, "the events should span several windows");

        await pipeline.WaitUntilDrainedAsync(AggregatorPipeline.LastSequenceByShard(records), Patience);
        await pipeline.Mapping.StopAsync();
        output.WriteLine($"{produced.Count} events in {records.Count} Kinesis records, {expected.Count} (key, window) results; runner: {pipeline.Statistics}");
        foreach (var line in logs.Messages.Where(m => !m.Contains(" Information: ", StringComparison.Ordinal)))
        {
            output.WriteLine(line.Split('\n')[0]);
        }

        // The aggregates table equals the independent count: same (key, window) items, exact count/sum/min/max/top.
        var actual = (await AggregatesTable.ScanAsync(_s.Dynamo, pipeline.AggregatesTableName)).ToDictionary(r => (r.Key, r.WindowStart));
        Assert.Equal(expected.Keys.Order().ToList(), actual.Keys.Order().ToList());
        foreach (var ((user, window), events) in expected)
        {
            var r = actual[(user, window)];
            var what = $"{user} @ {AggregatesTable.FormatWindow(window)}";
            Assert.True(events.Count == r.Count, $"{what}: count {r.Count}, produced {events.Count}");
            Assert.Equal(window.AddSeconds(WindowSeconds), r.WindowEnd);
            AssertStats(what + " amount", events.Select(e => e.Amount).ToList(), r.Fields["amount"]);
            AssertStats(what + " qty", events.Where(e => e.Qty is not null).Select(e => (decimal)e.Qty!.Value).ToList(), r.Fields.GetValueOrDefault("qty")); // absent: no number seen
            Assert.False(r.TopApproximate);
            Assert.Equal(events.GroupBy(e => e.Page).Select(g => (g.Key, (long)g.Count())).Order().ToList(), r.Top.Select(t => (t.Key, t.Value)).Order().ToList());
        }
        Assert.Equal(produced.Count, actual.Values.Sum(r => r.Count));

        // The poison record, and only it, went to the on-failure destination, in the shape Lambda sends. (A runner stopped
        // between storing an on-failure record and its checkpoint sends it again: at least once, as for every record.)
        var statistics = pipeline.Statistics;
        var allStored = await pipeline.Failures.ReadAllAsync(pipeline.Mapping.StreamArn!);
        if (!backlogAndRestart)
        {
            Assert.Equal((1, 1), (statistics.OnFailureRecords, statistics.RecordsDiscarded));
            Assert.Single(allStored);
        }
        Assert.NotEmpty(allStored);
        Assert.Single(allStored.Select(r => r.KinesisBatchInfo).Distinct());
        var stored = allStored[0];
        Assert.Equal((OnFailureCondition.RetryAttemptsExhausted, AggregatorPipeline.MaximumRetryAttempts + 1, (int?)200, (string?)null),
            (stored.Condition, stored.ApproximateInvokeCount, stored.StatusCode, stored.FunctionError)); // a partial batch response, not a function error
        Assert.Equal((poison.ShardId, poison.SequenceNumber, poison.SequenceNumber, 1, pipeline.Mapping.StreamArn),
            (stored.KinesisBatchInfo.ShardId, stored.KinesisBatchInfo.StartSequenceNumber, stored.KinesisBatchInfo.EndSequenceNumber, stored.KinesisBatchInfo.BatchSize, stored.KinesisBatchInfo.StreamArn));
        Assert.Equal(arrival[poison.SequenceNumber], stored.KinesisBatchInfo.ApproximateArrivalOfFirstRecord);

        var item = (await _s.Dynamo.ScanAsync(new ScanRequest { TableName = pipeline.Failures.TableName, ConsistentRead = true })).Items[0];
        using var document = JsonDocument.Parse(item["record"].S);
        var root = document.RootElement;
        Assert.Equal(new[] { "KinesisBatchInfo", "requestContext", "responseContext", "timestamp", "version" }, root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(new[] { "approximateInvokeCount", "condition", "functionArn", "requestId" }, root.GetProperty("requestContext").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(new[] { "approximateArrivalOfFirstRecord", "approximateArrivalOfLastRecord", "batchSize", "endSequenceNumber", "shardId", "startSequenceNumber", "streamArn" },
            root.GetProperty("KinesisBatchInfo").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var asConsumerSees = JsonSerializer.Deserialize(item["record"].S, ConsumerEvents.KinesisEventsJsonContext.Default.KinesisOnFailureRecord)!;
        Assert.Equal((AggregatorPipeline.FunctionArn, poison.SequenceNumber, "1.0"), (asConsumerSees.RequestContext.FunctionArn, asConsumerSees.KinesisBatchInfo.StartSequenceNumber, asConsumerSees.Version));
        Assert.DoesNotContain(Convert.ToBase64String(Poison(codec)), item["record"].S, StringComparison.Ordinal); // batch metadata only, no record data
    }

    private static void AssertStats(string what, List<decimal> values, FieldStats stats)
    {
        Assert.True(values.Count == stats.Count, $"{what}: n {stats.Count}, produced {values.Count}");
        Assert.True(values.Sum() == stats.Sum, $"{what}: sum {stats.Sum}, produced {values.Sum()}");
        if (values.Count > 0)
        {
            Assert.True((values.Min(), values.Max()) == (stats.Min, stats.Max), $"{what}: min/max {stats.Min}/{stats.Max}, produced {values.Min()}/{values.Max()}");
        }
    }
}
