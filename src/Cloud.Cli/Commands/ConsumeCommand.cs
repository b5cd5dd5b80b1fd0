using System.CommandLine;
using System.Globalization;
using Cloud.Cli.Infrastructure;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Privacy;
using Cloud.Records;

namespace Cloud.Cli.Commands;

/// <summary>
/// <c>cloud consume STREAM</c> — like kafka-console-consumer: reads every shard (parents before
/// children), deaggregates, decompresses and decrypts, one JSON line per user record.
/// </summary>
public static class ConsumeCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Create(CliConsole console)
    {
        var stream = new Argument<string>("STREAM") { Description = "Stream name" };
        var fromBeginning = new Option<bool>("--from-beginning") { Description = "Start at the oldest record (TRIM_HORIZON; the default)" };
        var latest = new Option<bool>("--latest") { Description = "Start after the newest record and wait for new ones" };
        var atTimestamp = new Option<DateTimeOffset?>("--at-timestamp") { Description = "Start at records that arrived at or after this time (ISO 8601)" };
        var max = new Option<long?>("--max") { Description = "Stop after N user records" };
        var follow = new Option<bool>("--follow") { Description = "Keep waiting for new records after reaching the tip (default with --latest)" };
        var idle = new Option<double>("--idle-timeout") { Description = "Without --follow: stop when every shard is at its tip for this many seconds", DefaultValueFactory = _ => 2 };
        var userField = new Option<string>("--user-field") { Description = "JSON field with the user id (for decryption)", DefaultValueFactory = _ => "userId" };
        var noDecrypt = new Option<bool>("--no-decrypt") { Description = "Print encrypted fields as they are" };
        var efo = new Option<string?>("--efo") { Description = "Read through this enhanced fan-out consumer (SubscribeToShard; registered when missing)" };
        var command = new Command("consume", "Print the user records of a stream as JSON lines") { stream, fromBeginning, latest, atTimestamp, max, follow, idle, userField, noDecrypt, efo, TelemetryFlags.OtlpEndpoint };
        command.Validators.Add(result =>
        {
            var starts = (result.GetValue(fromBeginning) ? 1 : 0) + (result.GetValue(latest) ? 1 : 0) + (result.GetValue(atTimestamp) is null ? 0 : 1);
            if (starts > 1)
            {
                result.AddError("Give at most one of --from-beginning, --latest, --at-timestamp.");
            }

            if (result.GetValue(max) is < 1)
            {
                result.AddError("--max must be at least 1.");
            }
        });
        command.SetAction(async (parse, ct) =>
        {
            using var telemetry = TelemetryFlags.Start(console, TelemetryFlags.Parse(parse), "cloud-consume");
            using var connection = await CloudConnection.FromAsync(parse, ct).ConfigureAwait(false);
            var streamName = parse.GetRequiredValue(stream);
            var limit = parse.GetValue(max) ?? long.MaxValue;
            var isLatest = parse.GetValue(latest);
            var timestamp = parse.GetValue(atTimestamp);
            var keepFollowing = parse.GetValue(follow) || isLatest;
            var idleLimit = TimeSpan.FromSeconds(Math.Max(0.2, parse.GetValue(idle)));
            PrivacyRuntime? privacy = null;
            await using var schemas = new SchemaRecords.ConsumerView(parse);
            var emitted = 0L;
            var bad = 0;
            if (parse.GetValue(efo) is { } consumer)
            {
                (emitted, bad) = await ConsumeEfo.RunAsync(console, parse, connection, connection.Kinesis, new ConsumeEfo.Request(
                    streamName, consumer, timestamp is not null ? Cloud.EventSourceMapping.StartingPosition.AtTimestamp : isLatest ? Cloud.EventSourceMapping.StartingPosition.Latest : Cloud.EventSourceMapping.StartingPosition.TrimHorizon,
                    timestamp, limit, keepFollowing, idleLimit, parse.GetValue(userField)!, parse.GetValue(noDecrypt)), ct).ConfigureAwait(false);
                return bad > 0 ? ExitCodes.InvalidInput : ExitCodes.Success;
            }

            try
            {
                var shards = await StreamsCommand.ListShardsAsync(connection.Kinesis, streamName, ct).ConfigureAwait(false);

                // --latest means "after the newest record at start-up" on every shard that exists now, children of an
                // earlier reshard included; shards that appear later (a reshard while following) hold only new records.
                var initialShards = new HashSet<string>(shards.Select(s => s.ShardId), StringComparer.Ordinal);
                var iterators = new Dictionary<string, string?>(StringComparer.Ordinal);
                var finished = new HashSet<string>(StringComparer.Ordinal);
                var idleSince = DateTimeOffset.UtcNow;
                var decoded = new List<UserRecord>();
                while (emitted < limit)
                {
                    var progressed = false;
                    foreach (var shard in shards)
                    {
                        if (finished.Contains(shard.ShardId) || emitted >= limit)
                        {
                            continue;
                        }

                        // Per-key order across a reshard: a child starts after its parents are read.
                        if (!ParentsDone(shard, shards, finished))
                        {
                            continue;
                        }

                        if (!iterators.TryGetValue(shard.ShardId, out var iterator))
                        {
                            var type = StartPosition(isLatest, timestamp is not null, initialShards.Contains(shard.ShardId));
                            iterator = (await connection.Kinesis.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = streamName, ShardId = shard.ShardId, ShardIteratorType = type, Timestamp = timestamp?.UtcDateTime }, ct).ConfigureAwait(false)).ShardIterator;
                        }

                        var page = await connection.Kinesis.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator!, Limit = 1000 }, ct).ConfigureAwait(false);
                        iterators[shard.ShardId] = page.NextShardIterator;
                        if (page.NextShardIterator is null)
                        {
                            finished.Add(shard.ShardId);
                        }

                        foreach (var record in page.Records)
                        {
                            progressed = true;
                            decoded.Clear();
                            try
                            {
                                RecordDecoder.Default.Decode(Bytes(record.Data), record.PartitionKey, record.SequenceNumber, null, decoded);
                            }
                            catch (RecordFormatException ex)
                            {
                                bad++;
                                console.WriteError($"{shard.ShardId} record {record.SequenceNumber}: {ex.Message}");
                                continue;
                            }

                            foreach (var user in decoded)
                            {
                                if (emitted >= limit)
                                {
                                    break;
                                }

                                var (data, gsr) = await schemas.DecodeAsync(user.Data, $"{shard.ShardId} record {user.SequenceNumber}/{user.SubSequenceNumber}", console, ct).ConfigureAwait(false);
                                if (!parse.GetValue(noDecrypt) && FieldCiphertext.ContainsCiphertext(data.Span))
                                {
                                    privacy ??= await PrivacyFactory.CreateAsync(parse, connection, parse.GetValue(userField), null, ct).ConfigureAwait(false);
                                    try
                                    {
                                        data = (await privacy.Protector.DecryptAsync(data, streamName, ct).ConfigureAwait(false)).Json;
                                    }
                                    catch (PrivacyException ex)
                                    {
                                        bad++;
                                        console.WriteError($"{shard.ShardId} record {user.SequenceNumber}/{user.SubSequenceNumber}: {ex.Message}; printed encrypted.");
                                    }
                                }

                                var output = new UserRecord(user.PartitionKey, user.ExplicitHashKey, data, user.SequenceNumber, user.SubSequenceNumber, user.IsAggregated);
                                if (gsr is null)
                                {
                                    RecordsCommand.WriteUserRecord(console, output, shard.ShardId);
                                }
                                else
                                {
                                    SchemaRecords.WriteDecoded(console, output, data, gsr, shard.ShardId);
                                }

                                emitted++;
                            }
                        }

                        if (page.ChildShards is { Count: > 0 } || (page.NextShardIterator is null && !keepFollowing))
                        {
                            // New children after a reshard: refresh the shard list.
                            var refreshed = await StreamsCommand.ListShardsAsync(connection.Kinesis, streamName, ct).ConfigureAwait(false);
                            if (refreshed.Count != shards.Count)
                            {
                                shards = refreshed;
                                break;
                            }
                        }
                    }

                    if (progressed)
                    {
                        idleSince = DateTimeOffset.UtcNow;
                        continue;
                    }

                    if (finished.Count == shards.Count || (!keepFollowing && DateTimeOffset.UtcNow - idleSince > idleLimit))
                    {
                        break;
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(keepFollowing ? 1000 : 200), ct).ConfigureAwait(false);
                }
            }
            catch (ExpiredIteratorException ex)
            {
                throw new CliException(ExitCodes.Failure, "a shard iterator expired (more than 5 minutes between reads): " + ex.Message, ex);
            }
            finally
            {
                privacy?.Dispose();
            }

            if (!parse.GetValue(GlobalOptions.Json) && console.Interactive)
            {
                console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{emitted:N0} user records."));
            }

            return bad + schemas.Failed > 0 ? ExitCodes.InvalidInput : ExitCodes.Success;
        });
        return command;
    }

    /// <summary>
    /// Where a shard's reading starts: AT_TIMESTAMP with --at-timestamp; with --latest, LATEST for every shard listed
    /// at start-up (parents and children alike) and TRIM_HORIZON for shards created while following; else TRIM_HORIZON.
    /// </summary>
    internal static ShardIteratorType StartPosition(bool latest, bool atTimestamp, bool listedAtStart) =>
        atTimestamp ? ShardIteratorType.AT_TIMESTAMP
        : latest && listedAtStart ? ShardIteratorType.LATEST
        : ShardIteratorType.TRIM_HORIZON;

    /// <summary>The bytes of an SDK record's data without a copy when the stream exposes its buffer.</summary>
    internal static ReadOnlyMemory<byte> Bytes(MemoryStream data) =>
        data.TryGetBuffer(out var buffer) ? buffer.AsMemory() : data.ToArray();

    private static bool ParentsDone(Shard shard, List<Shard> shards, HashSet<string> finished)
    {
        foreach (var parent in new[] { shard.ParentShardId, shard.AdjacentParentShardId })
        {
            if (parent is not null && shards.Any(s => s.ShardId == parent) && !finished.Contains(parent))
            {
                return false;
            }
        }

        return true;
    }
}
