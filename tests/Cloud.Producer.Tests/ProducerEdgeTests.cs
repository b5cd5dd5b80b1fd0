using System.Net;
using Cloud.Records;
using Cloud.Testing.Kinesis;
using Microsoft.Extensions.DependencyInjection;
using static Cloud.Producer.Tests.ProducerHarness;

namespace Cloud.Producer.Tests;

/// <summary>The producer at AWS's edges: reshards racing the map, permanent errors, refused requests, hung calls.</summary>
public class ProducerEdgeTests
{
    private static readonly TimeSpan Ms10 = TimeSpan.FromMilliseconds(10);

    [Fact]
    public async Task An_aggregate_written_to_another_shard_than_predicted_is_resent_so_the_KCL_rule_loses_nothing()
    {
        await using var h = new ProducerHarness(2);
        await h.DriveAsync(h.Producer.SendAsync(Bytes("warm"), "warm").AsTask(), Ms10);
        // Reshard 2 → 4 behind the producer's back: it still predicts 2 shards, so its aggregates mix records of two children.
        h.Client.Reshard(4);
        var keys = Enumerable.Range(0, 64).Select(i => $"user-{i}").ToArray();
        var sends = Enumerable.Range(0, 2000).Select(i => (Key: keys[i % keys.Length], N: i, Task: h.Producer.SendAsync(Bytes($"{keys[i % keys.Length]}:{i}"), keys[i % keys.Length]).AsTask())).ToArray();
        await h.DriveAsync(Task.WhenAll(sends.Select(s => s.Task)), Ms10);

        // Read every shard as the KCL does: an aggregate with a record outside its shard's range is dropped whole.
        var ranges = h.Client.Shards().ToDictionary(s => s.ShardId, s => ((UInt128)s.Start, (UInt128)s.End));
        var kept = new Dictionary<(string ShardId, string Sequence), List<UserRecord>>();
        var seenPerKey = new Dictionary<string, List<int>>();
        foreach (var shard in h.Client.Shards())
        {
            foreach (var stored in h.Client.Snapshot().Where(s => s.ShardId == shard.ShardId))
            {
                var users = RecordDecoder.Default.Decode(stored.Data, stored.PartitionKey, stored.SequenceNumber, stored.ExplicitHashKey);
                if (!KclShardFilter.Keeps(users, ranges[shard.ShardId].Item1, ranges[shard.ShardId].Item2))
                {
                    continue;
                }
                kept[(stored.ShardId, stored.SequenceNumber)] = users;
                foreach (var u in users)
                {
                    var text = System.Text.Encoding.UTF8.GetString(u.Data.Span);
                    if (text == "warm")
                    {
                        continue;
                    }
                    var parts = text.Split(':');
                    (seenPerKey.TryGetValue(parts[0], out var list) ? list : seenPerKey[parts[0]] = []).Add(int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }
        // Every completed send points at a Kinesis record the KCL keeps, holding that very record.
        foreach (var (key, n, task) in sends)
        {
            var result = await task;
            Assert.True(kept.TryGetValue((result.ShardId, result.SequenceNumber), out var users), $"record {n} completed on an aggregate the KCL drops");
            Assert.Equal($"{key}:{n}", System.Text.Encoding.UTF8.GetString(users[(int)(result.SubSequenceNumber ?? 0)].Data.Span));
        }
        // Nothing lost; per key, first sightings in order (parent shard first, then child, as the KCL reads them).
        Assert.Equal(2000, seenPerKey.Values.Sum(l => l.Distinct().Count()));
        foreach (var (key, list) in seenPerKey)
        {
            var first = list.Distinct().ToList();
            Assert.Equal(first.Order().ToList(), first);
        }
        var (aggregates, duplicates) = h.Producer.WrongShardResends;
        Assert.True(aggregates > 0, "the reshard must have produced wrong-shard aggregates");
        Assert.True(duplicates >= aggregates);
    }

    [Theory]
    [InlineData("UnrecognizedClientException")]
    [InlineData("IncompleteSignature")]
    [InlineData("MissingAuthenticationToken")]
    [InlineData("InvalidClientTokenId")]
    [InlineData("SignatureDoesNotMatch")]
    [InlineData("AccessDeniedException")]
    [InlineData("KMSAccessDeniedException")]
    public async Task A_permanent_error_fails_records_at_once_instead_of_retrying_until_the_ttl(string code)
    {
        await using var h = new ProducerHarness(1, o => o.RecordTtl = TimeSpan.FromSeconds(30));
        h.Client.FailCall = _ => FakeKinesis.ServiceError(code, HttpStatusCode.BadRequest);
        var started = h.Time.GetUtcNow();
        var send = h.Producer.SendAsync(Bytes("x"), "k").AsTask();
        await h.DriveAsync(send.ContinueWith(_ => { }, TaskScheduler.Default), Ms10);
        var ex = await Assert.ThrowsAsync<RecordDeliveryException>(() => send);
        Assert.Equal(DeliveryFailureReason.Rejected, ex.Reason);
        Assert.Equal(1, ex.Attempts);
        Assert.Equal(code, ex.LastErrorCode);
        Assert.True(h.Time.GetUtcNow() - started < TimeSpan.FromSeconds(1), "a permanent error must not wait for the TTL");
    }

    [Fact]
    public async Task A_permanent_per_entry_error_fails_that_record_only()
    {
        await using var h = new ProducerHarness(1, o => o.AggregationEnabled = false);
        h.Client.FailEntry = (_, _, entry) => entry.PartitionKey == "bad" ? "KMSAccessDeniedException" : null;
        var good = h.Producer.SendAsync(Bytes("g"), "good").AsTask();
        var bad = h.Producer.SendAsync(Bytes("b"), "bad").AsTask();
        await h.DriveAsync(Task.WhenAll(good, bad).ContinueWith(_ => { }, TaskScheduler.Default), Ms10);
        Assert.True(good.IsCompletedSuccessfully);
        var ex = await Assert.ThrowsAsync<RecordDeliveryException>(() => bad);
        Assert.Equal(DeliveryFailureReason.Rejected, ex.Reason);
        Assert.Equal(1, ex.Attempts);
    }

    [Fact]
    public async Task A_request_refused_with_InvalidArgument_is_split_so_only_the_bad_record_fails()
    {
        await using var h = new ProducerHarness(1, o => { o.AggregationEnabled = false; o.PreserveOrdering = false; o.RecordMaxBufferedTime = TimeSpan.FromSeconds(1); });
        h.Client.FailRequest = request => request.Records.Any(r => r.PartitionKey == "bad")
            ? FakeKinesis.ServiceError("InvalidArgumentException", HttpStatusCode.BadRequest)
            : null;
        var sends = Enumerable.Range(0, 9).Select(i => h.Producer.SendAsync(Bytes($"g{i}"), $"good-{i}").AsTask()).ToList();
        var bad = h.Producer.SendAsync(Bytes("b"), "bad").AsTask();
        await h.DriveAsync(Task.WhenAll([.. sends, bad]).ContinueWith(_ => { }, TaskScheduler.Default), Ms10);
        Assert.All(sends, s => Assert.True(s.IsCompletedSuccessfully));
        var ex = await Assert.ThrowsAsync<RecordDeliveryException>(() => bad);
        Assert.Equal(DeliveryFailureReason.InvalidRecord, ex.Reason);
        Assert.Equal("InvalidArgumentException", ex.LastErrorCode);
        Assert.Equal(9, h.Client.Snapshot().Count);
    }

    [Fact]
    public async Task A_hung_request_is_cancelled_at_the_ttl_and_its_records_expire_within_a_small_bound()
    {
        var ttl = TimeSpan.FromSeconds(2);
        await using var h = new ProducerHarness(1, o => o.RecordTtl = ttl);
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Client.Gate = never.Task; // the endpoint accepts the request and never answers
        var started = h.Time.GetUtcNow();
        var send = h.Producer.SendAsync(Bytes("x"), "k").AsTask();
        // Drive the clock without waiting for the in-flight call to finish (it never would by itself).
        for (int i = 0; i < 200 && !send.IsCompleted; i++)
        {
            await h.Producer.QuiesceAsync().WaitAsync(TimeSpan.FromSeconds(10));
            await Task.Delay(2);
            if (!send.IsCompleted)
            {
                h.Time.Advance(TimeSpan.FromMilliseconds(50));
            }
        }
        var ex = await Assert.ThrowsAsync<RecordDeliveryException>(() => send.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(DeliveryFailureReason.TtlExpired, ex.Reason);
        await h.SettleAsync();
        var elapsed = h.Time.GetUtcNow() - started;
        Assert.True(elapsed >= ttl && elapsed <= ttl + TimeSpan.FromMilliseconds(300), $"completed after {elapsed}");
        Assert.IsAssignableFrom<OperationCanceledException>(ex.InnerException);
        Assert.Equal(0, h.Producer.InFlightRequests); // the call itself was cancelled, not abandoned
        h.Client.Gate = null;
    }

    [Fact]
    public async Task A_whole_request_throttle_slows_the_shards_of_that_request()
    {
        await using var h = new ProducerHarness(1, o => o.AggregationEnabled = false);
        h.Client.FailCall = call => call < 3 ? FakeKinesis.ServiceError("ProvisionedThroughputExceededException") : null;
        var sends = Enumerable.Range(0, 20).Select(i => h.Producer.SendAsync(Bytes($"r{i}"), $"k{i}").AsTask()).ToArray();
        await h.DriveAsync(Task.WhenAll(sends), Ms10);
        Assert.True(h.Producer.RateFactors().Values.Single() < 1, "AIMD must back off after a whole-request throttle");
        Assert.Equal(20, h.Client.Snapshot().Count);
    }

    [Fact]
    public async Task Validation_messages_never_carry_the_partition_key()
    {
        await using var h = new ProducerHarness(1);
        var secret = "alice@example.com" + new string('x', 300);
        var ex = await Assert.ThrowsAsync<RecordDeliveryException>(() => h.Producer.SendAsync(Bytes("x"), secret).AsTask());
        Assert.Equal("partitionKey", ex.Field);
        Assert.DoesNotContain("alice", ex.Message, StringComparison.Ordinal);
        Assert.Equal(secret, ex.PartitionKey); // the caller still gets it back, as data
    }
}

public class ProducerRegistrationTests
{
    [Fact]
    public async Task Without_a_registered_client_AddKinesisProducer_builds_one_with_sdk_retries_off()
    {
        var services = new ServiceCollection();
        services.AddKinesisProducer(o => o.StreamName = "s", c =>
        {
            c.ServiceUrl = new Uri("http://127.0.0.1:9");
            c.Region = "us-east-1";
            c.Credentials = new Amazon.Runtime.BasicAWSCredentials("test", "test");
            c.MaxErrorRetry = 5; // the producer overrides it: it is the one retry layer
        });
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredKeyedService<Amazon.Kinesis.IAmazonKinesis>(ProducerServiceCollectionExtensions.ProducerClientKey);
        Assert.Equal(0, client.Config.MaxErrorRetry);
        Assert.Equal("http://127.0.0.1:9/", client.Config.ServiceURL);
        Assert.NotNull(provider.GetRequiredService<IKinesisProducer>());
    }
}
