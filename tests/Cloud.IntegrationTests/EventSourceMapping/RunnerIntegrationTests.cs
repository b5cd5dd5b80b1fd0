using System.Text;
using System.Text.Json;
using Cloud.Consumer.Events;
using Cloud.EventSourceMapping;
using Cloud.Testing;

namespace Cloud.IntegrationTests.EventSourceMapping;

[Collection(EmulatorCollection.Name)]
public sealed class RunnerIntegrationTests(EmulatorFixture fixture) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly RunnerTestSupport _s = new(fixture);

    public void Dispose() => _s.Dispose();

    [Fact]
    public async Task Event_JSON_deserializes_with_the_consumer_models()
    {
        var stream = await _s.CreateStreamAsync("esm-json", 1);
        var put = await _s.Kinesis.PutRecordAsync(new Amazon.Kinesis.Model.PutRecordRequest { StreamName = stream, PartitionKey = "user-1", Data = new MemoryStream(Encoding.UTF8.GetBytes("""{"n":1}""")) });
        var events = new List<KinesisTimeWindowEvent>();
        var options = _s.Options(stream, o => { o.TumblingWindowInSeconds = 60; o.Region = fixture.Region; });
        await using var mapping = new LocalEventSourceMapping(options, _s.Kinesis, async (input, ct) =>
        {
            var e = await JsonSerializer.DeserializeAsync(input, KinesisEventsJsonContext.Default.KinesisTimeWindowEvent, ct);
            lock (events)
            {
                events.Add(e!);
            }
            return new MemoryStream("""{"state":{"seen":"1"}}"""u8.ToArray());
        }, _s.Store(options));
        await mapping.StartAsync();
        await RunnerTestSupport.WaitUntilAsync(() => events.Count >= 1, Patience, "first invoke", mapping);

        var evt = events[0];
        var record = Assert.Single(evt.Records);
        Assert.Equal(("1.0", "user-1", put.SequenceNumber), (record.Kinesis.KinesisSchemaVersion, record.Kinesis.PartitionKey, record.Kinesis.SequenceNumber));
        Assert.Equal("""{"n":1}""", Encoding.UTF8.GetString(Convert.FromBase64String(record.Kinesis.Data)));
        Assert.Equal(("aws:kinesis", "1.0", "aws:kinesis:record", fixture.Region), (record.EventSource, record.EventVersion, record.EventName, record.AwsRegion));
        Assert.Equal($"{put.ShardId}:{put.SequenceNumber}", record.EventId);
        Assert.Equal(mapping.StreamArn, record.EventSourceArn);
        Assert.EndsWith(":stream/" + stream, record.EventSourceArn, StringComparison.Ordinal);
        Assert.True(Math.Abs((DateTimeOffset.UtcNow - record.Kinesis.ApproximateArrivalTimestamp).TotalMinutes) < 5);
        Assert.Equal(put.ShardId, evt.ShardId);
        Assert.Equal(TimeSpan.FromSeconds(60), evt.Window!.End - evt.Window.Start);
        Assert.Equal(0, evt.Window.Start.ToUnixTimeSeconds() % 60);
        Assert.Empty(evt.State!);
        Assert.False(evt.IsFinalInvokeForWindow);
    }

    [Fact]
    public async Task Killing_and_restarting_the_runner_mid_stream_loses_nothing_and_keeps_per_key_order()
    {
        var stream = await _s.CreateStreamAsync("esm-restart", 2);
        await _s.PutCountersAsync(stream, keys: 10, perKey: 60);
        var total = _s.Written.Count;
        var options = _s.Options(stream, o => o.BatchSize = 10);
        var slow = _s.Recorder();
        Func<Stream, CancellationToken, Task<Stream>> handler = async (input, ct) =>
        {
            await Task.Delay(15, ct); // keep batches in flight so the stop lands mid-stream
            return await slow(input, ct);
        };

        var first = new LocalEventSourceMapping(options, _s.Kinesis, handler, _s.Store(options));
        await first.StartAsync();
        await RunnerTestSupport.WaitUntilAsync(() => _s.Handled.Count >= total / 3, Patience, "a third handled", first);
        await first.DisposeAsync(); // cancels the invokes in flight: their batches are not checkpointed
        var handledByFirst = _s.Handled.Count;
        Assert.True(handledByFirst < total, "the first runner finished everything; the test needs a mid-stream stop");

        await _s.PutCountersAsync(stream, keys: 10, perKey: 20, startAt: 60);
        _s.Run = 2;
        await using var second = new LocalEventSourceMapping(options, _s.Kinesis, handler, _s.Store(options));
        await second.StartAsync();
        var expected = _s.ExpectedOrderByKey();
        await RunnerTestSupport.WaitUntilAsync(() => _s.CountersByKey().All(k => k.Value.ToHashSet().Count == expected[k.Key].Count) && _s.CountersByKey().Count == 10,
            Patience, "every record handled", second);

        foreach (var (key, order) in expected)
        {
            // At least once: everything is there. In order: each run saw the key's records in stream order, and
            // the second run started at or before where the first one's checkpoint was (re-delivery, no gap).
            Assert.Equal(order.ToHashSet(), _s.CountersByKey()[key].ToHashSet());
            foreach (var run in new[] { 1, 2 })
            {
                var seen = _s.CountersByKey(run).GetValueOrDefault(key) ?? [];
                Assert.Equal(order.Where(seen.Contains).ToList(), seen);
            }
        }
        var redelivered = _s.Handled.Count - (total + 200);
        Assert.InRange(redelivered, 0, 2 * 10); // at most the two batches that were in flight
    }

    [Fact]
    public async Task Splitting_a_shard_mid_stream_keeps_per_key_order()
    {
        var stream = await _s.CreateStreamAsync("esm-split", 1);
        var options = _s.Options(stream, o => o.BatchSize = 25);
        await using var mapping = new LocalEventSourceMapping(options, _s.Kinesis, _s.Recorder(), _s.Store(options));
        await mapping.StartAsync();
        await _s.PutCountersAsync(stream, keys: 12, perKey: 30);
        var parent = await _s.SplitFirstOpenShardAsync(stream);
        await _s.PutCountersAsync(stream, keys: 12, perKey: 30, startAt: 30);
        await _s.SplitFirstOpenShardAsync(stream);
        await _s.PutCountersAsync(stream, keys: 12, perKey: 30, startAt: 60);
        var total = _s.Written.Count;
        await RunnerTestSupport.WaitUntilAsync(() => _s.Handled.Count >= total, Patience, "all handled", mapping);

        foreach (var (key, order) in _s.ExpectedOrderByKey())
        {
            Assert.Equal(order, _s.CountersByKey()[key]);
        }
        Assert.True(_s.Handled.Select(h => h.ShardId).Distinct().Count() >= 3, "records should come from the parent and child shards");
        await RunnerTestSupport.WaitUntilAsync(() => mapping.GetLag().Any(l => l.ShardId == parent && l.Finished), Patience, "parent finished", mapping);
    }

    [Fact]
    public async Task Enhanced_fan_out_registers_its_consumer_and_keeps_per_key_order_across_renewed_subscriptions_and_a_split()
    {
        var stream = await _s.CreateStreamAsync("esm-efo", 1);
        // A 2-second subscription lifetime makes the reader resubscribe (from the last record) many times in the test.
        var options = _s.Options(stream, o => { o.BatchSize = 25; o.ConsumerName = "esm-efo-consumer"; o.SubscriptionLifetime = TimeSpan.FromSeconds(2); });
        await using var mapping = new LocalEventSourceMapping(options, _s.Kinesis, _s.Recorder(), _s.Store(options));
        await mapping.StartAsync();
        await _s.PutCountersAsync(stream, keys: 8, perKey: 20);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var parent = await _s.SplitFirstOpenShardAsync(stream);
        await _s.PutCountersAsync(stream, keys: 8, perKey: 20, startAt: 20);
        var total = _s.Written.Count;
        await RunnerTestSupport.WaitUntilAsync(() => _s.Handled.Count >= total, Patience, "all handled", mapping);

        foreach (var (key, order) in _s.ExpectedOrderByKey())
        {
            Assert.Equal(order, _s.CountersByKey()[key]);
        }
        Assert.Equal(total, _s.Handled.Count); // nothing twice
        var consumer = await _s.Kinesis.DescribeStreamConsumerAsync(new Amazon.Kinesis.Model.DescribeStreamConsumerRequest { StreamARN = mapping.StreamArn, ConsumerName = "esm-efo-consumer" });
        Assert.Equal(Amazon.Kinesis.ConsumerStatus.ACTIVE, consumer.ConsumerDescription.ConsumerStatus);
        await RunnerTestSupport.WaitUntilAsync(() => mapping.GetLag().Any(l => l.ShardId == parent && l.Finished), Patience, "parent finished", mapping);
    }

    [Fact]
    public async Task The_enhanced_fan_out_stream_reader_reads_every_shard_parents_first_through_renewed_subscriptions()
    {
        // What `cloud consume STREAM --efo CONSUMER` reads with.
        var stream = await _s.CreateStreamAsync("efo-read", 1);
        await _s.PutCountersAsync(stream, keys: 6, perKey: 15);
        await _s.SplitFirstOpenShardAsync(stream);
        await _s.PutCountersAsync(stream, keys: 6, perKey: 15, startAt: 15);
        var reader = new EnhancedFanOutStreamReader(_s.Kinesis, new EnhancedFanOutStreamReaderOptions
        {
            StreamName = stream,
            ConsumerName = "efo-read-consumer",
            SubscriptionLifetime = TimeSpan.FromSeconds(2),
        });
        var seen = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var shards = new HashSet<string>(StringComparer.Ordinal);
        var count = 0;
        using var timeout = new CancellationTokenSource(Patience);
        await foreach (var e in reader.ReadAsync(timeout.Token))
        {
            foreach (var r in e.Records)
            {
                var text = Encoding.UTF8.GetString(r.Data.Span);
                var key = text[..text.IndexOf(':', StringComparison.Ordinal)];
                (seen.TryGetValue(key, out var list) ? list : seen[key] = []).Add(int.Parse(text[(key.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture));
                shards.Add(e.ShardId);
                count++;
            }
            if (count >= _s.Written.Count)
            {
                break;
            }
        }

        Assert.Equal(_s.Written.Count, count);
        foreach (var (key, order) in _s.ExpectedOrderByKey())
        {
            Assert.Equal(order, seen[key]);
        }
        Assert.Equal(3, shards.Count);
    }

    [Fact]
    public async Task A_poison_record_goes_to_the_on_failure_destination_and_all_others_are_processed()
    {
        var stream = await _s.CreateStreamAsync("esm-poison", 2);
        await _s.PutCountersAsync(stream, keys: 6, perKey: 20);
        var poison = await _s.Kinesis.PutRecordAsync(new Amazon.Kinesis.Model.PutRecordRequest { StreamName = stream, PartitionKey = "key-3", Data = new MemoryStream("poison"u8.ToArray()) });
        await _s.PutCountersAsync(stream, keys: 6, perKey: 20, startAt: 20);
        var destination = new DynamoDbOnFailureDestination(_s.Dynamo, EmulatorFixture.UniqueName("esm-dlq"));
        var options = _s.Options(stream, o =>
        {
            o.BatchSize = 50;
            o.BisectBatchOnFunctionError = true;
            o.MaximumRetryAttempts = 2;
            o.OnFailureDestination = destination;
            o.FunctionArn = "arn:aws:lambda:us-east-1:000000000000:function:aggregator";
        });
        var recorder = _s.Recorder();
        await using var mapping = new LocalEventSourceMapping(options, _s.Kinesis, async (input, ct) =>
        {
            using var copy = new MemoryStream();
            await input.CopyToAsync(copy, ct);
            if (Encoding.UTF8.GetString(copy.ToArray()).Contains(Convert.ToBase64String("poison"u8), StringComparison.Ordinal))
            {
                throw new FormatException("record is not JSON");
            }
            copy.Position = 0;
            return await recorder(copy, ct);
        }, _s.Store(options));
        await mapping.StartAsync();
        await RunnerTestSupport.WaitUntilAsync(() => _s.Handled.Count >= _s.Written.Count && mapping.GetStatistics().OnFailureRecords == 1, Patience, "all handled, poison reported", mapping);

        Assert.Equal(_s.Written.Select(w => $"{w.Key}:{w.N}").Order(), _s.Handled.Select(h => h.Data).Order());
        var stored = await destination.ReadAllAsync(mapping.StreamArn!);
        var record = Assert.Single(stored);
        Assert.Equal((OnFailureCondition.RetryAttemptsExhausted, 3, "Unhandled"), (record.Condition, record.ApproximateInvokeCount, record.FunctionError));
        Assert.Equal((poison.ShardId, poison.SequenceNumber, poison.SequenceNumber, 1), (record.KinesisBatchInfo.ShardId, record.KinesisBatchInfo.StartSequenceNumber, record.KinesisBatchInfo.EndSequenceNumber, record.KinesisBatchInfo.BatchSize));

        // The stored document is what Lambda sends: the consumer's model reads it field for field.
        var asConsumerSees = JsonSerializer.Deserialize(record.ToJson(), KinesisEventsJsonContext.Default.KinesisOnFailureRecord)!;
        Assert.Equal(("aggregator", poison.SequenceNumber, mapping.StreamArn), (asConsumerSees.RequestContext.FunctionArn.Split(':')[^1], asConsumerSees.KinesisBatchInfo.StartSequenceNumber, asConsumerSees.KinesisBatchInfo.StreamArn));
        Assert.Equal("Unhandled", asConsumerSees.ResponseContext.FunctionError);
    }

    [Fact]
    public async Task Checkpoint_store_round_trips_on_dynalite_including_a_chunked_1_MB_state()
    {
        var store = new DynamoDbCheckpointStore(_s.Dynamo, EmulatorFixture.UniqueName("esm-cp"));
        var random = new Random(7);
        var noise = new byte[900_000];
        random.NextBytes(noise);
        var state = JsonSerializer.Serialize(new Dictionary<string, string> { ["blob"] = Convert.ToBase64String(noise)[..1_000_000] });
        var windowStart = DateTimeOffset.FromUnixTimeSeconds(1_700_000_040);
        await store.SaveAsync(new ShardCheckpoint { MappingId = "m", ShardId = "shardId-000000000001", SequenceNumber = "42", WindowStart = windowStart, WindowState = state, UpdatedAt = DateTimeOffset.UnixEpoch });
        await store.SaveAsync(new ShardCheckpoint { MappingId = "m", ShardId = "shardId-000000000000", SequenceNumber = "7", Finished = true, UpdatedAt = DateTimeOffset.UnixEpoch });
        await store.SaveAsync(new ShardCheckpoint { MappingId = "other", ShardId = "shardId-000000000000", SequenceNumber = "9", UpdatedAt = DateTimeOffset.UnixEpoch });

        var reread = await new DynamoDbCheckpointStore(_s.Dynamo, store.TableName).LoadAsync("m");
        Assert.Equal(2, reread.Count);
        Assert.Equal(("7", true), (reread["shardId-000000000000"].SequenceNumber, reread["shardId-000000000000"].Finished));
        var open = reread["shardId-000000000001"];
        Assert.Equal(("42", false, windowStart), (open.SequenceNumber, open.Finished, open.WindowStart));
        Assert.Equal(state, open.WindowState);

        // Replacing the big state with a small one leaves a consistent item.
        await store.SaveAsync(open with { SequenceNumber = "43", WindowState = "{}" });
        Assert.Equal("{}", (await store.LoadAsync("m"))["shardId-000000000001"].WindowState);

        var startedAt = await store.GetOrAddStartTimeAsync("m", DateTimeOffset.FromUnixTimeSeconds(100));
        Assert.Equal(startedAt, await store.GetOrAddStartTimeAsync("m", DateTimeOffset.FromUnixTimeSeconds(200)));
        Assert.Equal(100, startedAt.ToUnixTimeSeconds());
    }

    [Fact]
    public async Task Lag_reader_reports_records_behind_the_checkpoint()
    {
        var stream = await _s.CreateStreamAsync("esm-lag", 2);
        await _s.PutCountersAsync(stream, keys: 8, perKey: 10);
        var options = _s.Options(stream);
        var store = _s.Store(options);
        var reader = new StreamLagReader(_s.Kinesis, store);
        Assert.Equal(80, (await reader.ReadAsync(stream)).Sum(l => l.RecordsBehind));

        await using (var mapping = new LocalEventSourceMapping(options, _s.Kinesis, _s.Recorder(), store))
        {
            await mapping.StartAsync();
            await RunnerTestSupport.WaitUntilAsync(() => _s.Handled.Count >= 80, Patience, "all handled", mapping);
            await RunnerTestSupport.WaitUntilAsync(() => mapping.GetLag().All(l => l.RecordsBehind == 0), Patience, "lag zero", mapping);
        }
        Assert.All(await reader.ReadAsync(stream), l => Assert.Equal(0, l.RecordsBehind));
        await _s.PutCountersAsync(stream, keys: 8, perKey: 1, startAt: 10);
        Assert.Equal(8, (await reader.ReadAsync(stream)).Sum(l => l.RecordsBehind));
    }
}
