using System.CommandLine;
using System.Globalization;
using Cloud.Cli.Infrastructure;
using Cloud.EventSourceMapping;
using Cloud.Functions.Aggregator;
using Cloud.Functions.Forget;
using Spectre.Console;

namespace Cloud.Cli.Commands;

/// <summary><c>cloud forget</c>, <c>cloud lag</c> and <c>cloud invoke</c>.</summary>
public static class OpsCommands
{
    /// <summary>Names accepted by <c>cloud invoke</c>.</summary>
    public static readonly string[] FunctionNames = ["aggregator", "forget"];

    /// <summary><c>cloud forget USER</c> — crypto-shred a user.</summary>
    public static Command Forget(CliConsole console)
    {
        var user = new Argument<string>("USER") { Description = "User id whose data key is destroyed" };
        var command = new Command("forget", "Crypto-shred a user: destroy their data key and leave a tombstone (GDPR right to be forgotten)") { user };
        ForgetVerify.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var userId = parse.GetRequiredValue(user);
            if (string.IsNullOrWhiteSpace(userId))
            {
                throw CliException.Usage("USER must not be empty.");
            }

            using var connection = await CloudConnection.FromAsync(parse, ct).ConfigureAwait(false);
            using var privacy = await PrivacyFactory.CreateAsync(parse, connection, null, null, ct).ConfigureAwait(false);
            var result = await privacy.Shredder.ForgetAsync(userId, ct).ConfigureAwait(false);
            if (parse.GetValue(ForgetVerify.Verify))
            {
                return await ForgetVerify.RunAsync(parse, console, connection, privacy, userId, ct).ConfigureAwait(false);
            }

            if (parse.GetValue(GlobalOptions.Json))
            {
                console.WriteJsonLine(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("userId", result.UserId);
                    w.WriteString("outcome", result.Outcome.ToString());
                    w.WriteString("forgottenAt", result.ForgottenAt);
                    w.WriteNumber("eraseLatencySeconds", result.EraseLatency.TotalSeconds);
                    w.WriteEndObject();
                });
            }
            else
            {
                console.Out.WriteLine($"Forgot user {result.UserId} ({result.Outcome}) at {result.ForgottenAt:u}. Every process stops decrypting their data within {result.EraseLatency.TotalSeconds:0} s (the key cache TTL).");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary><c>cloud lag STREAM</c> — consumer lag per shard from the local runner's checkpoints.</summary>
    public static Command Lag(CliConsole console)
    {
        var stream = new Argument<string>("STREAM") { Description = "Stream name" };
        var mapping = new Option<string?>("--mapping-id") { Description = "Event source mapping id (default: esm-STREAM)" };
        var table = new Option<string>("--checkpoint-table") { Description = "Checkpoint table", DefaultValueFactory = _ => DynamoDbCheckpointStore.DefaultTableName };
        var command = new Command("lag", "Consumer lag per shard for the local event-source-mapping runner (like kafka-consumer-groups --describe)") { stream, mapping, table };
        command.SetAction(async (parse, ct) =>
        {
            using var connection = await CloudConnection.FromAsync(parse, ct).ConfigureAwait(false);
            var reader = new StreamLagReader(connection.Kinesis, new DynamoDbCheckpointStore(connection.DynamoDb, parse.GetValue(table)!));
            var lags = await reader.ReadAsync(parse.GetRequiredValue(stream), parse.GetValue(mapping), cancellationToken: ct).ConfigureAwait(false);
            if (parse.GetValue(GlobalOptions.Json))
            {
                console.WriteJsonLine(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("stream", parse.GetRequiredValue(stream));
                    w.WriteStartArray("shards");
                    foreach (var l in lags)
                    {
                        w.WriteStartObject();
                        w.WriteString("shardId", l.ShardId);
                        w.WriteString("checkpoint", l.CheckpointSequenceNumber);
                        if (l.RecordsBehind is { } records)
                        {
                            w.WriteNumber("recordsBehind", records);
                        }
                        else
                        {
                            w.WriteNull("recordsBehind");
                        }

                        if (l.MillisBehindLatest is { } ms)
                        {
                            w.WriteNumber("millisBehindLatest", ms);
                        }
                        else
                        {
                            w.WriteNull("millisBehindLatest");
                        }

                        w.WriteBoolean("finished", l.Finished);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                });
            }
            else
            {
                var t = new Table().AddColumns("Shard", "Checkpoint", "Records behind", "ms behind tip", "State");
                foreach (var l in lags)
                {
                    t.AddRow(l.ShardId, l.CheckpointSequenceNumber ?? "-", l.RecordsBehind?.ToString("N0", CultureInfo.InvariantCulture) ?? "?", l.MillisBehindLatest?.ToString("N0", CultureInfo.InvariantCulture) ?? "?", l.Finished ? "finished" : l.WaitingForParents ? "waiting for parents" : "open");
                }

                console.Human.Write(t);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary><c>cloud invoke FUNCTION --event FILE</c> — run a function locally on an event file (like sam local invoke).</summary>
    public static Command Invoke(CliConsole console)
    {
        var function = new Argument<string>("FUNCTION") { Description = "Function: aggregator or forget" };
        function.AcceptOnlyFromAmong(FunctionNames);
        var eventFile = new Option<FileInfo>("--event") { Description = "Event JSON file ('-' for stdin)", Required = true };
        var command = new Command("invoke", "Run a function of functions/ in process on an event file and print its JSON response") { function, eventFile };
        command.SetAction(async (parse, ct) =>
        {
            var file = parse.GetRequiredValue(eventFile);
            byte[] payload;
            if (file.Name == "-")
            {
                using var buffer = new MemoryStream();
                var text = await console.In.ReadToEndAsync(ct).ConfigureAwait(false);
                payload = System.Text.Encoding.UTF8.GetBytes(text);
            }
            else if (!file.Exists)
            {
                throw CliException.NotFound($"--event: file '{file.FullName}' does not exist.");
            }
            else
            {
                payload = await File.ReadAllBytesAsync(file.FullName, ct).ConfigureAwait(false);
            }

            using var connection = await CloudConnection.FromAsync(parse, ct).ConfigureAwait(false);
            var handler = await CreateHandlerAsync(parse.GetRequiredValue(function), parse, connection, ct).ConfigureAwait(false);
            try
            {
                using var input = new MemoryStream(payload, writable: false);
                await using var output = await handler.Invoke(input, ct).ConfigureAwait(false);
                using var reader = new StreamReader(output);
                console.Out.WriteLine(await reader.ReadToEndAsync(ct).ConfigureAwait(false));
            }
            finally
            {
                handler.Dispose();
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>A function entry point and what it owns.</summary>
    public sealed class FunctionHandle(Func<Stream, CancellationToken, Task<Stream>> invoke, params IDisposable?[] owned) : IDisposable
    {
        /// <summary>The Stream-in/Stream-out entry point.</summary>
        public Func<Stream, CancellationToken, Task<Stream>> Invoke { get; } = invoke;

        /// <inheritdoc />
        public void Dispose()
        {
            foreach (var d in owned)
            {
                d?.Dispose();
            }
        }
    }

    /// <summary>Creates the named function wired to the connection's DynamoDB (tables created when local).</summary>
    public static async Task<FunctionHandle> CreateHandlerAsync(string name, ParseResult parse, CloudConnection connection, CancellationToken ct, AggregatorConfig? aggregatorConfig = null)
    {
        switch (name)
        {
            case "aggregator":
                var config = aggregatorConfig ?? AggregatorConfig.FromEnvironment();
                if (connection.IsLocal)
                {
                    await AggregatesTable.EnsureExistsAsync(connection.DynamoDb, config.TableName, ct).ConfigureAwait(false);
                }

                var aggregator = new Function(config, connection.DynamoDb);
                return new FunctionHandle(aggregator.HandleAsync, aggregator);
            case "forget":
                var privacy = await PrivacyFactory.CreateAsync(parse, connection, null, null, ct).ConfigureAwait(false);
                var forget = new ForgetFunction(privacy.Shredder, TextWriter.Null);
                return new FunctionHandle(forget.HandleAsync, privacy);
            default:
                throw CliException.Usage($"unknown function '{name}' (known: {string.Join(", ", FunctionNames)}).");
        }
    }
}
