using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Amazon.Runtime;
using Cloud.DataGenerator;
using Cloud.Emulators;
using Cloud.Emulators.Limits;
using Cloud.Kinesis;
using Cloud.Producer;
using Cloud.Records;
using Cloud.Sizing;

namespace Cloud.Benchmarks.Report.Sections;

/// <summary>
/// What a user saves: the same 200-byte and 1 KB clickstream events sent to kinesis-local through the proxy that
/// enforces Kinesis's per-shard limits, by (a) plain AWSSDK.Kinesis PutRecords (one Kinesis record per event, 500
/// per request, failed entries resent), (b) this project's KinesisProducer (KPL aggregation) and (c) the producer
/// with zstd — on the same 2 shards, each for the same fixed time with more load offered than the limits admit.
/// Delivered events/s per shard, throttled entries, Kinesis records and PUT payload units billed (read back from
/// the stream), and the monthly cost of 10,000 events/s from the project's shard calculator (Cloud.Sizing).
/// </summary>
internal sealed class SavingsSection : IReportSection
{
    private const int Shards = 2;
    private const int PutPayloadUnitBytes = 25 * 1024;
    private const double TargetEventsPerSecond = 10_000;

    public string Id => "savings";

    public int Order => 10;

    public string Title => "What a user saves: plain PutRecords vs the producer, through enforced Kinesis limits";

