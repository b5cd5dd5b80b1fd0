using System.CommandLine;
using Amazon.DynamoDBv2.Model;
using Cloud.Cli.Commands.Pipeline;
using Cloud.Cli.Infrastructure;
using Cloud.Dashboard;
using Cloud.DataGenerator;
using Cloud.Emulators;
using Cloud.Producer;
using Spectre.Console;

namespace Cloud.Cli.Commands;

/// <summary>
/// <c>cloud pipeline</c> — the main job: emulators, a sized stream, generator → producer (with
/// field encryption) → stream → local event-source mapping → Aggregator → aggregates table, and a
/// live dashboard (terminal, <c>--json</c> summary, <c>--web</c> page). Ctrl+C flushes and stops cleanly.
/// The parts live in <c>Commands/Pipeline/</c>: setup, load generator, stats sampler, views.
/// </summary>
public static class PipelineCommand
{
    /// <summary>The per-user aggregates table (keyed by pseudonym), next to the per-page <c>cloud-aggregates</c>.</summary>
    public const string UserAggregatesTable = "cloud-aggregates-users";

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
        var web = WebView.WebOption();
        var noWeb = new Option<bool>("--no-web") { Description = "No web dashboard (overrides --web): the terminal view only" };
        var compress = RecordsCommand.CodecOption();
        var enforceLimits = new Option<bool>("--enforce-limits") { Description = "Enforce Kinesis's per-shard limits locally (1,000 records/s, 1 MiB/s, 5 GetRecords/s) through a proxy in front of the local Kinesis, for the producer and the consumers; local Kinesis only" };
        var noAggregation = new Option<bool>("--no-aggregation") { Description = "One Kinesis record per event (what plain PutRecords code does): see the per-shard limits bite" };
        var command = new Command("pipeline", "Run the whole pipeline locally with a live dashboard (the project's main job)") { stream, rate, duration, kind, seed, shards, window, batchSize, keyFieldOption, cdkJson, forgetDemo, web, noWeb, compress, enforceLimits, noAggregation, SchemaRecords.PipelineSchemaFormat, TelemetryFlags.OtlpEndpoint };
        // Checked in the action, not in a command validator: a validator sees 0 for an option left at its
        // DefaultValueFactory value (System.CommandLine 2.0), which rejected the plain `cloud pipeline`.
        command.SetAction((parse, ct) =>
        {
            var settings = new PipelineSettings(
                parse.GetValue(stream)!, parse.GetValue(rate), parse.GetValue(duration) ?? (console.Interactive ? null : 60),
                parse.GetValue(kind) == "ride-pricing" ? EventKind.RidePricing : EventKind.Clickstream, parse.GetValue(seed),
                parse.GetValue(shards), parse.GetValue(window), parse.GetValue(forgetDemo), RecordsCommand.ParseCodec(parse.GetValue(compress)!))
            {
                BatchSize = parse.GetValue(batchSize),
                KeyField = parse.GetValue(keyFieldOption),
                CdkJson = parse.GetValue(cdkJson),
                WebPort = parse.GetValue(noWeb) ? null : WebView.Port(parse, web),
                OtlpEndpoint = TelemetryFlags.Parse(parse),
                EnforceLimits = parse.GetValue(enforceLimits),
                NoAggregation = parse.GetValue(noAggregation),
            };
            settings.Validate();
            if (settings.EnforceLimits)
            {
                PipelineLimits.CheckEndpoint(parse.GetValue(GlobalOptions.Endpoint));
            }

            return RunAsync(console, parse, settings, ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(CliConsole console, ParseResult parse, PipelineSettings settings, CancellationToken ct)
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

        // 0. The web view first: a busy port fails here, before anything is created or started.
        await using var webView = settings.WebPort is { } port ? await WebView.StartAsync(console, settings.Stream, port, ct).ConfigureAwait(false) : null;
        using var telemetry = TelemetryFlags.Start(console, settings.OtlpEndpoint, "cloud-pipeline");

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

                if (!settings.EnforceLimits)
                {
                    return await RunPipelineAsync(console, parse, settings, connection, null, webView, Say, ct).ConfigureAwait(false);
                }

                await using var limits = PipelineLimits.Start(connection);
                Say($"Enforcing Kinesis's per-shard limits (1,000 records/s, 1 MiB/s, 5 GetRecords/s) through {limits.Connection.KinesisEndpoint} in front of {connection.KinesisEndpoint}.");
                return await RunPipelineAsync(console, parse, settings, limits.Connection, limits, webView, Say, ct).ConfigureAwait(false);
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

    private static async Task<int> RunPipelineAsync(CliConsole console, ParseResult parse, PipelineSettings settings, CloudConnection connection, PipelineLimits? limits, WebView? webView, Action<string> say, CancellationToken ct)
    {
        var json = parse.GetValue(GlobalOptions.Json);
        var generatorOptions = new GeneratorOptions { Kind = settings.Kind, Seed = settings.Seed };

        // 2-4. Size, create the stream, the Aggregators and the two local event-source mappings.
        var sizing = await PipelineSetup.SizeAsync(settings, generatorOptions, say, ct).ConfigureAwait(false);
        await PipelineSetup.CreateStreamAsync(connection.Kinesis, settings.Stream, sizing.ShardCount, say, ct).ConfigureAwait(false);
        var deployed = PipelineSetup.LoadDeployed(settings);
        var aggregatorConfig = PipelineSetup.AggregatorConfig(settings, deployed);
        // Pseudonymous identifiers: records, partition keys and the per-user aggregates carry a pseudonym that dies with
        // the user's key (docs/privacy.md); the clear user id travels only encrypted.
        using var privacy = await PrivacyFactory.CreateAsync(parse, connection, "userId", ["name", "email", "ip"], ct, pseudonymize: true).ConfigureAwait(false);
        using var aggregatorHandle = await OpsCommands.CreateHandlerAsync("aggregator", parse, connection, ct, aggregatorConfig).ConfigureAwait(false);
        var userAggregatorConfig = aggregatorConfig with { TableName = UserAggregatesTable, KeyField = "userId" };
        using var userAggregatorHandle = await OpsCommands.CreateHandlerAsync("aggregator", parse, connection, ct, userAggregatorConfig).ConfigureAwait(false);
        await using var mappings = await PipelineSetup.StartMappingsAsync(settings, connection, deployed, aggregatorConfig.KeyField, aggregatorHandle.Invoke, userAggregatorHandle.Invoke, say, ct).ConfigureAwait(false);

        // 5. Generator → field encryption → producer, at the chosen rate.
        var state = new PipelineCounters { Schema = await SchemaRecords.PipelineSchema.RegisterAsync(parse, connection.DynamoDb, settings.Kind, ct).ConfigureAwait(false) };
        await using var producer = new KinesisProducer(connection.ProducerKinesis, new KinesisProducerOptions
        {
            StreamName = settings.Stream,
            Compression = settings.Compression,
            AggregationEnabled = !settings.NoAggregation,
            FailureHandler = _ => Interlocked.Increment(ref state.DeliveryFailures),
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (settings.Duration is { } seconds)
        {
            stop.CancelAfter(TimeSpan.FromSeconds(seconds));
        }

        var demoUser = EventGenerator.UserId(0);
        var produceTask = LoadGenerator.ProduceAsync(producer, privacy, generatorOptions, settings, state, demoUser, stop.Token);
        var sampler = new StatsSampler(settings, state, mappings, privacy, connection, aggregatorConfig.TableName, demoUser, limits?.Limits);

        async Task<DashboardSnapshot> TickAsync(string? status = null)
        {
            var snapshot = await sampler.TickAsync(status).ConfigureAwait(false);
            webView?.Publish(snapshot);
            return snapshot;
        }

        if (console.Interactive && !json)
        {
            await console.Human.Live(TerminalView.Render(sampler.Latest, settings.ForgetDemo)).StartAsync(async live =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await Delay(stop.Token).ConfigureAwait(false);
                    live.UpdateTarget(TerminalView.Render(await TickAsync().ConfigureAwait(false), settings.ForgetDemo));
                }
            }).ConfigureAwait(false);
        }
        else
        {
            var next = TimeSpan.FromSeconds(5);
            while (!stop.IsCancellationRequested)
            {
                await Delay(stop.Token).ConfigureAwait(false);
                var snapshot = await TickAsync().ConfigureAwait(false);
                if (sampler.Elapsed >= next && !json)
                {
                    next += TimeSpan.FromSeconds(5);
                    console.Out.WriteLine(TerminalView.ProgressLine(snapshot, sampler.Elapsed));
                }
            }
        }

        // 6. Clean stop: finish producing, flush, let the runner drain briefly, then stop.
        say("Stopping: flushing the producer and draining the consumer...");
        await produceTask.ConfigureAwait(false);
        await producer.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        await mappings.DrainAndStopAsync().ConfigureAwait(false);
        var perUser = await PerUserRowsAsync(connection, sampler.ForgottenPseudonym, CancellationToken.None).ConfigureAwait(false);
        var forgottenLinkable = sampler.ForgetNote is not null && await privacy.Identity!.FindPseudonymAsync(demoUser, CancellationToken.None).ConfigureAwait(false) is not null;
        var last = await TickAsync("stopped").ConfigureAwait(false);
        if (json)
        {
            var outcome = new PipelineOutcome(sizing, state.Schema, new Dictionary<string, long>(state.PerShard, StringComparer.Ordinal), perUser.Rows, perUser.RowsOfPseudonym,
                sampler.ForgetNote, demoUser, sampler.ForgottenPseudonym, forgottenLinkable);
            console.WriteJsonLine(w => JsonSummaryView.Write(w, settings.Stream, last, outcome));
        }
        else
        {
            var t = last.Totals!;
            console.Human.Write(TerminalView.Render(last, settings.ForgetDemo));
            console.Out.WriteLine();
            console.Out.WriteLine($"Done: {t.Durable:N0} events durable on {sizing.ShardCount} shards, {t.Processed:N0} Kinesis records aggregated into {t.WindowsClosed:N0} windows; {t.DeliveryFailures:N0} delivery failures, {t.OnFailure:N0} on-failure records.");
            if (t.ThrottledRecords is { } throttled)
            {
                console.Out.WriteLine($"Limits enforced: {throttled:N0} Kinesis records and {t.ThrottledReads ?? 0:N0} GetRecords calls throttled (ProvisionedThroughputExceeded); the producer and the consumers retried them.");
            }
        }

        return ct.IsCancellationRequested ? ExitCodes.Cancelled : last.Totals!.DeliveryFailures > 0 ? ExitCodes.Failure : ExitCodes.Success;
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

    private static async Task<(long Rows, long RowsOfPseudonym)> PerUserRowsAsync(CloudConnection connection, string? pseudonym, CancellationToken ct)
    {
        long rows = 0, mine = 0;
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var page = await connection.DynamoDb.ScanAsync(new ScanRequest { TableName = UserAggregatesTable, ProjectionExpression = "pk", ExclusiveStartKey = start }, ct).ConfigureAwait(false);
            foreach (var item in page.Items ?? [])
            {
                rows++;
                mine += pseudonym is not null && item["pk"].S == pseudonym ? 1 : 0;
            }

            start = page.LastEvaluatedKey is { Count: > 0 } next ? next : null;
        }
        while (start is not null);
        return (rows, mine);
    }
}
