using System.CommandLine;
using Cloud.Cli.Infrastructure;
using Cloud.Kinesis;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Spectre.Console;

namespace Cloud.Cli.Commands;

/// <summary><c>cloud streams create|list|describe|scale|delete</c> — like kafka-topics.</summary>
public static class StreamsCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Create(CliConsole console)
    {
        var streams = new Command("streams", "Create, list, describe, scale and delete streams (like kafka-topics)");
        streams.Add(CreateVerb(console));
        streams.Add(ListVerb(console));
        streams.Add(DescribeVerb(console));
        streams.Add(ScaleVerb(console));
        streams.Add(DeleteVerb(console));
        return streams;
    }

    private static Argument<string> StreamArgument() => new("STREAM") { Description = "Stream name" };

    private static Command CreateVerb(CliConsole console)
    {
        var name = StreamArgument();
        var shards = new Option<int?>("--shards") { Description = "Provisioned shard count" };
        var onDemand = new Option<bool>("--on-demand") { Description = "On-demand capacity mode" };
        var command = new Command("create", "Create a stream (--shards N or --on-demand) and wait until it is ACTIVE") { name, shards, onDemand };
        command.Validators.Add(result =>
        {
            var count = result.GetValue(shards);
            var demand = result.GetValue(onDemand);
            if (count is null == !demand)
            {
                result.AddError("Give exactly one of --shards N or --on-demand.");
            }
            else if (count is < 1)
            {
                result.AddError($"--shards must be at least 1 (was {count}).");
            }
        });
        command.SetAction(async (parse, ct) =>
        {
            using var connection = await CloudConnection.FromAsync(parse, ct).ConfigureAwait(false);
            var client = connection.Kinesis;
            var streamName = parse.GetRequiredValue(name);
            var count = parse.GetValue(shards);
            await client.CreateStreamAsync(new CreateStreamRequest
            {
                StreamName = streamName,
                ShardCount = count,
                StreamModeDetails = count is null ? new StreamModeDetails { StreamMode = StreamMode.ON_DEMAND } : null,
            }, ct).ConfigureAwait(false);
            var summary = await WaitActiveAsync(client, streamName, ct).ConfigureAwait(false);
            Report(console, parse, summary, shardList: null);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command ListVerb(CliConsole console)
    {
        var command = new Command("list", "List streams");
        command.SetAction(async (parse, ct) =>
        {
            using var connection = await CloudConnection.FromAsync(parse, ct).ConfigureAwait(false);
            // Follows NextToken, or HasMoreStreams + ExclusiveStartStreamName when the service pages without a token.
            var names = await connection.Kinesis.ListAllStreamsAsync(ct).ConfigureAwait(false);

            if (parse.GetValue(GlobalOptions.Json))
            {
                console.WriteJsonLine(w =>
                {
                    w.WriteStartObject();
                    w.WriteStartArray("streams");
                    foreach (var n in names)
                    {
                        w.WriteStringValue(n);
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                });
            }
            else if (names.Count == 0)
            {
                console.Out.WriteLine("No streams.");
            }
            else
            {
                foreach (var n in names)
                {
                    console.Out.WriteLine(n);
                }
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command DescribeVerb(CliConsole console)
    {
        var name = StreamArgument();
        var command = new Command("describe", "Describe a stream and its shards") { name };
        command.SetAction(async (parse, ct) =>
        {
            using var connection = await CloudConnection.FromAsync(parse, ct).ConfigureAwait(false);
            var streamName = parse.GetRequiredValue(name);
            var summary = await connection.Kinesis.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = streamName }, ct).ConfigureAwait(false);
            var shards = await ListShardsAsync(connection.Kinesis, streamName, ct).ConfigureAwait(false);
            Report(console, parse, summary.StreamDescriptionSummary, shards);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command ScaleVerb(CliConsole console)
    {
        var name = StreamArgument();
        var shards = new Option<int>("--shards") { Description = "Target shard count (between half and double the current count)", Required = true };
        var command = new Command("scale", "Change a provisioned stream's shard count (UpdateShardCount, uniform scaling)") { name, shards };
        command.SetAction(async (parse, ct) =>
        {
            using var connection = await CloudConnection.FromAsync(parse, ct).ConfigureAwait(false);
            var streamName = parse.GetRequiredValue(name);
            var target = parse.GetValue(shards);
            if (target < 1)
            {
                throw CliException.Usage($"--shards must be at least 1 (was {target}).");
            }

            await connection.Kinesis.UpdateShardCountAsync(new UpdateShardCountRequest { StreamName = streamName, TargetShardCount = target, ScalingType = ScalingType.UNIFORM_SCALING }, ct).ConfigureAwait(false);
            var summary = await WaitActiveAsync(connection.Kinesis, streamName, ct).ConfigureAwait(false);
            Report(console, parse, summary, shardList: null);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command DeleteVerb(CliConsole console)
    {
        var name = StreamArgument();
        var force = new Option<bool>("--force") { Description = "Also delete registered enhanced fan-out consumers" };
        var command = new Command("delete", "Delete a stream") { name, force };
        command.SetAction(async (parse, ct) =>
        {
            using var connection = await CloudConnection.FromAsync(parse, ct).ConfigureAwait(false);
            var streamName = parse.GetRequiredValue(name);
            await connection.Kinesis.DeleteStreamAsync(new DeleteStreamRequest { StreamName = streamName, EnforceConsumerDeletion = parse.GetValue(force) ? true : null }, ct).ConfigureAwait(false);
            if (parse.GetValue(GlobalOptions.Json))
            {
                console.WriteJsonLine(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("streamName", streamName);
                    w.WriteString("status", "DELETING");
                    w.WriteEndObject();
                });
            }
            else
            {
                console.Out.WriteLine($"Deleting stream {streamName}.");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Task<StreamDescriptionSummary> WaitActiveAsync(IAmazonKinesis client, string streamName, CancellationToken ct) =>
        client.WaitForStreamActiveAsync(streamName, TimeSpan.FromMinutes(5), cancellationToken: ct);

    internal static async Task<List<Shard>> ListShardsAsync(IAmazonKinesis client, string streamName, CancellationToken ct) =>
        [.. await client.ListAllShardsAsync(streamName, ct).ConfigureAwait(false)];

    private static void Report(CliConsole console, ParseResult parse, StreamDescriptionSummary summary, IReadOnlyList<Shard>? shardList)
    {
        var mode = summary.StreamModeDetails?.StreamMode?.Value ?? "PROVISIONED";
        var status = summary.StreamStatus?.Value ?? "UNKNOWN";
        var encryption = summary.EncryptionType?.Value ?? "NONE";
        var openShards = summary.OpenShardCount ?? 0;
        var retention = summary.RetentionPeriodHours ?? 24;
        if (parse.GetValue(GlobalOptions.Json))
        {
            console.WriteJsonLine(w =>
            {
                w.WriteStartObject();
                w.WriteString("streamName", summary.StreamName);
                w.WriteString("streamArn", summary.StreamARN);
                w.WriteString("status", status);
                w.WriteString("mode", mode);
                w.WriteNumber("openShards", openShards);
                w.WriteNumber("retentionHours", retention);
                w.WriteString("encryption", encryption);
                if (shardList is not null)
                {
                    w.WriteStartArray("shards");
                    foreach (var s in shardList)
                    {
                        w.WriteStartObject();
                        w.WriteString("shardId", s.ShardId);
                        w.WriteString("startingHashKey", s.HashKeyRange.StartingHashKey);
                        w.WriteString("endingHashKey", s.HashKeyRange.EndingHashKey);
                        w.WriteBoolean("open", s.SequenceNumberRange.EndingSequenceNumber is null);
                        if (s.ParentShardId is not null)
                        {
                            w.WriteString("parentShardId", s.ParentShardId);
                        }

                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                }

                w.WriteEndObject();
            });
            return;
        }

        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("Stream", Markup.Escape(summary.StreamName));
        grid.AddRow("ARN", Markup.Escape(summary.StreamARN));
        grid.AddRow("Status", status);
        grid.AddRow("Mode", mode);
        grid.AddRow("Open shards", openShards.ToString(System.Globalization.CultureInfo.InvariantCulture));
        grid.AddRow("Retention", $"{retention} h");
        grid.AddRow("Encryption", encryption);
        console.Human.Write(grid);
        if (shardList is { Count: > 0 })
        {
            var table = new Table().AddColumns("Shard", "Parent", "Starting hash key", "Ending hash key", "State");
            foreach (var s in shardList)
            {
                table.AddRow(s.ShardId, s.ParentShardId ?? "-", s.HashKeyRange.StartingHashKey, s.HashKeyRange.EndingHashKey, s.SequenceNumberRange.EndingSequenceNumber is null ? "open" : "closed");
            }

            console.Human.Write(table);
        }
    }
}
