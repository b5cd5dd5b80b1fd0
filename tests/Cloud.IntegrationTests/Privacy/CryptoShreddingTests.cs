using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Amazon.DynamoDBv2.Model;
using Cloud.Consumer;
using Cloud.Consumer.Events;
using Cloud.Consumer.Privacy;
using Cloud.Functions.Forget;
using Cloud.Kinesis;
using Cloud.Kinesis.Model;
using Cloud.Privacy;
using Cloud.Producer;
using Cloud.Producer.Privacy;
using Cloud.Records;
using Cloud.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Cloud.IntegrationTests.Privacy;

/// <summary>
/// End to end on kinesis-local + dynalite: personal data of many users goes into a stream encrypted per user; one user
/// is forgotten through the control stream and the Forget function; then every byte of the stream, the key table and
/// the captured logs is searched for that user's plaintext.
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
        using var kinesis = new KinesisClient(new KinesisClientOptions { ServiceUrl = fixture.KinesisEndpoint, Region = fixture.Region, Credentials = fixture.Credentials });
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
                entries.Add(new PutRecordsRequestEntry { Data = enc.Json, PartitionKey = $"user-{u}" });
            }
        }

        foreach (var chunk in entries.Chunk(100))
        {
            var put = await kinesis.PutRecordsAsync(new PutRecordsRequest { StreamName = stream, Records = chunk });
            Assert.Equal(0, put.FailedRecordCount);
        }

        // The consumer reads everything once before the forget (its cache now holds every key).
        var before = await ReadAllAsync(kinesis, stream);
        Assert.Equal(Users * EventsPerUser, before.Count);
        foreach (var r in before)
        {
            var dec = await consumer.Protector.DecryptAsync(r.Data, stream);
            Assert.Equal(RevealStatus.Decrypted, dec.Status);
        }

        // Forget through the control stream and the Forget function.
        await kinesis.PutRecordsAsync(new PutRecordsRequest
        {
            StreamName = control,
            Records = [new PutRecordsRequestEntry { Data = Encoding.UTF8.GetBytes($$"""{"userId":"{{Forgotten}}","requestedAt":"2026-11-23T12:00:00Z"}"""), PartitionKey = Forgotten }],
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
            var dec = await consumer.Protector.DecryptAsync(r.Data, stream);
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
        using var kinesis = new KinesisClient(new KinesisClientOptions { ServiceUrl = fixture.KinesisEndpoint, Region = fixture.Region, Credentials = fixture.Credentials });
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
        var decoded = Encoding.UTF8.GetString(records.SelectMany(r => RecordDecoder.Default.Decode(r.Data, r.PartitionKey).SelectMany(u => u.Data.ToArray())).ToArray());
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
                Kinesis = new KinesisRecordData { PartitionKey = r.PartitionKey, SequenceNumber = r.SequenceNumber, Data = Convert.ToBase64String(r.Data.Span), KinesisSchemaVersion = "1.0" },
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

    private static async Task<List<Cloud.Kinesis.Model.Record>> ReadAllAsync(IKinesisClient kinesis, string stream)
    {
        var result = new List<Cloud.Kinesis.Model.Record>();
        foreach (var shard in await kinesis.ListAllShardsAsync(stream))
        {
            var it = (await kinesis.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = stream, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.TrimHorizon })).ShardIterator;
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

    private static byte[] LambdaEvent(string stream, List<Cloud.Kinesis.Model.Record> records)
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
                w.WriteBase64String("data", r.Data.Span);
                w.WriteNumber("approximateArrivalTimestamp", r.ApproximateArrivalTimestamp.ToUnixTimeMilliseconds() / 1000.0);
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
