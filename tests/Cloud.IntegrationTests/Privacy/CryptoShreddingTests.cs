using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Amazon.DynamoDBv2.Model;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Consumer;
using Cloud.Consumer.Events;
using Cloud.Consumer.Privacy;
using Cloud.Functions.Aggregator;
using Cloud.Functions.Forget;
using Cloud.IntegrationTests.EventSourceMapping;
using Cloud.Kinesis;
using Cloud.Privacy;
using Cloud.Producer;
using Cloud.Producer.Privacy;
using Cloud.Records;
using Cloud.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Cloud.IntegrationTests.Privacy;

/// <summary>
/// End to end on kinesis-local + dynalite: personal data of many users goes into a stream encrypted per user; one user
/// is forgotten through the control stream and the Forget function; then every byte of the stream, the key table, the
/// consumers' derived state (the runner + Aggregator's aggregates table, on-failure destination, checkpoints and window
/// states) and the captured logs is searched for that user's plaintext.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class CryptoShreddingTests(EmulatorFixture fixture)
{
    private const int Users = 20;
    private const int EventsPerUser = 8;
    private const string Forgotten = "user-7";
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);

    private static string Event(int user, int n) =>
        $$$"""{"userId":"user-{{{user}}}","n":{{{n}}},"page":"/products/{{{n}}}","email":"person{{{user}}}.{{{n}}}@example.com","name":"Person Number{{{user}}}","ip":"10.9.{{{user}}}.{{{n}}}","address":{"street":"{{{user}}} Privacy Lane","city":"Cityof{{{user}}}"}}""";

    private static string[] Secrets(int user) =>
        [$"person{user}.", $"Person Number{user}", $"10.9.{user}.", $"{user} Privacy Lane", $"Cityof{user}"];

    [Fact]
    public async Task Forgotten_user_leaves_no_plaintext_anywhere_reads_as_redacted_and_cannot_write_again()
    {
        var stream = EmulatorFixture.UniqueName("pii");
        var control = EmulatorFixture.UniqueName("forget");
        using var kinesis = fixture.CreateKinesisClient();
        await kinesis.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = 2 });
        await kinesis.CreateStreamAsync(new CreateStreamRequest { StreamName = control, ShardCount = 1 });
        await kinesis.WaitForStreamActiveAsync(stream);
        await kinesis.WaitForStreamActiveAsync(control);

        using var dynamo = fixture.CreateDynamoDbClient();
        var store = new DynamoDbKeyStore(dynamo, EmulatorFixture.UniqueName("keys"));
        await store.EnsureTableAsync();
        using var master = new LocalMasterKeyProvider(RandomNumberGenerator.GetBytes(32));
        var logs = new CapturingLoggerFactory();
        var options = new PrivacyOptions { KeyTableName = store.TableName, KeyCacheTtl = Ttl };

        // Three processes with their own caches: producer, consumer, forget function.
        var producerTime = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var consumerTime = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var producer = PrivacyRuntime.Create(options, store, master, producerTime, logs);
        using var consumer = PrivacyRuntime.Create(options, store, master, consumerTime, logs);
        using var forgetter = PrivacyRuntime.Create(options, store, master, TimeProvider.System, logs);

        // Produce.
        var originals = new Dictionary<string, string>();
        var entries = new List<PutRecordsRequestEntry>();
        for (int u = 0; u < Users; u++)
        {
            for (int n = 0; n < EventsPerUser; n++)
            {
                var json = Event(u, n);
                var enc = await producer.Protector.EncryptAsync(Encoding.UTF8.GetBytes(json), stream);
                Assert.Equal(ProtectStatus.Encrypted, enc.Status);
                originals[$"user-{u}/{n}"] = json;
                entries.Add(new PutRecordsRequestEntry { Data = Stream(enc.Json), PartitionKey = $"user-{u}" });
            }
        }

        foreach (var chunk in entries.Chunk(100))
        {
            var put = await kinesis.PutRecordsAsync(new PutRecordsRequest { StreamName = stream, Records = [.. chunk] });
            Assert.Equal(0, put.FailedRecordCount);
        }

        // The consumer reads everything once before the forget (its cache now holds every key).
        var before = await ReadAllAsync(kinesis, stream);
        Assert.Equal(Users * EventsPerUser, before.Count);
        foreach (var r in before)
        {
            var dec = await consumer.Protector.DecryptAsync(r.Data.ToArray(), stream);
            Assert.Equal(RevealStatus.Decrypted, dec.Status);
        }

        // Forget through the control stream and the Forget function.
        await kinesis.PutRecordsAsync(new PutRecordsRequest
        {
            StreamName = control,
            Records = [new PutRecordsRequestEntry { Data = Stream(Encoding.UTF8.GetBytes($$"""{"userId":"{{Forgotten}}","requestedAt":"2026-11-23T12:00:00Z"}""")), PartitionKey = Forgotten }],
        });
        var requests = await ReadAllAsync(kinesis, control);
        var log = new StringWriter();
        var function = new ForgetFunction(forgetter.Shredder, log);
        using var response = await function.HandleAsync(new MemoryStream(LambdaEvent(control, requests)), default);
        using (var doc = await JsonDocument.ParseAsync(response))
        {
            Assert.Equal(0, doc.RootElement.GetProperty("batchItemFailures").GetArrayLength());
        }

        Assert.Contains("KeyDestroyed", log.ToString(), StringComparison.Ordinal);

        // Other processes: within the TTL they may still hold the key; after it they must not.
        consumerTime.Advance(Ttl);
        producerTime.Advance(Ttl);

        // 1. Every byte of the stream.
        var after = await ReadAllAsync(kinesis, stream);
        Assert.Equal(Users * EventsPerUser, after.Count);
        var allBytes = Encoding.UTF8.GetString(after.SelectMany(r => r.Data.ToArray()).ToArray());
        for (int u = 0; u < Users; u++)
        {
            foreach (var secret in Secrets(u))
            {
                Assert.DoesNotContain(secret, allBytes, StringComparison.Ordinal);
            }
        }

        // 2. Reads: the forgotten user is redacted, everybody else restored byte for byte.
        int redacted = 0;
        foreach (var r in after)
        {
            var dec = await consumer.Protector.DecryptAsync(r.Data.ToArray(), stream);
            if (dec.UserId == Forgotten)
            {
                Assert.Equal(RevealStatus.Redacted, dec.Status);
                var text = Encoding.UTF8.GetString(dec.Json.Span);
                foreach (var secret in Secrets(7))
                {
                    Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
                }

                using var doc = JsonDocument.Parse(dec.Json);
                Assert.Equal(PersonalDataOptions.DefaultRedactedMarker, doc.RootElement.GetProperty("email").GetString());
                Assert.Equal(PersonalDataOptions.DefaultRedactedMarker, doc.RootElement.GetProperty("address").GetString());
                redacted++;
            }
            else
            {
                Assert.Equal(RevealStatus.Decrypted, dec.Status);
                using var doc = JsonDocument.Parse(dec.Json);
                var key = $"{dec.UserId}/{doc.RootElement.GetProperty("n").GetInt32()}";
                Assert.Equal(originals[key], Encoding.UTF8.GetString(dec.Json.Span));
            }
        }

        Assert.Equal(EventsPerUser, redacted);

        // 3. A new write for the forgotten user is refused and creates no key.
        await Assert.ThrowsAsync<UserForgottenException>(() => producer.Protector.EncryptAsync(Encoding.UTF8.GetBytes(Event(7, 99)), stream).AsTask());
        var fresh = PrivacyRuntime.Create(options, store, master);
        await Assert.ThrowsAsync<UserForgottenException>(() => fresh.Protector.EncryptAsync(Encoding.UTF8.GetBytes(Event(7, 100)), stream).AsTask());

        // 4. The key table: a tombstone without key material; every other user still has a key.
        var scan = await dynamo.ScanAsync(new ScanRequest { TableName = store.TableName, ConsistentRead = true });
        Assert.Equal(Users, scan.Items.Count);
        var tomb = Assert.Single(scan.Items, i => i["userId"].S == Forgotten);
        Assert.Equal("Forgotten", tomb["status"].S);
        Assert.False(tomb.ContainsKey("wrappedKey"));
        Assert.All(scan.Items.Where(i => i["userId"].S != Forgotten), i => Assert.True(i.ContainsKey("wrappedKey")));

        // 5. Logs of every component (privacy runtimes and the function).
        var allLogs = string.Join("\n", logs.Messages) + "\n" + log;
        Assert.NotEmpty(logs.Messages);
        for (int u = 0; u < Users; u++)
        {
            foreach (var secret in Secrets(u))
            {
                Assert.DoesNotContain(secret, allLogs, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Full_pipeline_aggregating_producer_and_batch_processor_redact_the_forgotten_user()
    {
        var stream = EmulatorFixture.UniqueName("pii-agg");
        using var kinesis = fixture.CreateKinesisClient();
        await kinesis.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = 2 });
        await kinesis.WaitForStreamActiveAsync(stream);
        using var dynamo = fixture.CreateDynamoDbClient();
        var store = new DynamoDbKeyStore(dynamo, EmulatorFixture.UniqueName("keys"));
        await store.EnsureTableAsync();
        using var master = new LocalMasterKeyProvider(RandomNumberGenerator.GetBytes(32));
        var logs = new CapturingLoggerFactory();
        var options = new PrivacyOptions { KeyTableName = store.TableName, KeyCacheTtl = Ttl };
        var producerTime = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var consumerTime = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var producerSide = PrivacyRuntime.Create(options, store, master, producerTime, logs);
        using var consumerSide = PrivacyRuntime.Create(options, store, master, consumerTime, logs);

        // Encryption happens before the producer aggregates: the aggregates carry only ciphertext.
        var originals = new Dictionary<string, string>();
        await using (var producer = new EncryptingProducer(
            new KinesisProducer(kinesis, new KinesisProducerOptions { StreamName = stream, AggregationEnabled = true }), producerSide.Protector, stream))
        {
            var sends = new List<Task>();
            for (int u = 0; u < Users; u++)
            {
                for (int n = 0; n < EventsPerUser; n++)
                {
                    var json = Event(u, n);
                    originals[$"user-{u}/{n}"] = json;
                    sends.Add((await producer.EnqueueAsync(Encoding.UTF8.GetBytes(json)))!);
                }
            }

            await producer.FlushAsync();
            await Task.WhenAll(sends);
        }

        await consumerSide.Shredder.ForgetAsync(Forgotten);
        producerTime.Advance(Ttl);

        // Every byte of the stream, raw and after deaggregation.
        var records = await ReadAllAsync(kinesis, stream);
        Assert.True(records.Count < Users * EventsPerUser, "the producer aggregated");
        var raw = Encoding.UTF8.GetString(records.SelectMany(r => r.Data.ToArray()).ToArray());
        var decoded = Encoding.UTF8.GetString(records.SelectMany(r => RecordDecoder.Default.Decode(r.Data.ToArray(), r.PartitionKey).SelectMany(u => u.Data.ToArray())).ToArray());
        for (int u = 0; u < Users; u++)
        {
            foreach (var secret in Secrets(u))
            {
                Assert.DoesNotContain(secret, raw, StringComparison.Ordinal);
                Assert.DoesNotContain(secret, decoded, StringComparison.Ordinal);
            }
        }

        // The consumer library: deaggregate + decrypt transform + handler.
        var seen = new ConcurrentDictionary<string, string>();
        var failures = new ConcurrentQueue<RecordFailure>();
        var processor = new KinesisBatchProcessor(new KinesisBatchProcessorOptions { Transforms = [new DecryptingTransform(consumerSide.Protector)], OnRecordFailure = failures.Enqueue });
        var evt = new KinesisEvent
        {
            Records = records.Select(r => new KinesisEventRecord
            {
                Kinesis = new KinesisRecordData { PartitionKey = r.PartitionKey, SequenceNumber = r.SequenceNumber, Data = Convert.ToBase64String(r.Data.ToArray()), KinesisSchemaVersion = "1.0" },
                EventSource = "aws:kinesis",
                EventSourceArn = "arn:aws:kinesis:us-east-1:000000000000:stream/" + stream,
                EventId = "shardId-000000000000:" + r.SequenceNumber,
            }).ToList(),
        };
        var result = await processor.ProcessAsync(evt, (record, _) =>
        {
            using var doc = JsonDocument.Parse(record.Data);
            var key = $"{doc.RootElement.GetProperty("userId").GetString()}/{doc.RootElement.GetProperty("n").GetInt32()}";
            Assert.True(seen.TryAdd(key, Encoding.UTF8.GetString(record.Data.Span)));
            return ValueTask.CompletedTask;
        });

        Assert.True(result.IsSuccess, string.Join("\n", failures.Select(f => f.Message)));
        Assert.Equal(Users * EventsPerUser, seen.Count);
        foreach (var (key, json) in seen)
        {
            if (key.StartsWith(Forgotten + "/", StringComparison.Ordinal))
            {
                Assert.Contains("\"email\":\"[redacted: user forgotten]\"", json, StringComparison.Ordinal);
                Assert.DoesNotContain("pdenc1:", json, StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(originals[key], json);
            }
        }

        // A new write for the forgotten user is refused by the producer and reaches nothing.
        await using var again = new EncryptingProducer(new KinesisProducer(kinesis, new KinesisProducerOptions { StreamName = stream }), producerSide.Protector, stream);
        await Assert.ThrowsAsync<UserForgottenException>(() => again.SendAsync(Encoding.UTF8.GetBytes(Event(7, 1000))).AsTask());

        var allLogs = string.Join("\n", logs.Messages);
        foreach (var secret in Secrets(7))
        {
            Assert.DoesNotContain(secret, allLogs, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Forgotten_user_leaves_no_plaintext_in_the_aggregates_table_the_on_failure_destination_checkpoints_or_logs_of_the_runner_and_Aggregator()
    {
        using var s = new RunnerTestSupport(fixture);
        var stream = await s.CreateStreamAsync("pii-pipe", 2);
        var control = await s.CreateStreamAsync("forget", 1);
        var store = new DynamoDbKeyStore(s.Dynamo, EmulatorFixture.UniqueName("keys"));
        await store.EnsureTableAsync();
        using var master = new LocalMasterKeyProvider(RandomNumberGenerator.GetBytes(32));
        var logs = new CapturingLoggerFactory();
        var options = new PrivacyOptions { KeyTableName = store.TableName, KeyCacheTtl = Ttl };
        var producerTime = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var producerSide = PrivacyRuntime.Create(options, store, master, producerTime, logs);
        using var forgetter = PrivacyRuntime.Create(options, store, master, TimeProvider.System, logs);

        // The consumer: the runner with tumbling windows and the real Aggregator (key userId, pseudonymous and in the clear;
        // only non-personal fields aggregated), as `cloud pipeline` runs it. Its logs and every window state it returns are kept.
        await using var pipeline = await AggregatorPipeline.CreateAsync(s, stream,
            new AggregatorConfig { KeyField = "userId", SumFields = ["n"], TopKField = "page", TopKSize = 5 }, windowSeconds: 2, batchSize: 10, logs, recordResponses: true);

        await using var producer = new EncryptingProducer(
            new KinesisProducer(s.Kinesis, new KinesisProducerOptions { StreamName = stream, AggregationEnabled = true, AggregationMaxSize = 2048 }), producerSide.Protector, stream);
        async Task<int> ProduceAsync(int fromN, int toN)
        {
            var sends = new List<Task<SendResult>>();
            var refused = 0;
            for (int n = fromN; n < toN; n++)
            {
                for (int u = 0; u < Users; u++)
                {
                    try
                    {
                        sends.Add((await producer.EnqueueAsync(Encoding.UTF8.GetBytes(Event(u, n))))!);
                    }
                    catch (UserForgottenException) when (u == 7)
                    {
                        refused++;
                    }
                }
            }

            await producer.FlushAsync();
            await Task.WhenAll(sends);
            return refused;
        }

        // 1. Half of every user's events, and one poison record of the user to be forgotten: encrypted like the others, but
        //    with a string where the Aggregator needs a number, so it ends in the on-failure destination.
        Assert.Equal(0, await ProduceAsync(0, EventsPerUser / 2));
        var poisonJson = Event(7, 99).Replace("\"n\":99", "\"n\":\"99\"", StringComparison.Ordinal);
        var poisonData = await producerSide.Protector.EncryptAsync(Encoding.UTF8.GetBytes(poisonJson), stream);
        Assert.Equal(ProtectStatus.Encrypted, poisonData.Status);
        var poison = await s.Kinesis.PutRecordAsync(new PutRecordRequest { StreamName = stream, PartitionKey = Forgotten, Data = Stream(poisonData.Json) });

        // 2. Forget through the control stream and the Forget function; the producer's cached key expires after the TTL.
        await s.Kinesis.PutRecordAsync(new PutRecordRequest
        {
            StreamName = control,
            PartitionKey = Forgotten,
            Data = Stream(Encoding.UTF8.GetBytes($$"""{"userId":"{{Forgotten}}","requestedAt":"2026-11-23T12:00:00Z"}""")),
        });
        var forgetLog = new StringWriter();
        using (var response = await new ForgetFunction(forgetter.Shredder, forgetLog).HandleAsync(new MemoryStream(LambdaEvent(control, await ReadAllAsync(s.Kinesis, control))), default))
        using (var doc = await JsonDocument.ParseAsync(response))
        {
            Assert.Equal(0, doc.RootElement.GetProperty("batchItemFailures").GetArrayLength());
        }

        producerTime.Advance(Ttl);

        // 3. The rest: every write for the forgotten user is refused.
        Assert.Equal(EventsPerUser - (EventsPerUser / 2), await ProduceAsync(EventsPerUser / 2, EventsPerUser));

        var records = await s.ReadAllAsync(stream);
        await pipeline.WaitUntilDrainedAsync(AggregatorPipeline.LastSequenceByShard(records), TimeSpan.FromSeconds(120));
        await pipeline.Mapping.StopAsync();

        var secrets = Enumerable.Range(0, Users).SelectMany(Secrets).ToList();
        void AssertNoPlaintext(string where, string text)
        {
            foreach (var secret in secrets)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{where} holds personal plaintext '{secret}'");
            }
        }

        // The stream: raw bytes, and every user record after deaggregation.
        AssertNoPlaintext("the stream", Encoding.UTF8.GetString(records.SelectMany(r => r.Record.Data.ToArray()).ToArray()));
        AssertNoPlaintext("the deaggregated stream", Encoding.UTF8.GetString(records
            .SelectMany(r => RecordDecoder.Default.Decode(r.Record.Data.ToArray(), r.Record.PartitionKey).SelectMany(u => u.Data.ToArray())).ToArray()));

        // The aggregates table: every attribute of every item. The forgotten user's (pseudonymous) aggregates are there,
        // built from the records written before the forget — counts, not personal data.
        var aggregates = await ScanTableAsync(s.Dynamo, pipeline.AggregatesTableName);
        Assert.Contains($"pk={Forgotten} ", aggregates.Text, StringComparison.Ordinal); // the scan does see keys and nested top-K values
        Assert.Contains("/products/0:", aggregates.Text, StringComparison.Ordinal);
        AssertNoPlaintext("the aggregates table", aggregates.Text);
        var results = await AggregatesTable.ScanAsync(s.Dynamo, pipeline.AggregatesTableName);
        Assert.Equal(Users, results.Select(r => r.Key).Distinct().Count());
        Assert.Equal(EventsPerUser / 2, results.Where(r => r.Key == Forgotten).Sum(r => r.Count));
        Assert.Equal((Users * EventsPerUser) - (EventsPerUser - (EventsPerUser / 2)), results.Sum(r => r.Count));

        // The on-failure destination: every attribute of every item; it names the poison record, and holds no record data.
        var failures = await ScanTableAsync(s.Dynamo, pipeline.Failures.TableName);
        Assert.NotEqual(0, failures.Items);
        Assert.Contains(poison.SequenceNumber, failures.Text, StringComparison.Ordinal);
        AssertNoPlaintext("the on-failure destination", failures.Text);
        var stored = await pipeline.Failures.ReadAllAsync(pipeline.Mapping.StreamArn!);
        Assert.All(stored, f => Assert.Equal((poison.ShardId, poison.SequenceNumber, 1), (f.KinesisBatchInfo.ShardId, f.KinesisBatchInfo.StartSequenceNumber, f.KinesisBatchInfo.BatchSize)));
        Assert.DoesNotContain(Convert.ToBase64String(poisonData.Json.Span), failures.Text, StringComparison.Ordinal);

        // The runner's checkpoints (window states are stored compressed: read them back through the store too) and every
        // window state the Aggregator returned while windows were open.
        var checkpointTable = await ScanTableAsync(s.Dynamo, pipeline.Options.CheckpointTableName);
        Assert.Contains(pipeline.Options.EffectiveMappingId, checkpointTable.Text, StringComparison.Ordinal);
        AssertNoPlaintext("the checkpoint table", checkpointTable.Text);
        AssertNoPlaintext("the checkpoints", string.Join("\n", (await pipeline.Checkpoints.LoadAsync(pipeline.Options.EffectiveMappingId)).Values.Select(c => c.WindowState)));
        Assert.Contains(pipeline.Responses, r => r.Contains(Forgotten, StringComparison.Ordinal)); // states do carry the (pseudonymous) keys
        AssertNoPlaintext("the window states", string.Join("\n", pipeline.Responses));

        // The key table: a tombstone without key material.
        var keys = await s.Dynamo.ScanAsync(new ScanRequest { TableName = store.TableName, ConsistentRead = true });
        var tomb = Assert.Single(keys.Items, i => i["userId"].S == Forgotten);
        Assert.Equal(("Forgotten", false), (tomb["status"].S, tomb.ContainsKey("wrappedKey")));

        // The logs of every component: runner, Aggregator, privacy runtimes, Forget function. They did log the poison record
        // (by sequence number) and the forget (by user id).
        var allLogs = string.Join("\n", logs.Messages) + "\n" + forgetLog;
        Assert.Contains(logs.Messages, m => m.StartsWith("Cloud.EventSourceMapping Error", StringComparison.Ordinal) && m.Contains(poison.SequenceNumber, StringComparison.Ordinal));
        Assert.Contains(logs.Messages, m => m.StartsWith("Cloud.Functions.Aggregator Warning", StringComparison.Ordinal) && m.Contains(poison.SequenceNumber, StringComparison.Ordinal));
        Assert.Contains("KeyDestroyed", forgetLog.ToString(), StringComparison.Ordinal);
        AssertNoPlaintext("the logs", allLogs);
    }

    /// <summary>Every attribute name and value of every item of a table (binary values as their bytes read as UTF-8).</summary>
    private static async Task<(int Items, string Text)> ScanTableAsync(Amazon.DynamoDBv2.IAmazonDynamoDB dynamo, string table)
    {
        var text = new StringBuilder();
        var items = 0;
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var page = await dynamo.ScanAsync(new ScanRequest { TableName = table, ConsistentRead = true, ExclusiveStartKey = start });
            foreach (var item in page.Items ?? [])
            {
                items++;
                foreach (var (name, value) in item)
                {
                    text.Append(name).Append('=');
                    Append(value);
                    text.Append('\n');
                }
            }

            start = page.LastEvaluatedKey is { Count: > 0 } key ? key : null;
        }
        while (start is not null);
        return (items, text.ToString());

        void Append(AttributeValue v)
        {
            text.Append(v.S).Append(v.N).Append(' ');
            if (v.B is not null)
            {
                text.Append(Encoding.UTF8.GetString(v.B.ToArray()));
            }

            foreach (var x in (v.SS ?? []).Concat(v.NS ?? []))
            {
                text.Append(x).Append(' ');
            }

            foreach (var b in v.BS ?? [])
            {
                text.Append(Encoding.UTF8.GetString(b.ToArray())).Append(' ');
            }

            foreach (var (name, nested) in v.M ?? [])
            {
                text.Append(name).Append(':');
                Append(nested);
            }

            foreach (var nested in v.L ?? [])
            {
                Append(nested);
            }
        }
    }

    private static async Task<List<Amazon.Kinesis.Model.Record>> ReadAllAsync(IAmazonKinesis kinesis, string stream)
    {
        var result = new List<Amazon.Kinesis.Model.Record>();
        foreach (var shard in await kinesis.ListAllShardsAsync(stream))
        {
            var it = (await kinesis.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = stream, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.TRIM_HORIZON })).ShardIterator;
            while (it is not null)
            {
                var page = await kinesis.GetRecordsAsync(new GetRecordsRequest { ShardIterator = it, Limit = 1000 });
                result.AddRange(page.Records);
                if (page.Records.Count == 0 && page.MillisBehindLatest is 0 or null)
                {
                    break;
                }

                it = page.NextShardIterator;
            }
        }

        return result;
    }

    /// <summary>Bytes as the SDK's record data.</summary>
    private static MemoryStream Stream(ReadOnlyMemory<byte> data) => new(data.ToArray(), writable: false);

    private static byte[] LambdaEvent(string stream, List<Amazon.Kinesis.Model.Record> records)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("Records");
            foreach (var r in records)
            {
                w.WriteStartObject();
                w.WriteStartObject("kinesis");
                w.WriteString("kinesisSchemaVersion", "1.0");
                w.WriteString("partitionKey", r.PartitionKey);
                w.WriteString("sequenceNumber", r.SequenceNumber);
                w.WriteBase64String("data", r.Data.ToArray());
                w.WriteNumber("approximateArrivalTimestamp", new DateTimeOffset(r.ApproximateArrivalTimestamp!.Value.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0);
                w.WriteEndObject();
                w.WriteString("eventSource", "aws:kinesis");
                w.WriteString("eventVersion", "1.0");
                w.WriteString("eventID", "shardId-000000000000:" + r.SequenceNumber);
                w.WriteString("eventName", "aws:kinesis:record");
                w.WriteString("awsRegion", "us-east-1");
                w.WriteString("eventSourceARN", "arn:aws:kinesis:us-east-1:000000000000:stream/" + stream);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
