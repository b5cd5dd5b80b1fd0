using System.Buffers.Binary;
using System.Collections;
using System.Diagnostics;
using System.Globalization;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Amazon.Runtime;
using Cloud.Emulators;
using Cloud.Emulators.Faults;
using Cloud.Emulators.Limits;
using Cloud.Kinesis;
using Cloud.Producer;
using Cloud.Records;

namespace Cloud.Benchmarks.Report.Sections;

/// <summary>
/// Reliability under faults: the producer sends keyed records (per-key sequence numbers in the payload) through the
/// fault-injecting proxy and the limit-enforcing proxy into kinesis-local; then every shard is read back and checked:
/// lost, per-key order, duplicates and what explains each of them.
/// </summary>
internal sealed class DeliverySection : IReportSection
{
    private const int PayloadBytes = 64;
    private const int Shards = 16;
    private const int FaultSeed = 20261207;
    private const int RequestEntries = 16;

    public string Id => "delivery";

    public int Order => 60;

    public string Title => "Reliability: delivery through injected faults";

    public async Task<SectionResult> RunAsync(ReportContext context, CancellationToken cancellationToken)
    {
        int total = context.Scale(1_000_000, 100_000);
        int keys = context.Scale(5_000, 1_000);
        int aggregateBytes = context.Scale(16_384, 8_192);
        ReportContext.Log($"delivery: starting kinesis-local for {total:N0} records");
        await using var host = await EmulatorHost.StartAsync(new EmulatorOptions { StartDynamoDb = false, LogLevel = "ERROR" }, cancellationToken);
        var credentials = new BasicAWSCredentials("test", "test");
        using var direct = KinesisClientFactory.Create(new KinesisConnectionOptions
        {
            ServiceUrl = host.KinesisEndpoint, Region = "us-east-1", Credentials = credentials, MaxErrorRetry = 4,
        });
        string stream = "reliability-" + Guid.NewGuid().ToString("N")[..8];
        ReportContext.Log("delivery: kinesis-local up; creating the stream");
        await direct.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = Shards }, cancellationToken);
        await direct.WaitForStreamActiveAsync(stream, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100), cancellationToken: cancellationToken);

        // producer → fault proxy → limit proxy (Kinesis's per-shard limits, real throttles) → kinesis-local
        await using var limits = KinesisLimitProxy.Start(host.KinesisEndpoint);
        var faults = new FaultOptions
        {
            Seed = FaultSeed,
            ThrottleRecordRate = 0.01,
            InternalFailureRecordRate = 0.01,
            ServerErrorRate = 0.03,
            SlowRate = 0.03,
            SlowDelay = TimeSpan.FromMilliseconds(300),
            DropBeforeForwardRate = 0.03,
            DropAfterForwardRate = 0.03,
        };
        await using var proxy = FaultInjectingProxy.Start(limits.Endpoint, faults);
        using var faulty = KinesisClientFactory.Create(new KinesisConnectionOptions
        {
            ServiceUrl = proxy.Endpoint, Region = "us-east-1", Credentials = credentials, MaxErrorRetry = 0, Timeout = TimeSpan.FromSeconds(20),
        });

        var run = await SendAsync(faulty, stream, total, keys, aggregateBytes, proxy, limits, cancellationToken);
        ReportContext.Log($"delivery: sent {total:N0} in {run.Elapsed.TotalSeconds:F1} s ({proxy.Counters}); reading back");
        var clock = Stopwatch.StartNew();
        var check = await ReadBackAsync(direct, stream, total, keys, proxy.LostAnswerRecords, cancellationToken);
        ReportContext.Log($"delivery: read back {check.Occurrences:N0} user records in {clock.Elapsed.TotalSeconds:F1} s");
        await direct.DeleteStreamAsync(new DeleteStreamRequest { StreamName = stream, EnforceConsumerDeletion = true }, cancellationToken);

        return Render(context, total, keys, aggregateBytes, faults, run, check, proxy.Counters, limits.Limits.Throttled);
    }

    // ------------------------------------------------------------------ send

    private sealed record Sample(double Seconds, long Completed, long Throttled, long Internal, long ServerErrors, long Slow, long DroppedBefore, long AnswersLost, long LimitThrottled);

    private sealed record SendRun(long Completed, long Failed, IReadOnlyList<string> FailureReasons, TimeSpan Elapsed, List<Sample> Timeline, (long Aggregates, long Records) WrongShard);

    private static async Task<SendRun> SendAsync(IAmazonKinesis client, string stream, int total, int keys, int aggregateBytes, FaultInjectingProxy proxy, KinesisLimitProxy limits, CancellationToken cancellationToken)
    {
        long completed = 0, failed = 0;
        var reasons = new List<string>();
        var timeline = new List<Sample>();
        var clock = Stopwatch.StartNew();
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
            do
            {
                var c = proxy.Counters;
                lock (timeline)
                {
                    timeline.Add(new Sample(clock.Elapsed.TotalSeconds, Interlocked.Read(ref completed), c.ThrottledRecords, c.InternalFailureRecords, c.ServerErrors, c.SlowRequests, c.DroppedBeforeForward, c.AnswersLost, limits.Limits.Throttled));
                }
            }
            while (await tick.WaitForNextTickAsync(sampling.Token).ConfigureAwait(false));
        }, CancellationToken.None);

        var options = new KinesisProducerOptions
        {
            StreamName = stream,
            RecordTtl = TimeSpan.FromMinutes(10),
            RandomSeed = FaultSeed,
            // Small aggregates and requests: many more requests for the faults to hit (defaults: 51,200 B and 500 entries).
            AggregationMaxSize = aggregateBytes,
            CollectionMaxCount = RequestEntries,
            FailureHandler = e => { lock (reasons) { reasons.Add(e.Reason.ToString()); } },
        };
        (long, long) wrongShard;
        var perKey = new int[keys];
        var payload = new byte[PayloadBytes];
        var keyNames = Enumerable.Range(0, keys).Select(k => "user-" + k.ToString("D6", CultureInfo.InvariantCulture)).ToArray();
        await using (var producer = new KinesisProducer(client, options))
        {
            for (int i = 0; i < total; i++)
            {
                // A fixed mix: every key gets a turn in a scrambled order, with per-key sequence numbers 0, 1, 2, ...
                int key = (int)((uint)(i * 2654435761u) % (uint)keys);
                WritePayload(payload, key, perKey[key]++, i);
                var task = await producer.EnqueueAsync(payload, keyNames[key], cancellationToken: cancellationToken);
                _ = task.ContinueWith(t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        Interlocked.Increment(ref completed);
                    }
                    else
                    {
                        Interlocked.Increment(ref failed);
                    }
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            await producer.FlushAsync(cancellationToken);
            wrongShard = producer.WrongShardResends;
        }
        // Every record has completed; their counting continuations may still be finishing on other threads.
        for (int wait = 0; Interlocked.Read(ref completed) + Interlocked.Read(ref failed) < total && wait < 1000; wait++)
        {
            await Task.Delay(10, cancellationToken);
        }
        var elapsed = clock.Elapsed;
        await sampling.CancelAsync();
        try
        {
            await sampler;
        }
        catch (OperationCanceledException)
        {
        }
        var c = proxy.Counters;
        timeline.Add(new Sample(elapsed.TotalSeconds, Interlocked.Read(ref completed), c.ThrottledRecords, c.InternalFailureRecords, c.ServerErrors, c.SlowRequests, c.DroppedBeforeForward, c.AnswersLost, limits.Limits.Throttled));
        return new SendRun(Interlocked.Read(ref completed), Interlocked.Read(ref failed), reasons, elapsed, timeline, wrongShard);
    }

    /// <summary>Payload: key index, per-key sequence, global index (int32 LE each), then filler up to 64 bytes.</summary>
    private static void WritePayload(byte[] payload, int key, int sequence, int index)
    {
        BinaryPrimitives.WriteInt32LittleEndian(payload, key);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(4), sequence);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(8), index);
        for (int j = 12; j < payload.Length; j++)
        {
            payload[j] = (byte)('a' + ((index + j) % 26));
        }
    }

    // ------------------------------------------------------------------ read back and check

    private sealed record Check(
        long Occurrences, long Distinct, long Lost, long OrderViolations, long Duplicates, long UnexplainedDuplicates,
        long KinesisRecords, long LostAnswerKinesisRecordsRead, long UserRecordsInLostAnswerRecords, long KclDropped, long MalformedPayloads);

    private static async Task<Check> ReadBackAsync(IAmazonKinesis client, string stream, int total, int keys, IReadOnlyCollection<LostAnswerRecord> lostAnswers, CancellationToken cancellationToken)
    {
        var lost = new HashSet<(string, string)>(lostAnswers.Select(l => (l.ShardId, l.SequenceNumber)));
        var seen = new BitArray(total);
        var firstInLostAnswer = new BitArray(total);
        var lastPerKey = new int[keys];
        Array.Fill(lastPerKey, -1);
        long occurrences = 0, distinct = 0, violations = 0, duplicates = 0, unexplained = 0, kinesisRecords = 0, lostRead = 0, inLost = 0, kclDropped = 0, malformed = 0;
        var users = new List<Cloud.Records.UserRecord>();
        // Fetch every shard at once (kinesis-local answers slowly), then check shard by shard in shard order.
        var shards = await client.ListAllShardsAsync(stream, cancellationToken);
        var fetched = await Task.WhenAll(shards.Select(shard => FetchShardAsync(client, stream, shard, cancellationToken)));
        foreach (var (shard, pages) in shards.Zip(fetched))
        {
            if (!PartitionKeyHash.TryParseHashKey(shard.HashKeyRange.StartingHashKey, out var start) || !PartitionKeyHash.TryParseHashKey(shard.HashKeyRange.EndingHashKey, out var end))
            {
                throw new InvalidOperationException($"Shard {shard.ShardId} has an unreadable hash key range.");
            }
            foreach (var page in pages)
            {
                foreach (var record in page.Records)
                {
                    kinesisRecords++;
                    users.Clear();
                    RecordDecoder.Default.Decode(record.Data.ToArray(), record.PartitionKey, record.SequenceNumber, null, users);
                    if (users.Count > 1 && !KclShardFilter.Keeps(users, start, end))
                    {
                        kclDropped += users.Count; // what the KCL would do with an aggregate written to the wrong shard
                        continue;
                    }
                    bool lostAnswer = lost.Contains((shard.ShardId, record.SequenceNumber));
                    if (lostAnswer)
                    {
                        lostRead++;
                        inLost += users.Count;
                    }
                    foreach (var user in users)
                    {
                        occurrences++;
                        var data = user.Data.Span;
                        int key = data.Length == PayloadBytes ? BinaryPrimitives.ReadInt32LittleEndian(data) : -1;
                        int sequence = data.Length == PayloadBytes ? BinaryPrimitives.ReadInt32LittleEndian(data[4..]) : -1;
                        int index = data.Length == PayloadBytes ? BinaryPrimitives.ReadInt32LittleEndian(data[8..]) : -1;
                        if ((uint)key >= (uint)keys || (uint)index >= (uint)total || sequence < 0)
                        {
                            malformed++;
                            continue;
                        }
                        if (seen[index])
                        {
                            // At-least-once: a copy of a record already read. Explained when one of its copies is in a
                            // Kinesis record whose PutRecords answer was lost (stored, then re-sent by the producer).
                            duplicates++;
                            if (!firstInLostAnswer[index] && !lostAnswer)
                            {
                                unexplained++;
                            }
                            continue;
                        }
                        seen[index] = true;
                        firstInLostAnswer[index] = lostAnswer;
                        distinct++;
                        if (sequence <= lastPerKey[key])
                        {
                            violations++;
                        }
                        lastPerKey[key] = Math.Max(lastPerKey[key], sequence);
                    }
                }
            }
        }
        return new Check(occurrences, distinct, total - distinct, violations, duplicates, unexplained, kinesisRecords, lostRead, inLost, kclDropped, malformed);
    }

    private static async Task<List<GetRecordsResponse>> FetchShardAsync(IAmazonKinesis client, string stream, Shard shard, CancellationToken cancellationToken)
    {
        var pages = new List<GetRecordsResponse>();
        string? iterator = (await client.GetShardIteratorAsync(new GetShardIteratorRequest
        {
            StreamName = stream, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.TRIM_HORIZON,
        }, cancellationToken)).ShardIterator;
        while (iterator is not null)
        {
            var page = await client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 10_000 }, cancellationToken);
            pages.Add(page);
            // kinesis-local: an open shard's iterator never ends; caught up and empty means the end of what was written.
            iterator = page.Records.Count == 0 && page.MillisBehindLatest is 0 or null ? null : page.NextShardIterator;
        }
        return pages;
    }

    // ------------------------------------------------------------------ report

    private static SectionResult Render(ReportContext context, int total, int keys, int aggregateBytes, FaultOptions faults, SendRun run, Check check, FaultCounters counters, long limitThrottled)
    {
        double perSecond = total / run.Elapsed.TotalSeconds;
        var timeline = run.Timeline;
        var progress = context.SavePlot("delivery-progress", "Delivered records and injected faults over time", plt =>
        {
            double[] xs = timeline.Select(s => s.Seconds).ToArray();
            var delivered = plt.Add.Scatter(xs, timeline.Select(s => s.Completed / 1000.0).ToArray());
            delivered.LegendText = "records delivered (thousands, left axis)";
            delivered.LineWidth = 2;
            delivered.MarkerSize = 0;
            (string Name, Func<Sample, long> Value)[] kinds =
            [
                ("throttled entries (injected)", s => s.Throttled),
                ("throttled entries (limit proxy)", s => s.LimitThrottled),
                ("InternalFailure entries", s => s.Internal),
                ("HTTP 500", s => s.ServerErrors),
                ("slow answers", s => s.Slow),
                ("connection reset before write", s => s.DroppedBefore),
                ("answer lost after write", s => s.AnswersLost),
            ];
            foreach (var (name, value) in kinds)
            {
                var line = plt.Add.Scatter(xs, timeline.Select(s => (double)value(s)).ToArray());
                line.LegendText = name + " (right axis)";
                line.MarkerSize = 0;
                line.Axes.YAxis = plt.Axes.Right;
            }
            plt.XLabel("seconds");
            plt.YLabel("thousand records delivered");
            plt.Axes.Right.Label.Text = "faults so far";
            plt.ShowLegend(ScottPlot.Alignment.UpperLeft);
        });

        string reasons = run.FailureReasons.Count == 0 ? "none" : string.Join(", ", run.FailureReasons.GroupBy(r => r).Select(g => $"{g.Key} ×{g.Count()}"));
        var rows = new List<IReadOnlyList<string>>
        {
            Row("records sent (SendAsync/EnqueueAsync accepted)", total, ""),
            Row("completed as delivered", run.Completed, ""),
            Row("completed as failed", run.Failed, reasons),
            Row("distinct records read back", check.Distinct, Markdown.N(check.KinesisRecords) + " Kinesis records (KPL aggregates) over " + Shards + " shards"),
            Row("**lost** (sent, never read back)", check.Lost, "must be 0"),
            Row("**per-key order violations**", check.OrderViolations, "first copies read in shard order; must be 0"),
            Row("duplicates (extra copies read back)", check.Duplicates, "at-least-once; explained below"),
            Row("duplicates not explained by a lost answer", check.UnexplainedDuplicates, "must be 0"),
            Row("records dropped by the KCL shard rule", check.KclDropped, "aggregates on another shard than their keys hash to"),
            Row("unreadable payloads", check.MalformedPayloads, "must be 0"),
        };
        var faultRows = new List<IReadOnlyList<string>>
        {
            Row("PutRecords entries throttled (injected ProvisionedThroughputExceeded)", counters.ThrottledRecords, Markdown.Percent(faults.ThrottleRecordRate) + " of entries"),
            Row("PutRecords entries throttled by the limit proxy (1 MiB/s, 1,000 records/s per shard)", limitThrottled, "real shard limits"),
            Row("PutRecords entries failed with InternalFailure", counters.InternalFailureRecords, Markdown.Percent(faults.InternalFailureRecordRate) + " of entries"),
            Row("HTTP 500 answers", counters.ServerErrors, Markdown.Percent(faults.ServerErrorRate) + " of requests"),
            Row("slow answers (+" + faults.SlowDelay.TotalMilliseconds + " ms)", counters.SlowRequests, Markdown.Percent(faults.SlowRate) + " of requests"),
            Row("connections reset before the write", counters.DroppedBeforeForward, Markdown.Percent(faults.DropBeforeForwardRate) + " of requests"),
            Row("connections reset after the write (answer lost)", counters.DroppedAfterForward, Markdown.Percent(faults.DropAfterForwardRate) + " of requests"),
            Row("requests through the fault proxy", counters.Requests, ""),
        };
        bool clean = check.Lost == 0 && check.OrderViolations == 0 && check.UnexplainedDuplicates == 0 && check.MalformedPayloads == 0 && run.Failed == 0;
        bool bounded = check.Duplicates <= check.UserRecordsInLostAnswerRecords;
        string markdown = $"""
            {Markdown.N(total)} records of {PayloadBytes} bytes over {Markdown.N(keys)} partition keys (each payload carries its key, its
            per-key sequence number and its global index) sent by `KinesisProducer` (aggregation on, {Markdown.N(aggregateBytes)}-byte aggregates and at most {RequestEntries} per
            PutRecords so that faults hit many requests; defaults otherwise; SDK retries off, so every fault reaches the producer's own retry layer) through `FaultInjectingProxy` (seed {FaultSeed})
            and `KinesisLimitProxy` into kinesis-local, {Shards} shards. Then every shard is read from TRIM_HORIZON with
            GetRecords, deaggregated with `RecordDecoder`, filtered with the KCL shard rule, and checked.
            Sending took {Markdown.N(run.Elapsed.TotalSeconds, 1)} s: **{Markdown.N(perSecond)} records/s** with faults and limits.

            {Markdown.Table(["delivery", "records", "note"], rows)}
            **Duplicates explained.** A duplicate is a record whose PutRecords request was stored by Kinesis but whose answer
            never reached the producer (the proxy broke the connection after forwarding); the producer cannot tell that from a
            request that was never written, so it sends the records again — at-least-once, as Kinesis documents. The proxy
            notes the sequence number of every record stored with a lost answer: {Markdown.N(counters.AnswersLost)} requests lost
            their answer, carrying {Markdown.N(counters.LostAnswerRecords)} Kinesis records, of which {Markdown.N(check.LostAnswerKinesisRecordsRead)} were read back
            holding {Markdown.N(check.UserRecordsInLostAnswerRecords)} user records. The {Markdown.N(check.Duplicates)} duplicates are
            {(bounded ? "within" : "**over**")} that bound, and every duplicate has a copy inside one of those Kinesis records
            ({Markdown.N(check.UnexplainedDuplicates)} unexplained). Wrong-shard re-sends by the producer: {Markdown.N(run.WrongShard.Aggregates)} (no reshard here).
            A consumer that needs exactly-once drops a record whose (key, per-key sequence) it has seen.

            {Markdown.Table(["fault injected", "count", "rate"], faultRows)}
            The limit proxy throttles only when a shard goes over Kinesis's limits: here each shard took about
            {Markdown.N(total * (PayloadBytes + 11.0) / run.Elapsed.TotalSeconds / Shards / 1024)} KiB/s and {Markdown.N(check.KinesisRecords / run.Elapsed.TotalSeconds / Shards)} Kinesis records/s
            (kinesis-local, not the shard limits, bounds this run), so its throttle count is the real one: {Markdown.N(limitThrottled)}.

            {progress}
            """;
        return new SectionResult(markdown,
        [
            new Headline("Records lost / per-key order violations under faults", $"{Markdown.N(check.Lost)} / {Markdown.N(check.OrderViolations)} of {Markdown.N(total)}", "", "", "0 / 0", clean ? "met" : "missed"),
            new Headline("Duplicates, all explained by lost answers", $"{Markdown.N(check.Duplicates)} (≤ {Markdown.N(check.UserRecordsInLostAnswerRecords)})", "", "", "explained", check.UnexplainedDuplicates == 0 && bounded ? "met" : "missed"),
            new Headline("Producer records/s through faults and shard limits", Markdown.N(perSecond) + " records/s", Shards + " shards, kinesis-local", "", "report", ""),
        ]);

        static IReadOnlyList<string> Row(string what, long count, string note) => [what, Markdown.N(count), note];
    }
}
