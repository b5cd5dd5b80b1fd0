using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Cloud.Cli.Infrastructure;
using Cloud.DataGenerator;
using Amazon.Kinesis.Model;
using Cloud.Privacy;
using Cloud.Producer;
using Spectre.Console;

namespace Cloud.Cli.Commands;

/// <summary><c>cloud produce STREAM</c> — like kafka-console-producer, through the KPL-compatible producer.</summary>
public static class ProduceCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Create(CliConsole console)
    {
        var stream = new Argument<string>("STREAM") { Description = "Stream name" };
        var keyField = new Option<string?>("--key-field") { Description = "Take the partition key from this JSON field (default: balanced explicit hash keys)" };
        var userField = new Option<string?>("--user-field") { Description = "JSON field holding the user id whose key encrypts --encrypt-fields" };
        var encrypt = new Option<string?>("--encrypt-fields") { Description = "Comma-separated JSON fields encrypted with the user's key (crypto-shredding)" };
        var compress = RecordsCommand.CodecOption();
        var sync = new Option<bool>("--sync") { Description = "Wait until each record is durable before sending the next" };
        var generate = new Option<long?>("--generate") { Description = "Send N generated events instead of reading stdin" };
        var rate = new Option<double?>("--rate") { Description = "Records per second for --generate (default: as fast as possible)" };
        var kind = new Option<string>("--kind") { Description = "Generated events: clickstream or ride-pricing", DefaultValueFactory = _ => "clickstream" };
        kind.AcceptOnlyFromAmong("clickstream", "ride-pricing");
        var seed = new Option<int>("--seed") { Description = "Seed of the data generator", DefaultValueFactory = _ => 42 };
        var schema = SchemaRecords.SchemaOption();
        var schemaVersion = SchemaRecords.SchemaVersionOption();
        var rawHotKeys = new Option<bool>("--raw-hot-keys") { Description = "Show the hottest partition keys as sent (default: per-run pseudonyms, since keys are often user ids)" };
        var command = new Command("produce", "Send JSON lines from stdin (or generated events) to a stream") { stream, keyField, userField, encrypt, compress, sync, generate, rate, kind, seed, schema, schemaVersion, rawHotKeys, TelemetryFlags.OtlpEndpoint };
        command.Validators.Add(result =>
        {
            if (result.GetValue(rate) is <= 0)
            {
                result.AddError("--rate must be positive.");
            }

            if (result.GetValue(generate) is < 1)
            {
                result.AddError("--generate must be at least 1.");
            }

            if (result.GetValue(encrypt) is not null && result.GetValue(userField) is null && result.GetValue(generate) is null)
            {
                result.AddError("--encrypt-fields needs --user-field (the field with the user id).");
            }

            if (result.GetValue(userField) is not null && result.GetValue(encrypt) is null && result.GetValue(generate) is null)
            {
                // Otherwise the personal fields would go out in clear while the user believes they are protected.
                result.AddError("--user-field needs --encrypt-fields (the personal fields to encrypt with that user's key).");
            }

            if (result.GetValue(rate) is not null && result.GetValue(generate) is null)
            {
                result.AddError("--rate paces --generate; stdin lines are sent as fast as they arrive.");
            }
        });
        command.SetAction(async (parse, ct) =>
        {
            using var telemetry = TelemetryFlags.Start(console, TelemetryFlags.Parse(parse), "cloud-produce");
            using var connection = await CloudConnection.FromAsync(parse, ct).ConfigureAwait(false);
            var streamName = parse.GetRequiredValue(stream);

            // Before reading any input: a missing stream or a dead endpoint would otherwise surface only as
            // per-record failures after the producer's record TTL (30 s), with a generic exit code.
            await EnsureStreamExistsAsync(connection, streamName, ct).ConfigureAwait(false);
            var fields = parse.GetValue(encrypt)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            using var privacy = fields is { Length: > 0 }
                ? await PrivacyFactory.CreateAsync(parse, connection, parse.GetValue(userField) ?? "userId", fields, ct).ConfigureAwait(false)
                : null;
            await using var gsr = await SchemaRecords.CreateProducerAsync(parse, schema, schemaVersion, ct).ConfigureAwait(false);
            var failures = 0L;
            var options = new KinesisProducerOptions
            {
                StreamName = streamName,
                Compression = RecordsCommand.ParseCodec(parse.GetValue(compress)!),
                FailureHandler = ex => Interlocked.Increment(ref failures),
            };
            var key = parse.GetValue(keyField);
            var isSync = parse.GetValue(sync);
            var json = parse.GetValue(GlobalOptions.Json);
            var stats = new ProduceStats();
            var stopwatch = Stopwatch.StartNew();
            await using (var producer = new KinesisProducer(connection.ProducerKinesis, options))
            {
                var pending = new List<Task>();
                async Task SendOneAsync(byte[] data, int lineNumber)
                {
                    if (privacy is not null)
                    {
                        ProtectResult protectedData;
                        try
                        {
                            protectedData = await privacy.Protector.EncryptAsync(data, streamName, ct).ConfigureAwait(false);
                        }
                        catch (PrivacyException ex)
                        {
                            stats.Rejected++;
                            console.WriteError($"record {lineNumber}: {ex.Message}");
                            return;
                        }

                        if (protectedData.Status == ProtectStatus.Dropped)
                        {
                            stats.Rejected++;
                            return;
                        }

                        data = protectedData.Json.ToArray();
                    }

                    var partitionKey = key is null ? null : KeyOf(data, key, lineNumber);
                    if (gsr is not null)
                    {
                        if (gsr.Encode(data, lineNumber, console) is not { } encoded)
                        {
                            stats.Rejected++;
                            return;
                        }

                        data = encoded;
                    }

                    var send = producer.SendAsync(data, partitionKey, cancellationToken: ct);
                    stats.Sent++;
                    if (isSync)
                    {
                        var result = await send.ConfigureAwait(false);
                        stats.Durable(result.ShardId);
                        if (json)
                        {
                            console.WriteJsonLine(w =>
                            {
                                w.WriteStartObject();
                                w.WriteNumber("record", lineNumber);
                                w.WriteString("shardId", result.ShardId);
                                w.WriteString("sequenceNumber", result.SequenceNumber);
                                if (result.SubSequenceNumber is { } sub)
                                {
                                    w.WriteNumber("subSequenceNumber", sub);
                                }

                                w.WriteEndObject();
                            });
                        }
                    }
                    else
                    {
                        pending.Add(Track(send, stats, lineNumber, console));
                    }
                }

                if (parse.GetValue(generate) is { } count)
                {
                    var generator = new EventGenerator(new GeneratorOptions { Kind = parse.GetValue(kind) == "ride-pricing" ? EventKind.RidePricing : EventKind.Clickstream, Seed = parse.GetValue(seed) });
                    var perSecond = parse.GetValue(rate);
                    for (long i = 0; i < count; i++)
                    {
                        if (perSecond is { } r)
                        {
                            var due = TimeSpan.FromSeconds(i / r);
                            if (due > stopwatch.Elapsed)
                            {
                                await Task.Delay(due - stopwatch.Elapsed, ct).ConfigureAwait(false);
                            }
                        }

                        await SendOneAsync(generator.Next().Json, (int)Math.Min(int.MaxValue, i + 1)).ConfigureAwait(false);
                    }
                }
                else
                {
                    var lineNumber = 0;
                    while (await console.In.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
                    {
                        lineNumber++;
                        if (string.IsNullOrWhiteSpace(line))
                        {
                            continue;
                        }

                        var bytes = Encoding.UTF8.GetBytes(line);
                        if (!IsJsonObject(bytes, out var problem))
                        {
                            stats.Rejected++;
                            console.WriteError($"line {lineNumber}: not a JSON object: {problem}; skipped.");
                            continue;
                        }

                        try
                        {
                            await SendOneAsync(bytes, lineNumber).ConfigureAwait(false);
                        }
                        catch (CliException ex) when (ex.ExitCode == ExitCodes.InvalidInput)
                        {
                            stats.Rejected++;
                            console.WriteError(ex.Message);
                        }
                    }
                }

                await producer.FlushAsync(ct).ConfigureAwait(false);
                await Task.WhenAll(pending).ConfigureAwait(false);
                stats.HotKeys = producer.GetHotKeys(parse.GetValue(rawHotKeys) ? HotKeyDisclosure.Raw : HotKeyDisclosure.Pseudonymized);
            }

            stats.Failed = Math.Max(stats.Failed, Interlocked.Read(ref failures));
            var seconds = Math.Max(stopwatch.Elapsed.TotalSeconds, 1e-3);
            if (json)
            {
                console.WriteJsonLine(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("stream", streamName);
                    w.WriteNumber("sent", stats.Sent);
                    w.WriteNumber("durable", stats.DurableCount);
                    w.WriteNumber("failed", stats.Failed);
                    w.WriteNumber("rejected", stats.Rejected);
                    w.WriteNumber("recordsPerSecond", Math.Round(stats.DurableCount / seconds, 1));
                    w.WriteStartObject("shards");
                    foreach (var (shard, n) in stats.PerShard.OrderBy(p => p.Key, StringComparer.Ordinal))
                    {
                        w.WriteNumber(shard, n);
                    }

                    w.WriteEndObject();
                    w.WriteStartArray("hotKeys");
                    foreach (var hot in stats.HotKeys.Take(5))
                    {
                        w.WriteStartObject();
                        w.WriteString("key", hot.PartitionKey);
                        w.WriteNumber("records", hot.Count);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                });
            }
            else
            {
                console.Human.MarkupLine($"Sent [bold]{stats.DurableCount:N0}[/] record{(stats.DurableCount == 1 ? string.Empty : "s")} to {Markup.Escape(streamName)} in {seconds:0.0} s ({stats.DurableCount / seconds:N0}/s); failed {stats.Failed:N0}, rejected {stats.Rejected:N0}.");
                foreach (var (shard, n) in stats.PerShard.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    console.Out.WriteLine($"  {shard}: {n:N0}");
                }

                if (stats.HotKeys.Count > 0)
                {
                    console.Out.WriteLine("  hot keys: " + string.Join(", ", stats.HotKeys.Take(5).Select(h => $"{h.PartitionKey} ({h.Count:N0})")));
                }
            }

            return stats.Failed > 0 ? ExitCodes.Failure : stats.Rejected > 0 ? ExitCodes.InvalidInput : ExitCodes.Success;
        });
        return command;
    }

    private static async Task EnsureStreamExistsAsync(CloudConnection connection, string streamName, CancellationToken ct)
    {
        try
        {
            await connection.Kinesis.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = streamName }, ct).ConfigureAwait(false);
        }
        catch (ResourceNotFoundException ex)
        {
            throw CliException.NotFound($"stream '{streamName}' does not exist (create it with 'cloud streams create {streamName} --shards N').", ex);
        }
    }

    private static async Task Track(ValueTask<SendResult> send, ProduceStats stats, int lineNumber, CliConsole console)
    {
        try
        {
            var result = await send.ConfigureAwait(false);
            lock (stats)
            {
                stats.Durable(result.ShardId);
            }
        }
        catch (Exception ex) when (ex is RecordDeliveryException or OperationCanceledException)
        {
            lock (stats)
            {
                stats.Failed++;
            }

            console.WriteError($"record {lineNumber}: {ex.Message}");
        }
    }

    private static bool IsJsonObject(byte[] line, out string? problem)
    {
        try
        {
            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = "expected '{'";
                return false;
            }

            reader.Skip();
            problem = reader.Read() ? "trailing content" : null;
            return problem is null;
        }
        catch (JsonException ex)
        {
            problem = CliMessages.Json(ex);
            return false;
        }
    }

    private static string KeyOf(byte[] data, string field, int lineNumber)
    {
        using var doc = JsonDocument.Parse(data);
        if (doc.RootElement.TryGetProperty(field, out var value) && value.ValueKind is JsonValueKind.String or JsonValueKind.Number)
        {
            var key = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
            if (key.Length is >= 1 and <= 256)
            {
                return key;
            }
        }

        throw CliException.InvalidInput($"line {lineNumber}: --key-field '{field}' is missing, empty, longer than 256 characters, or not a string/number; skipped.");
    }

    private sealed class ProduceStats
    {
        public long Sent;
        public long DurableCount;
        public long Failed;
        public long Rejected;
        public Dictionary<string, long> PerShard { get; } = new(StringComparer.Ordinal);
        public IReadOnlyList<HotKey> HotKeys { get; set; } = [];

        public void Durable(string shardId)
        {
            DurableCount++;
            PerShard[shardId] = PerShard.GetValueOrDefault(shardId) + 1;
        }
    }
}