    public async Task<SectionResult> RunAsync(ReportContext context, CancellationToken cancellationToken)
    {
        var window = context.Scale(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(4));
        ReportContext.Log("savings: starting kinesalite and the limit proxy");
        // kinesalite, not kinesis-local: kinesis-local stores ~100-1,500 records/s on this machine, below the 1,000
        // records/s per shard being compared, so it and not the limits would decide (a). Same API for these calls.
        await using var host = await EmulatorHost.StartAsync(new EmulatorOptions { StartDynamoDb = false, KinesisEngine = KinesisEngine.Kinesalite, UseEnvironmentOverrides = false }, cancellationToken);
        await using var proxy = KinesisLimitProxy.Start(host.KinesisEndpoint);
        using var direct = Client(host.KinesisEndpoint, maxErrorRetry: 2);
        // (a) is what a .NET user writes today: AWS's client as it comes (its default retries), no project code.
        using var plainClient = new AmazonKinesisClient(new BasicAWSCredentials("test", "test"), new AmazonKinesisConfig { ServiceURL = proxy.Endpoint.ToString(), AuthenticationRegion = "us-east-1" });
        // The producer is its own retry layer: SDK retries off, as CloudConnection.ProducerKinesis does.
        using var producerClient = Client(proxy.Endpoint, maxErrorRetry: 0);

        var variants = new (string Name, Func<string, IReadOnlyList<ShapedEvent>, Task<RunCounts>> Run)[]
        {
            ("(a) plain PutRecords", (stream, events) => PlainPutRecordsAsync(plainClient, stream, events, window, cancellationToken)),
            ("(b) KinesisProducer (aggregation)", (stream, events) => ProducerAsync(producerClient, stream, events, CompressionCodec.None, window, cancellationToken)),
            ("(c) KinesisProducer + zstd", (stream, events) => ProducerAsync(producerClient, stream, events, CompressionCodec.Zstd, window, cancellationToken)),
        };

        var results = new List<VariantResult>();
        foreach (int size in new[] { 200, 1024 })
        {
            var events = ShapedEvent.Generate(size, 20_000);
            foreach (var (name, run) in variants)
            {
                string stream = $"savings-{size}-{results.Count}-{Guid.NewGuid().ToString("N")[..6]}";
                await direct.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = Shards }, cancellationToken);
                await direct.WaitForStreamActiveAsync(stream, cancellationToken: cancellationToken);
                long throttledBefore = proxy.Limits.WriteThrottled;
                ReportContext.Log($"savings: {name}, {size} B events, {window.TotalSeconds:0} s");
                var phase = Stopwatch.StartNew();
                var counts = await run(stream, events);
                long throttled = proxy.Limits.WriteThrottled - throttledBefore;
                var sent = phase.Elapsed;
                var billed = await ReadBackAsync(direct, stream, counts.DeliveredTotal, cancellationToken);
                ReportContext.Log($"savings: sent and flushed in {sent.TotalSeconds:0.0} s, read back in {(phase.Elapsed - sent).TotalSeconds:0.0} s: {billed.Events:N0} events in {billed.KinesisRecords:N0} Kinesis records, {throttled:N0} throttled");
                results.Add(new VariantResult(name, size, events.Average(e => e.Bytes), window, counts, throttled, billed));
            }
        }

        return Render(context, results, window);
    }

    private static SectionResult Render(ReportContext context, List<VariantResult> results, TimeSpan window)
    {
        var rows = new List<IReadOnlyList<string>>();
        var costRows = new List<IReadOnlyList<string>>();
        var headlines = new List<Headline>();
        var calculator = new ShardCalculator();
        var findings = new List<string>();
        bool clamped = false;
        foreach (var size in results.Select(r => r.Size).Distinct())
        {
            var group = results.Where(r => r.Size == size).ToList();
            var plain = group[0];
            foreach (var r in group)
            {
                var measured = new WorkloadProfile
                {
                    AverageRecordsPerSecond = TargetEventsPerSecond,
                    PeakRecordsPerSecond = TargetEventsPerSecond,
                    AverageRecordBytes = r.AverageEventBytes,
                }.WithMeasurement(new RecordSampleMeasurement(r.Billed.Events, (long)(r.AverageEventBytes * r.Billed.Events), r.Billed.KinesisRecords, r.Billed.KinesisBytes));
                // The calculator bounds aggregation by distinct-key framing; the producer stores a repeated key once, so
                // it can pack a little more. Clamped to the bound: the cost figures of (b) and (c) are conservative.
                int reachable = WorkloadProfile.MaxReachableAggregationRatio(measured.AverageRecordBytes, measured.MaxAggregateBytes);
                clamped |= measured.AggregationRatio > reachable;
                var estimate = calculator.Calculate(measured with { AggregationRatio = Math.Min(measured.AggregationRatio, reachable) });
                r.Estimate = estimate;
                rows.Add([
                    $"~{Markdown.N(size)} B (avg {Markdown.N(r.AverageEventBytes)} B)", r.Name,
                    Markdown.N(r.EventsPerSecondPerShard),
                    Markdown.Ratio(r.EventsPerSecondPerShard / plain.EventsPerSecondPerShard),
                    Markdown.N(r.Throttled),
                    Markdown.N(r.Counts.Offered),
                    Markdown.N(r.Billed.KinesisRecords * 1e6 / Math.Max(1, r.Billed.Events)),
                    Markdown.N(r.Billed.PutPayloadUnits * 1e6 / Math.Max(1, r.Billed.Events)),
                    Markdown.N(r.Billed.KinesisBytes / (double)Math.Max(1, r.Billed.KinesisRecords)) + " B",
                    Markdown.N(r.WrittenMiBPerSecondPerShard, 2),
                ]);
                costRows.Add([
                    Markdown.N(size) + " B", r.Name,
                    Markdown.N(estimate.Shards) + $" ({estimate.DecidingConstraint})",
                    "$" + Markdown.N((double)estimate.Cost.Provisioned.MonthlyTotal, 2),
                    "$" + Markdown.N((double)estimate.Cost.OnDemand.MonthlyTotal, 2),
                    Markdown.Ratio((double)plain.Estimate!.Cost.Provisioned.MonthlyTotal / (double)estimate.Cost.Provisioned.MonthlyTotal),
                    Markdown.Ratio((double)plain.Estimate!.Cost.OnDemand.MonthlyTotal / (double)estimate.Cost.OnDemand.MonthlyTotal),
                ]);
            }

            if (group.Count == 3 && group[2].WrittenMiBPerSecondPerShard < 0.6 && group[2].EventsPerSecondPerShard / group[1].EventsPerSecondPerShard is > 1.4 and < 1.6)
            {
                findings.Add(Markdown.F($"At {size} B, (c) wrote only {group[2].WrittenMiBPerSecondPerShard:0.00} MiB/s per shard of the 1 MiB/s Kinesis admits, yet stayed at {group[2].EventsPerSecondPerShard / group[1].EventsPerSecondPerShard:0.00}× the events/s of (b): something other than Kinesis's byte limit bound it (the producer's per-shard buckets, RateLimit 150 %, or the emulator). Until 2026-12-07 the producer charged an aggregate at its uncompressed size, which gave exactly this picture; it now charges what Kinesis stores."));
            }

            foreach (var r in group.Skip(1))
            {
                string tag = r.Name.StartsWith("(b)", StringComparison.Ordinal) ? "b/a" : "c/a";
                string who = tag == "b/a" ? "producer" : "producer + zstd";
                headlines.Add(new Headline($"Events/s per shard under Kinesis limits, {size} B events: {who} ÷ plain PutRecords ({tag})",
                    Markdown.N(r.EventsPerSecondPerShard), Markdown.N(plain.EventsPerSecondPerShard), Markdown.Ratio(r.EventsPerSecondPerShard / plain.EventsPerSecondPerShard)));
                headlines.Add(new Headline($"Monthly cost of 10,000 events/s of {size} B, provisioned: plain PutRecords ÷ {who}",
                    "$" + Markdown.N((double)r.Estimate!.Cost.Provisioned.MonthlyTotal, 2), "$" + Markdown.N((double)plain.Estimate!.Cost.Provisioned.MonthlyTotal, 2),
                    Markdown.Ratio((double)plain.Estimate.Cost.Provisioned.MonthlyTotal / (double)r.Estimate.Cost.Provisioned.MonthlyTotal)));
            }
        }

        var plots = new List<string>();
        foreach (var size in results.Select(r => r.Size).Distinct())
        {
            plots.Add(context.SavePlot($"savings-{size}", $"Delivered events/s per shard, {size} B events, limits enforced ({Shards} shards)", plt =>
            {
                foreach (var r in results.Where(r => r.Size == size))
                {
                    var perSecond = r.Counts.DeliveredPerSecond;
                    var xs = Enumerable.Range(0, perSecond.Length).Select(i => i + 0.5).ToArray();
                    var ys = perSecond.Select(n => n / (double)Shards).ToArray();
                    var line = plt.Add.Scatter(xs, ys);
                    line.LegendText = r.Name;
                    line.MarkerSize = 4;
                }

                plt.ShowLegend(ScottPlot.Alignment.UpperRight);
                plt.XLabel("seconds");
                plt.YLabel("events/s per shard");
                double top = results.Where(r => r.Size == size).SelectMany(r => r.Counts.DeliveredPerSecond).DefaultIfEmpty(1).Max() / (double)Shards;
                plt.Axes.SetLimitsY(0, Math.Max(1, top) * 1.15);
            }));
        }

        var prices = PriceTable.UsEast1;
        string markdown = $"""
            The same realistic clickstream events (Cloud.DataGenerator, shaped to ~200 B and ~1 KB of JSON; partition key =
            user id) sent to a local Kinesis through the loopback proxy that enforces Kinesis's per-shard limits (1,000
            records/s and 1 MiB/s per shard, ProvisionedThroughputExceeded per failed entry), on a fresh {Shards}-shard
            stream each, for {window.TotalSeconds:0} s each, with more load offered than the shards admit:

            - **(a) plain PutRecords** — AWSSDK.Kinesis as it comes, one Kinesis record per event, 500 per request, one
              request at a time; failed entries are resent in the next request after a 50 ms pause (what a .NET user
              writes today);
            - **(b) KinesisProducer** — this project's producer, KPL aggregation (51,200-byte aggregates), default options;
            - **(c) KinesisProducer + zstd** — the same with zstd-compressed aggregates.

            The emulator is kinesalite (kinesis-local, the default engine, stores only ~100–1,500 records/s on this machine:
            below the 1,000 records/s per shard being compared, it would decide (a) instead of the limits).
            Records and PUT payload units billed are counted by reading every shard back after the run
            (ceil((data + partition key) ÷ 25 KiB) per Kinesis record); "throttled entries" is what the proxy refused, a resent
            entry counted each time it was refused again.

            {Markdown.Table(["event", "sender", "delivered events/s per shard", "vs (a)", "throttled entries", "events offered", "Kinesis records per 1M events", "PUT payload units per 1M events", "avg Kinesis record", "MiB/s per shard written"], rows)}

            {string.Join("\n\n", plots)}

            **Monthly cost of 10,000 events/s** (us-east-1, `PriceTable.UsEast1` taken {prices.TakenOn}: shard-hour
            ${prices.ShardHour}, PUT payload units ${prices.PutPayloadUnitsPerMillion} per million, on-demand
            ${prices.OnDemandStreamHour}/stream-hour + ${prices.OnDemandDataInPerGb}/GB in with each record rounded up to
            1 KiB) from the project's shard calculator (docs/sizing.md) fed with each sender's measured aggregation and
            compression ratios; no consumers, 24 h retention. "(a) ÷" columns: how many times cheaper than plain PutRecords.{(clamped ? " The producer's measured aggregation ratio was above the calculator's bound for distinct keys (a repeated partition key is stored once per aggregate) and was clamped to it: (b) and (c) are priced conservatively." : "")}

            {Markdown.Table(["event", "sender", "shards needed", "provisioned / month", "on-demand / month", "(a) ÷ provisioned", "(a) ÷ on-demand"], costRows)}

            Delivered events/s of (b) and (c) are capped by 1 MiB/s per shard (compressed bytes for (c)), plain PutRecords by
            1,000 records/s per shard (a fresh shard's bucket holds one full second, so a short run shows a little more).
            A rate below those caps means the machine (producer CPU on 2 shared cores), not Kinesis, was the limit in that run:
            the cost table does not depend on it, only on the measured record sizes and ratios.
            {string.Join("\n", findings.Select(f => "\n**Finding:** " + f))}
            """;
        return new SectionResult(markdown, headlines);
    }

    /// <summary>(a): one request of 500 entries at a time, failed entries resent (after 50 ms) until they succeed.</summary>
    private static async Task<RunCounts> PlainPutRecordsAsync(IAmazonKinesis client, string stream, IReadOnlyList<ShapedEvent> events, TimeSpan window, CancellationToken ct)
    {
        var counts = new RunCounts(window);
        var clock = Stopwatch.StartNew();
        var pending = new List<int>(500);
        int next = 0;
        while (clock.Elapsed < window)
        {
            while (pending.Count < 500)
            {
                pending.Add(next++ % events.Count);
                counts.Offered++;
            }

            var request = new PutRecordsRequest
            {
                StreamName = stream,
                Records = [.. pending.Select(i => new PutRecordsRequestEntry { Data = new MemoryStream(events[i].Json, writable: false), PartitionKey = events[i].Key })],
            };
            var response = await client.PutRecordsAsync(request, ct);
            var failed = new List<int>();
            for (int j = 0; j < response.Records.Count; j++)
            {
                if (response.Records[j].ErrorCode is null)
                {
                    counts.Delivered(clock.Elapsed);
                }
                else
                {
                    failed.Add(pending[j]);
                }
            }

            pending = failed;
            if (failed.Count > 0)
            {
                await Task.Delay(50, ct);
            }
        }

        return counts;
    }

    /// <summary>(b), (c): events enqueued as fast as the producer accepts them (its buffer bounds the backlog).</summary>
    private static async Task<RunCounts> ProducerAsync(IAmazonKinesis client, string stream, IReadOnlyList<ShapedEvent> events, CompressionCodec codec, TimeSpan window, CancellationToken ct)
    {
        var counts = new RunCounts(window);
        var clock = Stopwatch.StartNew();
        long failures = 0;
        var producer = new KinesisProducer(client, new KinesisProducerOptions
        {
            StreamName = stream,
            Compression = codec,
            // About one second of what the shards admit: the backlog left at the end flushes quickly.
            MaxBufferedBytes = Shards * 1024L * 1024,
            RecordTtl = TimeSpan.FromMinutes(5),
            FailureHandler = _ => Interlocked.Increment(ref failures),
        });
        await using (producer)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            stop.CancelAfter(window);
            int next = 0;
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    var e = events[next++ % events.Count];
                    var delivery = await producer.EnqueueAsync(e.Json, e.Key, cancellationToken: stop.Token);
                    counts.Offered++;
                    _ = delivery.ContinueWith(
                        static (t, state) =>
                        {
                            var (c, sw) = ((RunCounts, Stopwatch))state!;
                            if (t.IsCompletedSuccessfully)
                            {
                                c.Delivered(sw.Elapsed);
                            }
                        },
                        (counts, clock), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
            }

            await producer.FlushAsync(ct);
        }

        if (Interlocked.Read(ref failures) > 0)
        {
            throw new InvalidOperationException($"The producer gave up on {failures} records: the comparison would count lost events as savings.");
        }

        return counts;
    }

    /// <summary>Every Kinesis record the stream holds (read directly, not through the proxy): what was billed.</summary>
    private static async Task<Billed> ReadBackAsync(IAmazonKinesis kinesis, string stream, long events, CancellationToken ct)
    {
        long records = 0, bytes = 0, units = 0;
        foreach (var shard in await kinesis.ListAllShardsAsync(stream, ct))
        {
            var iterator = (await kinesis.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = stream, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.TRIM_HORIZON }, ct)).ShardIterator;
            while (iterator is not null)
            {
                var page = await kinesis.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 10_000 }, ct);
                foreach (var record in page.Records)
                {
                    var data = record.Data.ToArray();
                    long size = data.Length + Encoding.UTF8.GetByteCount(record.PartitionKey);
                    records++;
                    bytes += size;
                    units += (size + PutPayloadUnitBytes - 1) / PutPayloadUnitBytes;
                }

                iterator = page.Records.Count == 0 && (page.MillisBehindLatest ?? 0) == 0 ? null : page.NextShardIterator;
            }
        }

        return new Billed(events, records, bytes, units);
    }

    private static AmazonKinesisClient Client(Uri endpoint, int maxErrorRetry) => KinesisClientFactory.Create(new KinesisConnectionOptions
    {
        ServiceUrl = endpoint,
        Region = "us-east-1",
        Credentials = new BasicAWSCredentials("test", "test"),
        MaxErrorRetry = maxErrorRetry,
    });

    /// <summary>Delivered events per second of the window, and how many were offered.</summary>
    private sealed class RunCounts(TimeSpan window)
    {
        private readonly long[] _perSecond = new long[(int)Math.Ceiling(window.TotalSeconds)];
        private long _total;

        public long Offered { get; set; }

        /// <summary>Events acknowledged within the window, per second.</summary>
        public long[] DeliveredPerSecond => [.. _perSecond];

        public long DeliveredInWindow => _perSecond.Sum();

        /// <summary>Every event acknowledged, within the window or when flushing after it.</summary>
        public long DeliveredTotal => Interlocked.Read(ref _total);

        public void Delivered(TimeSpan at)
        {
            Interlocked.Increment(ref _total);
            int second = (int)at.TotalSeconds;
            if (second < _perSecond.Length)
            {
                Interlocked.Increment(ref _perSecond[second]);
            }
        }
    }

    private sealed record Billed(long Events, long KinesisRecords, long KinesisBytes, long PutPayloadUnits);

    private sealed record VariantResult(string Name, int Size, double AverageEventBytes, TimeSpan Window, RunCounts Counts, long Throttled, Billed Billed)
    {
        public double EventsPerSecondPerShard => Counts.DeliveredInWindow / Window.TotalSeconds / Shards;

        /// <summary>Kinesis bytes (data + key) per second per shard the delivered events took.</summary>
        public double WrittenMiBPerSecondPerShard => EventsPerSecondPerShard * Billed.KinesisBytes / Math.Max(1, Billed.Events) / (1024 * 1024);

        public ShardEstimate? Estimate { get; set; }
    }

    /// <summary>A clickstream event shaped to about <c>size</c> bytes of JSON, and its partition key (the user id).</summary>
    private sealed record ShapedEvent(byte[] Json, string Key)
    {
        private static readonly string[] UserAgents =
        [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        ];

        public long Bytes => Json.Length + Encoding.UTF8.GetByteCount(Key);

        /// <summary>
        /// ~200 B: the event without the personal fields (name, email, ip) and the referrer; ~1 KB: the event with
        /// a user agent, the full URL with campaign parameters and the cart's items, as a web tracker sends them.
        /// </summary>
        public static List<ShapedEvent> Generate(int size, int count)
        {
            var random = new Random(size);
            var list = new List<ShapedEvent>(count);
            foreach (var e in new EventGenerator(new GeneratorOptions { Seed = 7 }).Take(count))
            {
                var json = JsonNode.Parse(e.Json)!.AsObject();
                if (size < 400)
                {
                    json.Remove("name");
                    json.Remove("email");
                    json.Remove("ip");
                    json.Remove("referrer");
                }
                else
                {
                    json["userAgent"] = UserAgents[random.Next(UserAgents.Length)];
                    json["url"] = $"https://shop.example.com{json["page"]}?utm_source=newsletter&utm_medium=email&utm_campaign=winter-sale-{random.Next(1, 40)}&session={random.NextInt64():x16}";
                    var items = new JsonArray();
                    while (Encoding.UTF8.GetByteCount(json.ToJsonString()) + 60 < size)
                    {
                        items.Add(new JsonObject { ["sku"] = $"SKU-{random.Next(10_000, 99_999)}", ["qty"] = random.Next(1, 4), ["price"] = Math.Round(random.NextDouble() * 200, 2) });
                        json["items"] = items.DeepClone();
                    }
                }

                list.Add(new ShapedEvent(Encoding.UTF8.GetBytes(json.ToJsonString()), e.UserId));
            }

            return list;
        }
    }
}
