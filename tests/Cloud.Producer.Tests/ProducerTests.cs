using System.Diagnostics.Metrics;
using Amazon.Kinesis;
using Cloud.Testing.Kinesis;
using Microsoft.Extensions.DependencyInjection;
using static Cloud.Producer.Tests.ProducerHarness;

namespace Cloud.Producer.Tests;

public class ProducerTests
{
    private static readonly TimeSpan Ms10 = TimeSpan.FromMilliseconds(10);

    [Fact]
    public void Defaults_follow_the_KPL()
    {
        var o = new KinesisProducerOptions();
        Assert.True(o.AggregationEnabled);
        Assert.Equal(51_200, o.AggregationMaxSize);
        Assert.Equal(500, o.CollectionMaxCount);
        Assert.Equal(5L * 1024 * 1024, o.CollectionMaxSize);
        Assert.Equal(TimeSpan.FromMilliseconds(100), o.RecordMaxBufferedTime);
        Assert.Equal(TimeSpan.FromSeconds(30), o.RecordTtl);
        Assert.Equal(150, o.RateLimit);
        Assert.True(o.PreserveOrdering);
    }

    [Fact]
    public void Invalid_options_name_every_problem_at_once()
    {
        var o = new KinesisProducerOptions
        {
            StreamName = "bad name!",
            CollectionMaxCount = 501,
            CollectionMaxSize = 20L * 1024 * 1024,
            AggregationMaxSize = 10,
            RateLimit = 0,
            RecordTtl = TimeSpan.Zero,
            MaxBufferedRecords = 0,
            RetryMinBackoff = TimeSpan.FromSeconds(2),
            RetryMaxBackoff = TimeSpan.FromSeconds(1),
        };
        var ex = Assert.Throws<ProducerOptionsValidationException>(() => new KinesisProducer(new FakeKinesis(1), o));
        Assert.Equal(8, ex.Errors.Count);
        foreach (var name in new[] { "StreamName", "CollectionMaxCount", "CollectionMaxSize", "AggregationMaxSize", "RateLimit", "RecordTtl", "MaxBufferedRecords", "RetryMaxBackoff" })
        {
            Assert.Contains(name, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_lone_record_waits_for_the_linger_time_then_is_sent()
    {
        await using var h = new ProducerHarness(2);
        var send = h.Producer.SendAsync(Bytes("hello"), "key-1").AsTask();
        await h.SettleAsync();
        h.Time.Advance(TimeSpan.FromMilliseconds(99));
        await h.SettleAsync();
        Assert.Empty(h.Client.Requests);
        Assert.False(send.IsCompleted);

        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        await h.DriveAsync(send, TimeSpan.FromMilliseconds(1));
        var result = await send;
        Assert.Single(h.Client.Requests);
        Assert.Equal(ShardFor(await ShardsOf(h), FakeKinesis.HashOf("key-1", null)), result.ShardId);
        Assert.Equal(1, result.Attempts);
        Assert.False(result.IsAggregated);
    }

    [Fact]
    public async Task Count_trigger_sends_a_full_request_before_the_linger_time()
    {
        await using var h = new ProducerHarness(4, o =>
        {
            o.AggregationEnabled = false;
            o.PreserveOrdering = false;
            o.CollectionMaxCount = 10;
            o.RecordMaxBufferedTime = TimeSpan.FromSeconds(10);
        });
        var sends = Enumerable.Range(0, 10).Select(i => h.Producer.SendAsync(Bytes($"r{i}"), $"k{i}").AsTask()).ToArray();
        await Task.WhenAll(sends).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Single(h.Client.Requests);
        Assert.Equal(10, h.Client.Requests.Single().Records.Count);
    }

    [Fact]
    public async Task Size_trigger_sends_full_aggregates_before_the_linger_time()
    {
        await using var h = new ProducerHarness(1, o => o.RecordMaxBufferedTime = TimeSpan.FromSeconds(10));
        var payload = new byte[1000];
        // ~60 KB for one shard: more than one 51,200-byte aggregate is full, so one goes out without waiting.
        var sends = Enumerable.Range(0, 60).Select(i => h.Producer.SendAsync(payload, $"k{i}").AsTask()).ToArray();
        await h.SettleAsync();
        var stored = h.Client.Snapshot();
        Assert.Single(stored);
        Assert.True(TestKpl.IsAggregate(stored[0].Data));
        Assert.InRange(stored[0].Data.Length, 40_000, 51_200);
        int delivered = sends.Count(t => t.IsCompletedSuccessfully);
        Assert.Equal(TestKpl.Decode(stored[0]).Count, delivered);
        await h.DriveAsync(Task.WhenAll(sends), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Aggregates_hold_only_records_of_one_shard_in_order_with_subsequence_numbers()
    {
        await using var h = new ProducerHarness(4);
        var sends = Enumerable.Range(0, 2000).Select(i => h.Producer.SendAsync(Bytes($"value-{i}"), $"user-{i % 37}").AsTask()).ToArray();
        await h.Producer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var results = await Task.WhenAll(sends);
        var shards = await ShardsOf(h);
        var stored = h.Client.Snapshot();
        Assert.True(stored.Count < 100, $"expected aggregation, got {stored.Count} Kinesis records");
        var bySequence = stored.ToDictionary(s => (s.ShardId, s.SequenceNumber));
        for (int i = 0; i < sends.Length; i++)
        {
            var r = results[i];
            var sub = TestKpl.Decode(bySequence[(r.ShardId, r.SequenceNumber)]);
            var mine = sub[(int)(r.SubSequenceNumber ?? 0)];
            Assert.Equal($"value-{i}", System.Text.Encoding.UTF8.GetString(mine.Data));
            Assert.Equal($"user-{i % 37}", mine.PartitionKey);
            // Every sub-record belongs to the shard the aggregate landed on (KCL drops the others).
            Assert.Equal(r.ShardId, ShardFor(shards, FakeKinesis.HashOf(mine.PartitionKey, mine.ExplicitHashKey)));
        }
    }

    [Fact]
    public async Task A_record_too_big_to_aggregate_goes_alone()
    {
        await using var h = new ProducerHarness(1);
        var small = h.Producer.SendAsync(Bytes("small"), "a").AsTask();
        var big = h.Producer.SendAsync(new byte[60_000], "a").AsTask();
        var small2 = h.Producer.SendAsync(Bytes("small2"), "a").AsTask();
        await h.Producer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await h.DriveAsync(Task.WhenAll(small, big, small2), Ms10);
        Assert.False((await big).IsAggregated);
        Assert.Equal(60_000, h.Client.Snapshot().Single(s => s.SequenceNumber == big.Result.SequenceNumber).Data.Length);
        // Order on the shard is kept: small < big < small2.
        Assert.True(string.CompareOrdinal(small.Result.SequenceNumber, big.Result.SequenceNumber) < 0);
        Assert.True(string.CompareOrdinal(big.Result.SequenceNumber, small2.Result.SequenceNumber) < 0);
    }

    [Fact]
    public async Task Fill_payload_units_mode_keeps_data_plus_key_within_whole_units()
    {
        await using var h = new ProducerHarness(1, o => o.AggregationMode = AggregationSizeMode.FillPayloadUnits);
        var rng = new Random(1);
        var sends = Enumerable.Range(0, 3000).Select(i => h.Producer.SendAsync(new byte[rng.Next(50, 400)], $"pk-{i % 50}").AsTask()).ToArray();
        await h.Producer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(20));
        await Task.WhenAll(sends);
        var stored = h.Client.Snapshot();
        foreach (var s in stored)
        {
            Assert.True(s.Data.Length + s.PartitionKey.Length <= 2 * KinesisProducerOptions.PayloadUnitSize);
        }
        // All but the last aggregate fill their two units to within one record.
        Assert.All(stored.SkipLast(1), s => Assert.True(s.Data.Length + s.PartitionKey.Length > (2 * KinesisProducerOptions.PayloadUnitSize) - 500));
    }

    [Fact]
    public async Task Keyless_records_are_spread_evenly_over_the_shards()
    {
        await using var h = new ProducerHarness(7);
        var sends = Enumerable.Range(0, 7000).Select(i => h.Producer.SendAsync(Bytes($"v{i}")).AsTask()).ToArray();
        await h.Producer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(20));
        var results = await Task.WhenAll(sends);
        var perShard = results.GroupBy(r => r.ShardId).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(7, perShard.Count);
        Assert.All(perShard.Values, c => Assert.Equal(1000, c));
    }

    [Fact]
    public async Task Records_with_a_key_always_go_to_the_shard_the_key_hashes_to()
    {
        await using var h = new ProducerHarness(8);
        var keys = Enumerable.Range(0, 200).Select(i => $"customer-{i}").ToArray();
        var sends = keys.Concat(keys).Select(k => (k, t: h.Producer.SendAsync(Bytes(k), k).AsTask())).ToArray();
        await h.Producer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var shards = await ShardsOf(h);
        foreach (var (k, t) in sends)
        {
            Assert.Equal(ShardFor(shards, FakeKinesis.HashOf(k, null)), (await t).ShardId);
        }
    }

    [Fact]
    public async Task Throttled_records_are_retried_and_the_shard_rate_is_cut()
    {
        await using var h = new ProducerHarness(1, o => o.AggregationEnabled = false);
        h.Client.FailEntry = (call, _, _) => call == 0 ? "ProvisionedThroughputExceededException" : null;
        using var metrics = new MetricCollector(h.Meters);
        var sends = Enumerable.Range(0, 3).Select(i => h.Producer.SendAsync(Bytes($"r{i}"), "k").AsTask()).ToArray();
        await h.DriveAsync(Task.WhenAll(sends), Ms10);
        var results = await Task.WhenAll(sends);
        // Ordering on: one record per shard per request, so only the first was throttled, and order held.
        Assert.Equal(2, results[0].Attempts);
        Assert.True(string.CompareOrdinal(results[0].SequenceNumber, results[1].SequenceNumber) < 0);
        Assert.True(string.CompareOrdinal(results[1].SequenceNumber, results[2].SequenceNumber) < 0);
        Assert.Contains(h.Producer.RateFactors().Values, f => f < 1.0);
        Assert.True(metrics.Sum(ProducerMetricNames.Throttles) >= 1);
        Assert.True(metrics.Sum(ProducerMetricNames.Retries) >= 1);
    }

    [Fact]
    public async Task The_shard_byte_limit_is_charged_with_the_compressed_size_of_an_aggregate()
    {
        // 4,000 × 1 KB of repetitive JSON = ~4 MB before compression, ~27 KB after. Kinesis counts the bytes it stores,
        // so the shard's full byte bucket (1.5 MiB at the default RateLimit 150) holds them all: with the fake clock
        // never moving (no refill), every record must still go out. Charged at the uncompressed size, the bucket ran
        // dry after ~1.5 MB and the rest waited for a refill (found by bench/run's savings section).
        await using var h = new ProducerHarness(1, o => o.Compression = Cloud.Records.CompressionCodec.Zstd);
        var record = Bytes("{\"page\":\"/products/42\",\"event\":\"view\",\"pad\":\"" + new string('x', 960) + "\"}");
        var sends = Enumerable.Range(0, 4_000).Select(i => h.Producer.SendAsync(record, "user-" + (i % 50)).AsTask()).ToArray();
        var flush = h.Producer.FlushAsync();
        // The fake clock stays where it started; real time only bounds the wait (a hang guard, not a speed check).
        bool delivered = await Task.WhenAll(sends).WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default);
        long stored = h.Client.Snapshot().Sum(s => s.Data.Length);
        Assert.True(stored < 200_000, $"{stored} bytes stored: the records were expected to compress");
        Assert.True(delivered, $"{sends.Count(t => !t.IsCompleted)} of 4,000 records still wait for the shard's byte budget with {stored} bytes stored");
        await flush;
    }

    [Fact]
    public async Task Rate_factor_recovers_additively_after_throttling_stops()
    {
        await using var h = new ProducerHarness(1, o => o.AggregationEnabled = false);
        h.Client.FailEntry = (call, _, _) => call < 3 ? "ProvisionedThroughputExceededException" : null;
        var send = h.Producer.SendAsync(Bytes("x"), "k").AsTask();
        await h.DriveAsync(send, Ms10);
        double cut = h.Producer.RateFactors().Values.Single();
        Assert.True(cut < 0.5, $"three throttles should cut the rate well below half, got {cut}");
        h.Time.Advance(TimeSpan.FromSeconds(20));
        var again = h.Producer.SendAsync(Bytes("y"), "k").AsTask();
        await h.DriveAsync(again, Ms10);
        Assert.Equal(1.0, h.Producer.RateFactors().Values.Single(), 3);
    }

    [Fact]
    public async Task Partial_failures_never_reorder_a_key_when_ordering_is_on()
    {
        var rng = new Random(7);
        await using var h = new ProducerHarness(4, o =>
        {
            o.RecordMaxBufferedTime = TimeSpan.FromMilliseconds(20);
            o.AggregationMaxSize = 1024; // many small aggregates: many requests and retries
        });
        h.Client.FailEntry = (_, _, _) =>
        {
            lock (rng)
            {
                double x = rng.NextDouble();
                return x < 0.2 ? "ProvisionedThroughputExceededException" : x < 0.3 ? "InternalFailure" : null;
            }
        };
        var sends = new List<(string Key, int Index, Task<SendResult> Task)>();
        for (int i = 0; i < 3000; i++)
        {
            string key = $"key-{i % 25}";
            sends.Add((key, i, h.Producer.SendAsync(Bytes($"{key}:{i}"), key).AsTask()));
            if (i % 300 == 0)
            {
                h.Time.Advance(Ms10);
            }
        }
        await h.DriveAsync(Task.WhenAll(sends.Select(s => s.Task)), Ms10);
        Assert.True(h.Client.Requests.Count > 10);
        foreach (var group in sends.GroupBy(s => s.Key))
        {
            var positions = group.OrderBy(s => s.Index).Select(s => (s.Task.Result.SequenceNumber, s.Task.Result.SubSequenceNumber ?? -1)).ToList();
            for (int i = 1; i < positions.Count; i++)
            {
                Assert.True(string.CompareOrdinal(positions[i - 1].SequenceNumber, positions[i].SequenceNumber) < 0
                    || (positions[i - 1].SequenceNumber == positions[i].SequenceNumber && positions[i - 1].Item2 < positions[i].Item2),
                    $"{group.Key} reordered at {i}");
            }
        }
    }

    [Fact]
    public async Task Whole_request_errors_are_retried_without_losing_records()
    {
        await using var h = new ProducerHarness(2, o => o.AggregationEnabled = false);
        h.Client.FailCall = call => call switch
        {
            0 => new HttpRequestException("connection refused"),
            1 => FakeKinesis.ServiceError("InternalFailure", System.Net.HttpStatusCode.InternalServerError),
            _ => null,
        };
        var sends = Enumerable.Range(0, 50).Select(i => h.Producer.SendAsync(Bytes($"r{i}"), $"k{i}").AsTask()).ToArray();
        await h.DriveAsync(Task.WhenAll(sends), Ms10);
        Assert.Equal(50, h.Client.Snapshot().Count);
    }

    [Fact]
    public async Task A_record_that_expires_before_its_first_attempt_says_it_was_never_sent()
    {
        // 4,000 unaggregated records on one shard, 1 s TTL: the shard's bucket (1,500 records/s at RateLimit 150) sends
        // some; the rest expire in the queue, never attempted — the message must not read "after 0 attempt(s)".
        await using var h = new ProducerHarness(1, o =>
        {
            o.AggregationEnabled = false;
            o.RecordTtl = TimeSpan.FromSeconds(1);
        });
        var sends = Enumerable.Range(0, 4_000).Select(i => h.Producer.SendAsync(Bytes("r"), $"k{i}").AsTask()).ToArray();
        await h.DriveAsync(Task.WhenAll(sends.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))), TimeSpan.FromMilliseconds(50));
        var neverSent = sends.Where(t => t.IsFaulted).Select(t => Assert.IsType<RecordDeliveryException>(t.Exception!.InnerException)).Where(e => e.Attempts == 0).ToList();
        Assert.NotEmpty(neverSent);
        Assert.All(neverSent, e =>
        {
            Assert.Equal(DeliveryFailureReason.TtlExpired, e.Reason);
            Assert.Contains("never sent", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("0 attempt", e.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task A_record_that_cannot_be_delivered_fails_with_ttl_expired_and_reaches_the_failure_handler()
    {
        var failures = new List<RecordDeliveryException>();
        await using var h = new ProducerHarness(1, o =>
        {
            o.RecordTtl = TimeSpan.FromSeconds(3);
            o.FailureHandler = failures.Add;
        });
        h.Client.FailCall = _ => new HttpRequestException("connection refused");
        var send = h.Producer.SendAsync(Bytes("doomed"), "k").AsTask();
        await h.DriveAsync(send.ContinueWith(_ => { }, TaskScheduler.Default), TimeSpan.FromMilliseconds(50));
        var ex = await Assert.ThrowsAsync<RecordDeliveryException>(() => send);
        Assert.Equal(DeliveryFailureReason.TtlExpired, ex.Reason);
        Assert.IsType<HttpRequestException>(ex.InnerException);
        Assert.True(ex.Attempts >= 2);
        Assert.Equal("doomed", System.Text.Encoding.UTF8.GetString(ex.RecordData.Span));
        Assert.Same(ex, Assert.Single(failures));
    }

    [Fact]
    public async Task Back_pressure_makes_senders_wait_for_space_instead_of_growing()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var h = new ProducerHarness(1, o => o.MaxBufferedRecords = 10);
        h.Client.Gate = release.Task;
        var accepted = new List<Task<SendResult>>();
        for (int i = 0; i < 10; i++)
        {
            accepted.Add(await h.Producer.EnqueueAsync(Bytes($"r{i}"), "k"));
        }
        var eleventh = h.Producer.EnqueueAsync(Bytes("r10"), "k").AsTask();
        await h.Producer.FlushAsync().ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(TimeSpan.FromMilliseconds(200)).ContinueWith(_ => { }, TaskScheduler.Default);
        Assert.False(eleventh.IsCompleted);
        Assert.Equal(10, h.Producer.BufferedRecords);

        release.SetResult();
        accepted.Add(await eleventh.WaitAsync(TimeSpan.FromSeconds(10)));
        await h.DriveAsync(Task.WhenAll(accepted), Ms10);
        Assert.Equal(11, accepted.Count(t => t.IsCompletedSuccessfully));
    }

    [Fact]
    public async Task Waiting_for_space_can_be_cancelled()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var h = new ProducerHarness(1, o => o.MaxBufferedRecords = 1);
        h.Client.Gate = release.Task;
        var first = await h.Producer.EnqueueAsync(Bytes("a"), "k");
        using var cts = new CancellationTokenSource();
        var second = h.Producer.SendAsync(Bytes("b"), "k", cancellationToken: cts.Token).AsTask();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
        release.SetResult();
        await h.DriveAsync(first, Ms10);
        Assert.Single(h.Client.Snapshot());
    }

    [Theory]
    [InlineData("data", 0, "k", null)]
    [InlineData("partitionKey", 10, "", null)]
    [InlineData("partitionKey", 10, "LONG", null)]
    [InlineData("explicitHashKey", 10, "k", "12a")]
    [InlineData("explicitHashKey", 10, "k", "340282366920938463463374607431768211456")]
    [InlineData("explicitHashKey", 10, "k", "007")] // Kinesis's pattern 0|([1-9]\d{0,38}) has no leading zeros
    [InlineData("data", 1_048_576, "k", null)]
    public async Task Bad_input_gets_a_typed_error_naming_the_field_and_other_records_are_delivered(string field, int size, string? key, string? ehk)
    {
        var failures = new List<RecordDeliveryException>();
        await using var h = new ProducerHarness(2, o => o.FailureHandler = failures.Add);
        if (key == "LONG")
        {
            key = new string('x', 257);
        }
        var good1 = h.Producer.SendAsync(Bytes("ok1"), "g").AsTask();
        var bad = h.Producer.SendAsync(new byte[size], key, ehk).AsTask();
        var good2 = h.Producer.SendAsync(Bytes("ok2"), "g").AsTask();
        var ex = await Assert.ThrowsAsync<RecordDeliveryException>(() => bad);
        Assert.Equal(DeliveryFailureReason.InvalidRecord, ex.Reason);
        Assert.Equal(field, ex.Field);
        Assert.Contains(field, ex.Message, StringComparison.Ordinal);
        Assert.Single(failures);
        await h.Producer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await Task.WhenAll(good1, good2).WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Stream_missing_fails_records_with_stream_not_found()
    {
        await using var h = new ProducerHarness(1);
        h.Client.ListShardsError = FakeKinesis.ServiceError("ResourceNotFoundException");
        var send = h.Producer.SendAsync(Bytes("x"), "k").AsTask();
        await h.DriveAsync(send.ContinueWith(_ => { }, TaskScheduler.Default), Ms10);
        var ex = await Assert.ThrowsAsync<RecordDeliveryException>(() => send);
        Assert.Equal(DeliveryFailureReason.StreamNotFound, ex.Reason);
        Assert.Contains("test-stream", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_deleted_mid_run_fails_in_flight_records_with_stream_not_found()
    {
        await using var h = new ProducerHarness(1, o => o.AggregationEnabled = false);
        var first = h.Producer.SendAsync(Bytes("before"), "k").AsTask();
        await h.DriveAsync(first, Ms10);
        h.Client.FailCall = _ => FakeKinesis.ServiceError("ResourceNotFoundException");
        h.Client.ListShardsError = FakeKinesis.ServiceError("ResourceNotFoundException");
        var later = Enumerable.Range(0, 5).Select(i => h.Producer.SendAsync(Bytes($"after{i}"), "k").AsTask()).ToArray();
        await h.DriveAsync(Task.WhenAll(later).ContinueWith(_ => { }, TaskScheduler.Default), Ms10);
        Assert.True(first.IsCompletedSuccessfully);
        Assert.All(later, t => Assert.Equal(DeliveryFailureReason.StreamNotFound, Assert.IsType<RecordDeliveryException>(t.Exception!.InnerException).Reason));
    }

    [Fact]
    public async Task A_result_on_an_unexpected_shard_refreshes_the_shard_map_and_rebalances()
    {
        await using var h = new ProducerHarness(2, o => o.AggregationEnabled = false);
        var warm = h.Producer.SendAsync(Bytes("warm"), "k").AsTask();
        await h.DriveAsync(warm, Ms10);
        Assert.Equal(1, h.Client.ListShardsCalls);
        // Reshard to 4 shards: the stream routes by the new ranges, the producer still predicts 2 shards.
        h.Client.Reshard(4, publish: false);
        var sends = Enumerable.Range(0, 40).Select(i => h.Producer.SendAsync(Bytes($"r{i}"), $"key-{i}").AsTask()).ToArray();
        h.Client.PublishShards();
        await h.DriveAsync(Task.WhenAll(sends), Ms10);
        for (int i = 0; i < 1000 && h.Client.ListShardsCalls < 2; i++)
        {
            h.Time.Advance(TimeSpan.FromMilliseconds(100));
            await h.SettleAsync();
        }
        var keyless = Enumerable.Range(0, 400).Select(i => h.Producer.SendAsync(Bytes($"n{i}")).AsTask()).ToArray();
        await h.DriveAsync(Task.WhenAll(keyless), Ms10);
        Assert.True(h.Client.ListShardsCalls >= 2);
        var counts = keyless.GroupBy(t => t.Result.ShardId).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(4, counts.Count);
        Assert.All(counts.Values, c => Assert.Equal(100, c));
    }

    [Fact]
    public async Task Dispose_flushes_everything_accepted()
    {
        // A 30 s linger would hold these records; disposing sends them now.
        var h = new ProducerHarness(3, o => { o.RecordMaxBufferedTime = TimeSpan.FromSeconds(30); o.RecordTtl = TimeSpan.FromMinutes(1); });
        h.Options.RecordTtl = TimeSpan.FromSeconds(1); // the producer copied its options: this must not matter
        var sends = Enumerable.Range(0, 100).Select(i => h.Producer.SendAsync(Bytes($"r{i}"), $"k{i}").AsTask()).ToArray();
        await h.Producer.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        await Task.WhenAll(sends).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(100, h.Client.Snapshot().Sum(s => TestKpl.Decode(s).Count));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => h.Producer.SendAsync(Bytes("late"), "k").AsTask());
    }

    [Fact]
    public async Task Metrics_report_records_bytes_latency_and_aggregation_ratio()
    {
        await using var h = new ProducerHarness(2, o => o.HotKeyCount = 3);
        using var metrics = new MetricCollector(h.Meters);
        var sends = Enumerable.Range(0, 300).Select(i => h.Producer.SendAsync(Bytes("0123456789"), i % 3 == 0 ? "hot" : $"cold-{i}").AsTask()).ToArray();
        await h.Producer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await Task.WhenAll(sends);
        Assert.Equal(300, metrics.Sum(ProducerMetricNames.UserRecords));
        Assert.Equal(3000, metrics.Sum(ProducerMetricNames.UserBytes));
        Assert.True(metrics.Count(ProducerMetricNames.RequestDuration) >= 1);
        Assert.True(metrics.Max(ProducerMetricNames.AggregationRatio) > 1);
        // Keys are often user ids: pseudonymised by default, raw only on request, never in a metric tag.
        var hot = h.Producer.GetHotKeys();
        Assert.Matches("^k:[0-9a-f]{12}$", hot[0].PartitionKey);
        Assert.Equal(100, hot[0].Count);
        Assert.Equal(hot[0].PartitionKey, h.Producer.GetHotKeys()[0].PartitionKey); // stable within the producer
        var raw = h.Producer.GetHotKeys(HotKeyDisclosure.Raw);
        Assert.Equal("hot", raw[0].PartitionKey);
        metrics.RecordObservables();
        Assert.Equal(100, metrics.Max(ProducerMetricNames.HotKeyRecords));
        Assert.DoesNotContain(metrics.TagValues(), v => v.Contains("hot", StringComparison.Ordinal) || v.Contains("cold-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddKinesisProducer_registers_a_validated_singleton()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IAmazonKinesis>(new FakeKinesis(1));
        services.AddKinesisProducer(o => o.StreamName = "test-stream");
        await using var provider = services.BuildServiceProvider();
        var producer = provider.GetRequiredService<IKinesisProducer>();
        Assert.Same(producer, provider.GetRequiredService<KinesisProducer>());
        var result = await producer.SendAsync(Bytes("x"), "k");
        Assert.StartsWith("shardId-", result.ShardId, StringComparison.Ordinal);

        var bad = new ServiceCollection();
        bad.AddSingleton<IAmazonKinesis>(new FakeKinesis(1));
        bad.AddKinesisProducer(o => o.CollectionMaxCount = 0);
        await using var badProvider = bad.BuildServiceProvider();
        var ex = Assert.Throws<ProducerOptionsValidationException>(() => { _ = badProvider.GetRequiredService<IKinesisProducer>(); });
        Assert.Equal(2, ex.Errors.Count); // StreamName and CollectionMaxCount
    }

    /// <summary>Linear scan of the open shards (independent of the producer's binary search).</summary>
    private static string ShardFor(List<Amazon.Kinesis.Model.Shard> shards, UInt128 hash) =>
        shards.Single(s => s.SequenceNumberRange.EndingSequenceNumber is null
            && UInt128.Parse(s.HashKeyRange.StartingHashKey, System.Globalization.CultureInfo.InvariantCulture) <= hash
            && hash <= UInt128.Parse(s.HashKeyRange.EndingHashKey, System.Globalization.CultureInfo.InvariantCulture)).ShardId;

    private static async Task<List<Amazon.Kinesis.Model.Shard>> ShardsOf(ProducerHarness h) =>
        [.. (await h.Client.ListShardsAsync(new Amazon.Kinesis.Model.ListShardsRequest { StreamName = h.Client.StreamName })).Shards];
}

/// <summary>Collects Cloud.Producer measurements.</summary>
internal sealed class MetricCollector : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<(string Name, double Value)> _values = [];
    private readonly List<string> _tagValues = [];

    /// <summary>Listens to the producer meter created by <paramref name="scope"/> only (tests run in parallel).</summary>
    public MetricCollector(ScopedMeterFactory scope)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ProducerMetricNames.MeterName && ReferenceEquals(instrument.Meter.Scope, scope))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i.Name, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i.Name, v, tags));
        _listener.Start();
    }

    private void Add(string name, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        lock (_values)
        {
            _values.Add((name, value));
            foreach (var tag in tags)
            {
                _tagValues.Add(Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture) ?? "");
            }
        }
    }

    /// <summary>Every tag value seen (to prove no key leaks into telemetry).</summary>
    public List<string> TagValues()
    {
        lock (_values)
        {
            return [.. _tagValues];
        }
    }

    private List<double> Of(string name)
    {
        lock (_values)
        {
            return [.. _values.Where(v => v.Name == name).Select(v => v.Value)];
        }
    }

    public void RecordObservables() => _listener.RecordObservableInstruments();

    public double Sum(string name) => Of(name).Sum();

    public int Count(string name) => Of(name).Count;

    public double Max(string name) => Of(name).DefaultIfEmpty(0).Max();

    public void Dispose() => _listener.Dispose();
}

public class ProducerRecordsCompatibilityTests
{
    [Theory]
    [InlineData(Cloud.Records.CompressionCodec.None)]
    [InlineData(Cloud.Records.CompressionCodec.Gzip)]
    [InlineData(Cloud.Records.CompressionCodec.Zstd)]
    [InlineData(Cloud.Records.CompressionCodec.Lz4)]
    [InlineData(Cloud.Records.CompressionCodec.Snappy)]
    public async Task What_the_producer_writes_decodes_with_the_Records_decoder(Cloud.Records.CompressionCodec codec)
    {
        await using var h = new ProducerHarness(3, o => o.Compression = codec);
        var sends = Enumerable.Range(0, 1500)
            .Select(i => h.Producer.SendAsync(ProducerHarness.Bytes($"{{\"user\":\"u{i % 40}\",\"event\":\"click\",\"n\":{i}}}"), i % 5 == 0 ? null : $"u{i % 40}").AsTask())
            .ToArray();
        await h.Producer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(20));
        await Task.WhenAll(sends);
        var decoded = new List<string>();
        foreach (var stored in h.Client.Snapshot())
        {
            var format = Cloud.Records.RecordFormat.Detect(stored.Data);
            Assert.Equal(codec == Cloud.Records.CompressionCodec.None ? Cloud.Records.RecordKind.KplAggregated : Cloud.Records.RecordKind.Compressed, format);
            foreach (var user in Cloud.Records.RecordDecoder.Default.Decode(stored.Data, stored.PartitionKey, stored.SequenceNumber, stored.ExplicitHashKey))
            {
                decoded.Add(System.Text.Encoding.UTF8.GetString(user.Data.Span));
            }
        }
        Assert.Equal(sends.Select((_, i) => $"{{\"user\":\"u{i % 40}\",\"event\":\"click\",\"n\":{i}}}").Order(StringComparer.Ordinal), decoded.Order(StringComparer.Ordinal));
    }
}

/// <summary>An <see cref="IMeterFactory"/> whose meters carry it as their scope.</summary>
public sealed class ScopedMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Scope = this;
        var meter = new Meter(options);
        lock (_meters)
        {
            _meters.Add(meter);
        }
        return meter;
    }

    public void Dispose()
    {
        lock (_meters)
        {
            _meters.ForEach(m => m.Dispose());
        }
    }
}
