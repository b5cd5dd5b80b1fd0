using System.CommandLine;
using Amazon.Kinesis;
using Cloud.Cli.Infrastructure;
using Cloud.EventSourceMapping;
using Cloud.Privacy;
using Cloud.Privacy.Streaming;

namespace Cloud.Cli.Commands;

/// <summary><c>cloud forget USER --verify</c>: after the forget, the erasure report (<see cref="ErasureVerifier"/>).</summary>
public static class ForgetVerify
{
    /// <summary>Run the erasure scan after forgetting.</summary>
    public static readonly Option<bool> Verify = new("--verify") { Description = "After forgetting, scan what the project stores for anything linked to the user and print a JSON erasure report (exit 5 when something remains)" };

    /// <summary>Known personal values of the user to look for.</summary>
    public static readonly Option<string[]> Values = new("--value") { Description = "A known personal value of the user to look for (repeatable)", AllowMultipleArgumentsPerToken = false };

    /// <summary>The user's pseudonym, if recorded before the forget.</summary>
    public static readonly Option<string?> Pseudonym = new("--pseudonym") { Description = "The user's pseudonym recorded before the forget (afterwards nobody can compute it)" };

    /// <summary>Streams to scan within retention.</summary>
    public static readonly Option<string[]> Streams = new("--scan-stream") { Description = "Stream to scan within retention, raw and decoded (repeatable)" };

    /// <summary>DynamoDB tables to scan.</summary>
    public static readonly Option<string[]> Tables = new("--scan-table") { Description = "DynamoDB table to scan (repeatable; default: cloud-aggregates, cloud-aggregates-users, the checkpoint table)" };

    /// <summary>Adds the options to the forget verb.</summary>
    public static void AddTo(Command forget)
    {
        ArgumentNullException.ThrowIfNull(forget);
        forget.Add(Verify);
        forget.Add(Values);
        forget.Add(Pseudonym);
        forget.Add(Streams);
        forget.Add(Tables);
    }

    /// <summary>Scans and prints the report; returns 0 when nothing linked remains, 5 otherwise.</summary>
    public static async Task<int> RunAsync(ParseResult parse, CliConsole console, CloudConnection connection, PrivacyRuntime privacy, string userId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(privacy);
        var streams = parse.GetValue(Streams) ?? [];
        var tables = parse.GetValue(Tables) is { Length: > 0 } given
            ? given
            : ["cloud-aggregates", PipelineCommand.UserAggregatesTable, DynamoDbCheckpointStore.DefaultTableName];
        using var kinesis = connection.KinesisEndpoint is { } endpoint
            ? new AmazonKinesisClient(new AmazonKinesisConfig { ServiceURL = endpoint.ToString(), AuthenticationRegion = connection.Region, MaxErrorRetry = 2 })
            : new AmazonKinesisClient(Amazon.RegionEndpoint.GetBySystemName(connection.Region));
        var checkpoints = new DynamoDbCheckpointStore(connection.DynamoDb);
        var keyRow = privacy.Identity is { } identity ? await identity.KeyIdOfAsync(userId, ct).ConfigureAwait(false) : userId;

        var sources = new List<IErasureSource>();
        sources.AddRange(streams.Select(s => new KinesisStreamSource(kinesis, s)));
        sources.AddRange(tables.Select(t => new DynamoDbTableSource(connection.DynamoDb, t, t == DynamoDbCheckpointStore.DefaultTableName ? "checkpoints" : "table")));
        // Window states are stored compressed: read them back through the checkpoint store, per mapping of each stream.
        sources.Add(new TextSource("window states", "window-states", async token =>
        {
            var states = new List<string>();
            foreach (var stream in streams)
            {
                foreach (var mapping in new[] { EventSourceMappingOptions.DefaultMappingId(stream), EventSourceMappingOptions.DefaultMappingId(stream) + "-users" })
                {
                    try
                    {
                        states.AddRange((await checkpoints.LoadAsync(mapping, token).ConfigureAwait(false)).Values.Select(c => c.WindowState ?? ""));
                    }
                    catch (Amazon.DynamoDBv2.Model.ResourceNotFoundException)
                    {
                        // No checkpoint table: nothing stored.
                    }
                }
            }

            return states;
        }));
        sources.Add(new DynamoDbTableSource(connection.DynamoDb, privacy.Options.KeyTableName, "key table", skipKey: keyRow));

        var report = await new ErasureVerifier(privacy).VerifyAsync(userId, parse.GetValue(Values) ?? [], parse.GetValue(Pseudonym), sources, ct).ConfigureAwait(false);
        console.WriteJsonLine(w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("nothingLinked", report.NothingLinked);
            w.WriteString("keyStatus", report.KeyStatus?.ToString() ?? "none");
            if (report.KeyDestroyedAt is { } at)
            {
                w.WriteString("keyDestroyedAt", at);
            }
            else
            {
                w.WriteNull("keyDestroyedAt");
            }

            w.WriteBoolean("pseudonymous", report.Pseudonymous);
            w.WriteString("scannedAt", report.ScannedAt);
            w.WriteStartArray("scanned");
            foreach (var s in report.Sources)
            {
                w.WriteStartObject();
                w.WriteString("name", s.Name);
                w.WriteString("kind", s.Kind);
                w.WriteNumber("items", s.ItemsScanned);
                w.WriteNumber("matches", s.Matches);
                w.WriteStartArray("found");
                foreach (var label in s.MatchedLabels)
                {
                    w.WriteStringValue(label);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
        if (!report.NothingLinked)
        {
            var holding = report.Sources.Where(r => r.Matches > 0).Select(r => $"{r.Name} ({string.Join(", ", r.MatchedLabels)})").ToList();
            console.WriteError(report.KeyStatus != KeyStatus.Forgotten
                ? $"the user's key is not destroyed (key status: {report.KeyStatus?.ToString() ?? "none"}){(holding.Count > 0 ? "; still linked in " + string.Join("; ", holding) : "")}"
                : $"still linked to the user in {string.Join("; ", holding)}");
        }

        return report.NothingLinked ? ExitCodes.Success : ExitCodes.InvalidInput;
    }
}
