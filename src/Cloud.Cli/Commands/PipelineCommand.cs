using System.CommandLine;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Amazon.DynamoDBv2.Model;
using Cloud.Cli.Infrastructure;
using Cloud.DataGenerator;
using Cloud.Emulators;
using Cloud.EventSourceMapping;
using Cloud.Functions.Aggregator;
using Cloud.Kinesis;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Privacy;
using Cloud.Producer;
using Cloud.Records;
using Cloud.Sizing;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cloud.Cli.Commands;

/// <summary>
/// <c>cloud pipeline</c> — the main job: emulators, a sized stream, generator → producer (with
/// field encryption) → stream → local event-source mapping → Aggregator → aggregates table, and a
/// live dashboard. Ctrl+C flushes and stops cleanly.
/// </summary>
public static class PipelineCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Create(CliConsole console)
    {
        var stream = new Option<string>("--stream") { Description = "Stream to create or reuse", DefaultValueFactory = _ => "cloud-pipeline" };
        var rate = new Option<double>("--rate") { Description = "Generated events per second", DefaultValueFactory = _ => 2_000 };
        var duration = new Option<double?>("--duration") { Description = "Seconds to run (default: until Ctrl+C; 60 without a terminal)" };
        var kind = new Option<string>("--kind") { Description = "Events: clickstream or ride-pricing", DefaultValueFactory = _ => "clickstream" };
        kind.AcceptOnlyFromAmong("clickstream", "ride-pricing");
        var seed = new Option<int>("--seed") { Description = "Generator seed", DefaultValueFactory = _ => 42 };
        var shards = new Option<int?>("--shards") { Description = "Override the calculator's shard count" };
        var window = new Option<int?>("--window-seconds") { Description = "Tumbling window of the Aggregator (default: cdk.json's cloud:aggregatorEventSource.tumblingWindowSeconds, else 10)" };
        var batchSize = new Option<int?>("--batch-size") { Description = "Records per Aggregator invoke (default: cdk.json's batchSize, else 100)" };
        var keyFieldOption = new Option<string?>("--key-field") { Description = "Field the Aggregator groups by (default: cdk.json's cloud:aggregatorFunction.keyField, else page / zone)" };
        var cdkJson = new Option<string?>("--cdk-json") { Description = "cdk.json whose context gives the event-source settings (default: the nearest one above the current folder)" };
        var forgetDemo = new Option<bool>("--forget-demo") { Description = "Forget the most active user half-way and show their records turn redacted" };
        var compress = RecordsCommand.CodecOption();
        var command = new Command("pipeline", "Run the whole pipeline locally with a live dashboard (the project's main job)") { stream, rate, duration, kind, seed, shards, window, batchSize, keyFieldOption, cdkJson, forgetDemo, compress, SchemaRecords.PipelineSchemaFormat };
        // Checked in the action, not in a command validator: a validator sees 0 for an option left at its
        // DefaultValueFactory value (System.CommandLine 2.0), which rejected the plain `cloud pipeline`.
        command.SetAction((parse, ct) =>
        {
            var settings = new Settings(
                parse.GetValue(stream)!, parse.GetValue(rate), parse.GetValue(duration) ?? (console.Interactive ? null : 60),
                parse.GetValue(kind) == "ride-pricing" ? EventKind.RidePricing : EventKind.Clickstream, parse.GetValue(seed),
                parse.GetValue(shards), parse.GetValue(window), parse.GetValue(forgetDemo), RecordsCommand.ParseCodec(parse.GetValue(compress)!))
            {
                BatchSize = parse.GetValue(batchSize),
                KeyField = parse.GetValue(keyFieldOption),
                CdkJson = parse.GetValue(cdkJson),
            };
            Validate(settings);
            return RunAsync(console, parse, settings, ct);
        });
        return command;
    }

    /// <summary>The dashboard's records/s in and out are averages over this much of the recent run.</summary>
    private static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(5);

    /// <summary>Every problem with the settings in one usage error (exit code 2).</summary>
    private static void Validate(Settings settings)
    {
        var problems = new List<string>();
        if (settings.Rate is <= 0 or > 1_000_000 || double.IsNaN(settings.Rate))
        {
            problems.Add($"--rate must be greater than 0 and at most 1,000,000 events/s (was {settings.Rate.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (settings.Duration is { } seconds && (seconds <= 0 || double.IsNaN(seconds)))
        {
            problems.Add($"--duration must be positive (was {seconds.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (settings.Shards is < 1 or > 50)
        {
            problems.Add($"--shards must be between 1 and 50 (was {settings.Shards}).");
        }

        if (settings.BatchSize is < 1 or > 10_000)
        {
            problems.Add($"--batch-size must be between 1 and 10,000 (was {settings.BatchSize}).");
        }

        if (settings.WindowSeconds is < 1 or > 900)
        {
            problems.Add($"--window-seconds must be between 1 and 900 (was {settings.WindowSeconds}).");
        }

        if (problems.Count > 0)
        {
            throw CliException.Usage(string.Join(Environment.NewLine, problems));
        }
    }

    private sealed record Settings(string Stream, double Rate, double? Duration, EventKind Kind, int Seed, int? Shards, int? WindowSeconds, bool ForgetDemo, CompressionCodec Compression)
    {
        public int? BatchSize { get; init; }

        public string? KeyField { get; init; }

        public string? CdkJson { get; init; }
    }

    private static async Task<int> RunAsync(CliConsole console, ParseResult parse, Settings settings, CancellationToken ct)
    {
        CloudConnection.SafeLocalEnvironment();
        var json = parse.GetValue(GlobalOptions.Json);
        void Say(string text)
        {
            if (!json)
            {
                console.Error.WriteLine(text);
            }
        }

        // 1. Emulators: explicit endpoints, a running 'cloud local up', or our own for this run.
        EmulatorHost? host = null;
        CloudConnection connection;
        var explicitEndpoints = parse.GetValue(GlobalOptions.Endpoint) is not null || parse.GetValue(GlobalOptions.Local);
        if (!explicitEndpoints && await LocalStack.ReadRunningAsync(ct).ConfigureAwait(false) is null)
        {
            Say("Starting kinesis-local and dynalite (the first run installs them with npm)...");
            try
            {
                host = await EmulatorHost.StartAsync(new EmulatorOptions(), ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is EmulatorStartException or NodeToolsException)
            {
                throw new CliException(ExitCodes.Unreachable, "could not start the emulators: " + ex.Message, ex);
            }
        }

        try
        {
            connection = host is not null
                ? CloudConnection.ForEmulators(host.KinesisEndpoint, host.DynamoDbEndpoint, parse.GetValue(GlobalOptions.Region))
                : await CloudConnection.FromAsync(explicitEndpoints ? parse : parse.RootCommandResult.Command.Parse(["pipeline", "--local"]), ct).ConfigureAwait(false);
            using (connection)
            {
                if (connection.DynamoDbEndpoint is null && connection.IsLocal)
                {
                    throw CliException.Usage("pipeline needs a DynamoDB endpoint too: add --dynamodb-endpoint.");
                }

                return await RunPipelineAsync(console, parse, settings, connection, Say, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            if (host is not null)
            {
                Say("Stopping the emulators...");
                await host.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task<int> RunPipelineAsync(CliConsole console, ParseResult parse, Settings settings, CloudConnection connection, Action<string> say, CancellationToken ct)
    {
        var kinesis = connection.Kinesis;
        var json = parse.GetValue(GlobalOptions.Json);
        var generatorOptions = new GeneratorOptions { Kind = settings.Kind, Seed = settings.Seed };

        // 2. Size the stream from a measured sample of the generator's own events.
        var sample = new MemoryStream();
        foreach (var e in new EventGenerator(generatorOptions with { Seed = settings.Seed + 1 }).Take(2_000))
        {
            sample.Write(e.Json);
            sample.WriteByte((byte)'\n');
        }

        sample.Position = 0;
        var measured = await RecordSampleMeasurer.MeasureAsync(sample, new RecordSampleOptions { Codec = settings.Compression }, ct).ConfigureAwait(false);
        var estimate = new ShardCalculator().Calculate(new WorkloadProfile
        {
            AverageRecordsPerSecond = settings.Rate,
            PeakRecordsPerSecond = settings.Rate * 1.5,
            AverageRecordBytes = measured.AverageUserRecordBytes,
            Consumers = [new ConsumerProfile("aggregator", ConsumerMode.SharedThroughput, 5_000, 60)],
        }.WithMeasurement(measured));
        var shardCount = settings.Shards ?? Math.Max(2, estimate.Shards);
        say($"Shard calculator: {estimate.Shards} shard(s) for {settings.Rate:N0} events/s of {measured.AverageUserRecordBytes:0} bytes (decided by {SizeCommand.Camel(estimate.DecidingConstraint)}; aggregation {measured.AggregationRatio:0}:1); using {shardCount}.");

        // 3. The stream (reused if it exists) and the tables.
        try
        {
            await kinesis.CreateStreamAsync(new CreateStreamRequest { StreamName = settings.Stream, ShardCount = shardCount }, ct).ConfigureAwait(false);
            say($"Created stream {settings.Stream} with {shardCount} shards.");
        }
        catch (Amazon.Kinesis.Model.ResourceInUseException)
        {
            say($"Reusing stream {settings.Stream}.");
        }

        await WaitActiveAsync(kinesis, settings.Stream, ct).ConfigureAwait(false);
        // One configuration: the event-source settings the CDK app deploys (cdk.json), then the flags.
        var cdkPath = settings.CdkJson ?? CdkEventSourceSettings.Find(Environment.CurrentDirectory);
        CdkEventSourceSettings? deployed;
        try
        {
            deployed = cdkPath is null ? null : CdkEventSourceSettings.Load(cdkPath);
        }
        catch (Exception ex) when (ex is CdkContextException or IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.InvalidInput, ex.Message);
        }

        var keyField = settings.KeyField ?? deployed?.KeyField ?? (settings.Kind == EventKind.Clickstream ? "page" : "zone");
        var aggregatorConfig = new AggregatorConfig
        {
            TableName = "cloud-aggregates",
            KeyField = keyField,
            SumFields = settings.Kind == EventKind.Clickstream ? ["amount", "durationMs"] : ["price", "surgeMultiplier"],
            TopKField = settings.Kind == EventKind.Clickstream ? "country" : "weather",
            TopKSize = 3,
        };
        using var privacy = await PrivacyFactory.CreateAsync(parse, connection, "userId", ["name", "email", "ip"], ct).ConfigureAwait(false);
        await using var aggregatorHandle = new AsyncDisposer(await OpsCommands.CreateHandlerAsync("aggregator", parse, connection, ct, aggregatorConfig).ConfigureAwait(false));

        // 4. The local event-source mapping with the Aggregator, checkpoints in DynamoDB.
        var failures = new InMemoryOnFailureDestination();
        var esmOptions = new EventSourceMappingOptions
        {
            StreamName = settings.Stream,
            BatchSize = 100,
            TumblingWindowInSeconds = 10,
            BisectBatchOnFunctionError = true,
            MaximumRetryAttempts = 3,
            OnFailureDestination = failures,
            Region = connection.Region,
        };
        esmOptions.FunctionResponseTypes.Add(EventSourceMappingOptions.ReportBatchItemFailures);
        deployed?.ApplyTo(esmOptions);
        esmOptions.BatchSize = settings.BatchSize ?? esmOptions.BatchSize;
        esmOptions.TumblingWindowInSeconds = settings.WindowSeconds ?? esmOptions.TumblingWindowInSeconds;
        say($"Event source: batch {esmOptions.BatchSize}, batching window {esmOptions.MaximumBatchingWindowInSeconds} s, tumbling window {esmOptions.TumblingWindowInSeconds} s, "
            + $"{esmOptions.MaximumRetryAttempts} retries, bisect {(esmOptions.BisectBatchOnFunctionError ? "on" : "off")}, key '{keyField}'"
            + (deployed is null ? " (defaults; no cdk.json)." : $" (from {deployed.Path}; flags override)."));
        var checkpoints = new DynamoDbCheckpointStore(connection.DynamoDb);
        await checkpoints.EnsureTableAsync(ct).ConfigureAwait(false);
        await using var runner = new LocalEventSourceMapping(esmOptions, kinesis, aggregatorHandle.Handle.Invoke, checkpoints);
        await runner.StartAsync(ct).ConfigureAwait(false);

        // 5. Generator → field encryption → producer, at the chosen rate.
        var state = new DashboardState(settings) { Schema = await SchemaRecords.PipelineSchema.RegisterAsync(parse, connection.DynamoDb, settings.Kind, ct).ConfigureAwait(false) };
        var deliveryFailures = 0L;
        await using var producer = new KinesisProducer(connection.ProducerKinesis, new KinesisProducerOptions
        {
            StreamName = settings.Stream,
            Compression = settings.Compression,
            FailureHandler = _ => Interlocked.Increment(ref deliveryFailures),
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (settings.Duration is { } seconds)
        {
            stop.CancelAfter(TimeSpan.FromSeconds(seconds));
        }

        var demoUser = EventGenerator.UserId(0);
        var produceTask = ProduceAsync(producer, privacy, generatorOptions, settings, state, demoUser, stop.Token);
        var clock = Stopwatch.StartNew();
        var forgotten = false;
        // Rates are averages over the last RateWindow of ticks: the producer makes records durable in bursts (one
        // PutRecords per shard and linger), so a per-tick difference jumps between 0 and several times the real rate.
        var samples = new Queue<(TimeSpan At, long Durable, long Processed)>();
        samples.Enqueue((TimeSpan.Zero, 0, 0));

        async Task TickAsync()
        {
            var elapsed = clock.Elapsed;
            var stats = runner.GetStatistics();
            var durable = Interlocked.Read(ref state.Durable);
            samples.Enqueue((elapsed, durable, stats.RecordsProcessed));
            while (samples.Count > 2 && elapsed - samples.ElementAt(1).At >= RateWindow)
            {
                samples.Dequeue();
            }

            var oldest = samples.Peek();
            var dt = Math.Max((elapsed - oldest.At).TotalSeconds, 1e-3);
            state.InPerSecond = (durable - oldest.Durable) / dt;
            state.OutPerSecond = (stats.RecordsProcessed - oldest.Processed) / dt;
            state.Processed = stats.RecordsProcessed;
            state.OnFailure = stats.OnFailureRecords;
            state.Windows = stats.WindowsClosed;
            state.Lag = runner.GetLag();
            state.DeliveryFailures = Interlocked.Read(ref deliveryFailures);
            if (settings.ForgetDemo && !forgotten && settings.Duration is { } total && elapsed.TotalSeconds >= total / 2)
            {
                forgotten = true;
                var result = await privacy.Shredder.ForgetAsync(demoUser, CancellationToken.None).ConfigureAwait(false);
                state.ForgetNote = $"forgot {demoUser} at {elapsed.TotalSeconds:0}s ({result.Outcome})";
            }

            if (settings.ForgetDemo)
            {
                state.DemoRecord = await ReadDemoRecordAsync(kinesis, privacy, settings.Stream, state, demoUser, CancellationToken.None).ConfigureAwait(false);
            }

            state.Aggregates = await LatestAggregatesAsync(connection, aggregatorConfig.TableName, CancellationToken.None).ConfigureAwait(false);
        }

        if (console.Interactive && !parse.GetValue(GlobalOptions.Json))
        {
            await console.Human.Live(Render(state)).StartAsync(async live =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await Delay(stop.Token).ConfigureAwait(false);
                    await TickAsync().ConfigureAwait(false);
                    live.UpdateTarget(Render(state));
                }
            }).ConfigureAwait(false);
        }
        else
        {
            var next = TimeSpan.FromSeconds(5);
            while (!stop.IsCancellationRequested)
            {
                await Delay(stop.Token).ConfigureAwait(false);
                await TickAsync().ConfigureAwait(false);
                if (clock.Elapsed >= next && !json)
                {
                    next += TimeSpan.FromSeconds(5);
                    console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{clock.Elapsed.TotalSeconds,4:0}s] in {state.InPerSecond,8:N0}/s  out {state.OutPerSecond,6:N0} Kinesis records/s  durable {state.Durable:N0}  lag {state.Lag.Sum(l => l.RecordsBehind ?? 0):N0}{(state.ForgetNote is null ? string.Empty : "  " + state.ForgetNote)}"));
                }
            }
        }

        // 6. Clean stop: finish producing, flush, let the runner drain briefly, then stop.
        say("Stopping: flushing the producer and draining the consumer...");
        await produceTask.ConfigureAwait(false);
        await producer.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        var drainUntil = Stopwatch.StartNew();
        while (drainUntil.Elapsed < TimeSpan.FromSeconds(20) && runner.GetLag().Any(l => (l.RecordsBehind ?? 0) > 0 || (l.MillisBehindLatest ?? 0) > 0))
        {
            await Task.Delay(500, CancellationToken.None).ConfigureAwait(false);
        }

        await runner.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await TickAsync().ConfigureAwait(false);
        if (json)
        {
            console.WriteJsonLine(w =>
            {
                w.WriteStartObject();
                w.WriteString("stream", settings.Stream);
                w.WriteNumber("shards", shardCount);
                w.WriteNumber("calculatorShards", estimate.Shards);
                w.WriteString("decidingConstraint", SizeCommand.Camel(estimate.DecidingConstraint));
                w.WriteNumber("produced", state.Sent);
                w.WriteNumber("durable", state.Durable);
                w.WriteNumber("deliveryFailures", state.DeliveryFailures);
                w.WriteNumber("refusedForForgottenUser", state.Refused);
                w.WriteNumber("kinesisRecordsProcessed", state.Processed);
                w.WriteNumber("windowsClosed", state.Windows);
                w.WriteNumber("onFailureRecords", state.OnFailure);
                SchemaRecords.WritePipelineSchema(w, state.Schema?.Version);
                w.WriteStartObject("perShard");
                foreach (var (shard, n) in state.PerShard.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    w.WriteNumber(shard, n);
                }

                w.WriteEndObject();
                if (state.ForgetNote is not null)
                {
                    w.WriteString("forget", state.ForgetNote);
                    w.WriteString("demoRecordAfterForget", state.DemoRecord);
                }

                w.WriteEndObject();
            });
        }
        else
        {
            console.Human.Write(Render(state));
            console.Out.WriteLine();
            console.Out.WriteLine($"Done: {state.Durable:N0} events durable on {shardCount} shards, {state.Processed:N0} Kinesis records aggregated into {state.Windows:N0} windows; {state.DeliveryFailures:N0} delivery failures, {state.OnFailure:N0} on-failure records.");
        }

        return ct.IsCancellationRequested ? ExitCodes.Cancelled : state.DeliveryFailures > 0 ? ExitCodes.Failure : ExitCodes.Success;
    }

    private static async Task Delay(CancellationToken ct)
    {
        try
        {
            await Task.Delay(1000, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task ProduceAsync(KinesisProducer producer, PrivacyRuntime privacy, GeneratorOptions options, Settings settings, DashboardState state, string demoUser, CancellationToken ct)
    {
        await Task.Yield();
        var generator = new EventGenerator(options);
        var clock = Stopwatch.StartNew();
        var pending = new List<Task>();
        long i = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var due = TimeSpan.FromSeconds(i / settings.Rate);
                if (due > clock.Elapsed)
                {
                    await Task.Delay(due - clock.Elapsed, ct).ConfigureAwait(false);
                }

                var e = generator.Next();
                i++;
                ProtectResult protectedData;
                try
                {
                    protectedData = await privacy.Protector.EncryptAsync(e.Json, settings.Stream, ct).ConfigureAwait(false);
                }
                catch (UserForgottenException)
                {
                    Interlocked.Increment(ref state.Refused);
                    continue;
                }

                // No partition key: the producer spreads records evenly over the shards with explicit hash keys.
                var send = producer.SendAsync(state.Schema is null ? protectedData.Json : state.Schema.Encode(protectedData.Json), partitionKey: null, cancellationToken: CancellationToken.None);
                Interlocked.Increment(ref state.Sent);
                pending.Add(Track(send, state, e.UserId == demoUser));
                if (pending.Count > 10_000)
                {
                    pending.RemoveAll(t => t.IsCompleted);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
    }

    private static async Task Track(ValueTask<SendResult> send, DashboardState state, bool isDemoUser)
    {
        try
        {
            var result = await send.ConfigureAwait(false);
            Interlocked.Increment(ref state.Durable);
            state.PerShard.AddOrUpdate(result.ShardId, 1, (_, n) => n + 1);
            if (isDemoUser)
            {
                state.DemoPosition = (result.ShardId, result.SequenceNumber, result.SubSequenceNumber ?? 0);
            }
        }
        catch (RecordDeliveryException)
        {
            // Counted by the producer's failure handler.
        }
    }

    private static async Task<string?> ReadDemoRecordAsync(IAmazonKinesis kinesis, PrivacyRuntime privacy, string stream, DashboardState state, string demoUser, CancellationToken ct)
    {
        if (state.DemoPosition is not var (shardId, sequence, sub) || shardId is null)
        {
            return state.DemoRecord;
        }

        var iterator = await kinesis.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = stream, ShardId = shardId, ShardIteratorType = ShardIteratorType.AT_SEQUENCE_NUMBER, StartingSequenceNumber = sequence }, ct).ConfigureAwait(false);
        var page = await kinesis.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator.ShardIterator, Limit = 1 }, ct).ConfigureAwait(false);
        foreach (var record in page.Records)
        {
            foreach (var user in RecordDecoder.Default.Decode(ConsumeCommand.Bytes(record.Data), record.PartitionKey, record.SequenceNumber))
            {
                if (user.SubSequenceNumber != sub && user.IsAggregated)
                {
                    continue;
                }

                var revealed = await privacy.Protector.DecryptAsync(state.Schema is null ? user.Data : await state.Schema.DecodeAsync(user.Data, ct).ConfigureAwait(false), stream, ct).ConfigureAwait(false);
                var text = Encoding.UTF8.GetString(revealed.Json.Span);
                return $"{demoUser} @ {sequence}/{sub}: {text}";
            }
        }

        return state.DemoRecord;
    }

    private static async Task<IReadOnlyList<(string Window, string Key, long Count)>> LatestAggregatesAsync(CloudConnection connection, string table, CancellationToken ct)
    {
        try
        {
            var scan = await connection.DynamoDb.ScanAsync(new ScanRequest { TableName = table, ProjectionExpression = "pk, sk, #c", ExpressionAttributeNames = new Dictionary<string, string> { ["#c"] = "count" } }, ct).ConfigureAwait(false);
            var rows = (scan.Items ?? []).Select(i => (Window: i["sk"].S, Key: i["pk"].S, Count: long.Parse(i.TryGetValue("count", out var c) ? c.N : "0", CultureInfo.InvariantCulture))).ToList();
            if (rows.Count == 0)
            {
                return [];
            }

            var latest = rows.Max(r => r.Window)!;
            return [.. rows.Where(r => r.Window == latest).OrderByDescending(r => r.Count).Take(8)];
        }
        catch (Amazon.Runtime.AmazonServiceException)
        {
            return [];
        }
    }

    private static async Task WaitActiveAsync(IAmazonKinesis client, string stream, CancellationToken ct)
    {
        try
        {
            await client.WaitForStreamActiveAsync(stream, TimeSpan.FromMinutes(2), TimeSpan.FromMilliseconds(200), cancellationToken: ct).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new CliException(ExitCodes.Failure, $"stream {stream} did not become ACTIVE.", ex);
        }
    }

    private static IRenderable Render(DashboardState s)
    {
        var ci = CultureInfo.InvariantCulture;
        var flow = new Table().Title("Flow").AddColumns("In (events/s)", "Out (Kinesis records/s)", "Durable", "Processed", "Windows closed", "On-failure", "Refused (forgotten)");
        flow.AddRow(s.InPerSecond.ToString("N0", ci), s.OutPerSecond.ToString("N0", ci), s.Durable.ToString("N0", ci), s.Processed.ToString("N0", ci), s.Windows.ToString("N0", ci), s.OnFailure.ToString("N0", ci), s.Refused.ToString("N0", ci));
        var total = Math.Max(1, s.PerShard.Values.Sum());
        var shards = new Table().Title("Shards: balance and consumer lag").AddColumns("Shard", "Events", "Share", "Records behind", "ms behind tip");
        foreach (var shard in s.PerShard.Keys.Union(s.Lag.Select(l => l.ShardId)).Order(StringComparer.Ordinal))
        {
            var n = s.PerShard.GetValueOrDefault(shard);
            var lag = s.Lag.FirstOrDefault(l => l.ShardId == shard);
            shards.AddRow(shard, n.ToString("N0", ci), ((double)n / total).ToString("P1", ci), lag?.RecordsBehind?.ToString("N0", ci) ?? "?", lag?.MillisBehindLatest?.ToString("N0", ci) ?? "?");
        }

        var aggregates = new Table().Title("Latest window aggregates").AddColumns("Window", "Key", "Count");
        foreach (var (window, key, count) in s.Aggregates)
        {
            aggregates.AddRow(Markup.Escape(window), Markup.Escape(key), count.ToString("N0", ci));
        }

        var rows = new List<IRenderable> { flow, shards, aggregates };
        rows.Insert(0, new Markup(Markup.Escape("Schema: " + (s.Schema?.Label ?? "none (plain JSON)"))));
        if (s.Settings.ForgetDemo)
        {
            rows.Add(new Panel(new Markup(Markup.Escape((s.ForgetNote ?? "forget pending (half-way through --duration)") + Environment.NewLine + (s.DemoRecord ?? "waiting for a record of the demo user")))).Header("Forget demo"));
        }

        return new Rows(rows);
    }

    private sealed class DashboardState(Settings settings)
    {
        public Settings Settings { get; } = settings;
        public long Sent;
        public long Durable;
        public long Refused;
        public long DeliveryFailures;
        public long Processed;
        public long OnFailure;
        public long Windows;
        public double InPerSecond;
        public double OutPerSecond;
        public IReadOnlyList<ShardLag> Lag = [];
        public IReadOnlyList<(string Window, string Key, long Count)> Aggregates = [];
        public string? ForgetNote;
        public string? DemoRecord;
        public SchemaRecords.PipelineSchema? Schema;
        public (string? ShardId, string Sequence, long Sub)? DemoPosition;

        public ConcurrentDictionary<string, long> PerShard { get; } = new(StringComparer.Ordinal);
    }

    private sealed class AsyncDisposer(OpsCommands.FunctionHandle handle) : IAsyncDisposable
    {
        public OpsCommands.FunctionHandle Handle { get; } = handle;

        public ValueTask DisposeAsync()
        {
            Handle.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
