using Cloud.Testing.Kinesis;
using System.Text.Json;

namespace Cloud.EventSourceMapping.Tests;

public class RunnerTests
{
    private static string Fail(params string[] sequenceNumbers) =>
        "{\"batchItemFailures\":[" + string.Join(",", sequenceNumbers.Select(s => $"{{\"itemIdentifier\":\"{s}\"}}")) + "]}";

    [Fact]
    public async Task Processes_every_record_in_order_and_checkpoints_the_last()
    {
        await using var h = new Harness();
        var puts = Enumerable.Range(0, 250).Select(i => h.Kinesis.Put(Harness.Stream, "k", $"r{i}")).ToList();
        await h.StartAsync(h.Options(o => o.BatchSize = 100));
        await h.RunUntilAsync(() => h.Function.AllSeen.Count >= 250, what: "all records");
        Assert.Equal(puts.Select(p => p.SequenceNumber), h.Function.AllSeen.Select(r => r.SequenceNumber));
        Assert.All(h.Function.Invocations, i => Assert.True(i.Records.Count <= 100));
        await h.RunUntilAsync(() => Checkpoint(h)?.SequenceNumber == puts[^1].SequenceNumber, what: "checkpoint");
        Assert.Equal("arn:aws:kinesis:us-east-1:000000000000:stream/orders",
            JsonDocument.Parse(h.Function.Invocations[0].Json).RootElement.GetProperty("Records")[0].GetProperty("eventSourceARN").GetString());
    }

    private static ShardCheckpoint? Checkpoint(Harness h, string shard = "shardId-000000000000") =>
        h.Checkpoints.LoadAsync("esm-orders").Result.GetValueOrDefault(shard);

    [Fact]
    public async Task Partial_failure_checkpoints_before_the_lowest_failed_record_and_retries_from_it()
    {
        await using var h = new Harness();
        var seqs = Enumerable.Range(0, 10).Select(i => h.Kinesis.Put(Harness.Stream, "k", $"r{i}").SequenceNumber).ToList();
        var failedOnce = false;
        h.Function.Behaviour = inv =>
        {
            if (!failedOnce && inv.Records.Count == 10)
            {
                failedOnce = true;
                return Fail(seqs[7], seqs[4]); // unordered: the lowest (index 4) counts
            }
            return null;
        };
        await h.StartAsync(h.Options(o => o.FunctionResponseTypes.Add(EventSourceMappingOptions.ReportBatchItemFailures)));
        await h.RunUntilAsync(() => h.Function.Invocations.Count >= 2 && Checkpoint(h)?.SequenceNumber == seqs[^1], what: "retry");
        var second = h.Function.Invocations[1];
        Assert.Equal(seqs.Skip(4), second.Records.Select(r => r.SequenceNumber));
        Assert.Empty(h.Failures.Records);
    }

    [Fact]
    public async Task Invalid_JSON_response_fails_the_whole_batch()
    {
        await using var h = new Harness();
        var seqs = Enumerable.Range(0, 3).Select(i => h.Kinesis.Put(Harness.Stream, "k", $"r{i}").SequenceNumber).ToList();
        h.Function.Behaviour = inv => inv.Number == 1 ? "{oops" : null;
        await h.StartAsync(h.Options(o => o.FunctionResponseTypes.Add(EventSourceMappingOptions.ReportBatchItemFailures)));
        await h.RunUntilAsync(() => h.Function.Invocations.Count >= 2, what: "retry");
        Assert.Equal(seqs, h.Function.Invocations[1].Records.Select(r => r.SequenceNumber));
    }

    [Fact]
    public async Task Bisect_isolates_a_poison_record_which_goes_to_the_on_failure_destination()
    {
        await using var h = new Harness();
        var seqs = Enumerable.Range(0, 8).Select(i => h.Kinesis.Put(Harness.Stream, "k", i == 5 ? "poison" : $"r{i}").SequenceNumber).ToList();
        var handled = new List<string>();
        h.Function.Behaviour = inv =>
        {
            if (inv.Records.Any(r => r.Data == "poison"))
            {
                throw new InvalidOperationException("poison");
            }
            lock (handled)
            {
                handled.AddRange(inv.Records.Select(r => r.SequenceNumber));
            }
            return null;
        };
        await h.StartAsync(h.Options(o => { o.BisectBatchOnFunctionError = true; o.MaximumRetryAttempts = 1; }));
        await h.RunUntilAsync(() => h.Failures.Records.Count == 1 && Checkpoint(h)?.SequenceNumber == seqs[^1], what: "poison discarded");

        // 8 → [0..3] ok, [4..7] fails → [4,5] fails → [4] ok, [5] fails twice (1 retry) → [6,7] ok.
        Assert.Equal([8, 4, 4, 2, 1, 1, 1, 2], h.Function.Invocations.Select(i => i.Records.Count));
        Assert.Equal(seqs.Where((_, i) => i != 5), handled);
        var failure = h.Failures.Records[0];
        Assert.Equal(OnFailureCondition.RetryAttemptsExhausted, failure.Condition);
        Assert.Equal(2, failure.ApproximateInvokeCount);
        Assert.Equal(seqs[5], failure.KinesisBatchInfo.StartSequenceNumber);
        Assert.Equal(seqs[5], failure.KinesisBatchInfo.EndSequenceNumber);
        Assert.Equal(1, failure.KinesisBatchInfo.BatchSize);
        Assert.Equal("Unhandled", failure.FunctionError);
        Assert.Equal(200, failure.StatusCode);
    }

    [Fact]
    public async Task Retries_exhausted_send_the_batch_info_and_move_on()
    {
        await using var h = new Harness();
        var t0 = h.Time.GetUtcNow();
        var first = h.Kinesis.Put(Harness.Stream, "a", "x").SequenceNumber;
        h.Time.Advance(TimeSpan.FromMilliseconds(1234));
        var last = h.Kinesis.Put(Harness.Stream, "b", "y").SequenceNumber;
        h.Function.Behaviour = inv => inv.Records.Any(r => r.Data is "x" or "y") ? throw new InvalidOperationException("always") : null;
        await h.StartAsync(h.Options(o => { o.MaximumRetryAttempts = 3; o.FunctionArn = "arn:aws:lambda:us-east-1:000000000000:function:agg"; }));
        await h.RunUntilAsync(() => h.Failures.Records.Count == 1, what: "on-failure record");
        var after = h.Kinesis.Put(Harness.Stream, "c", "z").SequenceNumber;
        await h.RunUntilAsync(() => h.Function.AllSeen.Any(r => r.SequenceNumber == after), what: "next record handled");

        Assert.Equal(4, h.Function.Invocations.Count(i => i.Records.Any(r => r.Data == "x"))); // 1 + 3 retries
        var record = h.Failures.Records[0];
        Assert.Equal(4, record.ApproximateInvokeCount);
        Assert.Equal("arn:aws:lambda:us-east-1:000000000000:function:agg", record.FunctionArn);
        var info = record.KinesisBatchInfo;
        Assert.Equal(("shardId-000000000000", first, last, 2), (info.ShardId, info.StartSequenceNumber, info.EndSequenceNumber, info.BatchSize));
        Assert.Equal(t0, info.ApproximateArrivalOfFirstRecord);
        Assert.Equal(t0.AddMilliseconds(1234), info.ApproximateArrivalOfLastRecord);
        Assert.Equal(FakeKinesis.ArnOf(Harness.Stream), info.StreamArn);
        using var json = JsonDocument.Parse(record.ToJson());
        Assert.Equal(["requestContext", "responseContext", "version", "timestamp", "KinesisBatchInfo"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.DoesNotContain("\"data\"", record.ToJson(), StringComparison.Ordinal);
        Assert.Equal(1, h.Mapping!.GetStatistics().OnFailureRecords);
    }

    [Fact]
    public async Task Records_older_than_the_maximum_age_are_not_invoked()
    {
        await using var h = new Harness();
        var old = Enumerable.Range(0, 3).Select(i => h.Kinesis.Put(Harness.Stream, "k", $"old{i}").SequenceNumber).ToList();
        h.Time.Advance(TimeSpan.FromSeconds(120));
        var fresh = h.Kinesis.Put(Harness.Stream, "k", "fresh").SequenceNumber;
        await h.StartAsync(h.Options(o => o.MaximumRecordAgeInSeconds = 60));
        await h.RunUntilAsync(() => h.Function.AllSeen.Count >= 1 && h.Failures.Records.Count == 1, what: "expired + fresh");
        Assert.Equal([fresh], h.Function.AllSeen.Select(r => r.SequenceNumber));
        var record = h.Failures.Records[0];
        Assert.Equal(OnFailureCondition.RecordAgeExceeded, record.Condition);
        Assert.Equal(0, record.ApproximateInvokeCount);
        Assert.Null(record.StatusCode);
        Assert.Equal((old[0], old[^1], 3), (record.KinesisBatchInfo.StartSequenceNumber, record.KinesisBatchInfo.EndSequenceNumber, record.KinesisBatchInfo.BatchSize));
    }

    [Fact]
    public async Task Infinite_retries_still_end_when_records_age_out()
    {
        await using var h = new Harness();
        h.Kinesis.Put(Harness.Stream, "k", "bad");
        h.Function.Behaviour = inv => inv.Records.Any(r => r.Data == "bad") ? throw new InvalidOperationException("bad") : null;
        await h.StartAsync(h.Options(o => { o.MaximumRetryAttempts = -1; o.MaximumRecordAgeInSeconds = 60; o.RetryDelay = TimeSpan.FromSeconds(1); }));
        await h.RunUntilAsync(() => h.Failures.Records.Count == 1, step: TimeSpan.FromSeconds(1), what: "aged out");
        var record = h.Failures.Records[0];
        Assert.Equal(OnFailureCondition.RecordAgeExceeded, record.Condition);
        Assert.True(record.ApproximateInvokeCount > 10);
        Assert.Equal("Unhandled", record.FunctionError);
    }

    [Fact]
    public async Task A_hanging_function_times_out_and_counts_as_a_function_error()
    {
        await using var h = new Harness();
        h.Kinesis.Put(Harness.Stream, "k", "hang");
        var calls = 0;
        var mapping = new LocalEventSourceMapping(
            h.Options(o => { o.MaximumRetryAttempts = 0; o.FunctionTimeout = TimeSpan.FromSeconds(3); }),
            h.Kinesis,
            async (input, ct) => { Interlocked.Increment(ref calls); await Task.Delay(Timeout.InfiniteTimeSpan, ct); return input; },
            h.Checkpoints, h.Time);
        await mapping.StartAsync();
        await h.RunUntilAsync(() => h.Failures.Records.Count == 1, what: "timeout");
        await mapping.DisposeAsync();
        Assert.Equal(1, calls);
        Assert.Equal("Unhandled", h.Failures.Records[0].FunctionError);
    }

    [Fact]
    public async Task Batching_window_gathers_records_that_trickle_in()
    {
        await using var h = new Harness();
        await h.StartAsync(h.Options(o => o.MaximumBatchingWindowInSeconds = 5));
        await h.IdleAsync(TimeSpan.FromSeconds(2));
        for (var i = 0; i < 4; i++)
        {
            h.Kinesis.Put(Harness.Stream, "k", $"r{i}");
            await h.IdleAsync(TimeSpan.FromMilliseconds(500));
        }
        await h.RunUntilAsync(() => h.Function.AllSeen.Count == 4, what: "one batch");
        Assert.Single(h.Function.Invocations);
    }

    [Fact]
    public async Task Full_batch_does_not_wait_for_the_batching_window()
    {
        await using var h = new Harness();
        for (var i = 0; i < 10; i++)
        {
            h.Kinesis.Put(Harness.Stream, "k", $"r{i}");
        }
        var start = h.Time.GetUtcNow();
        await h.StartAsync(h.Options(o => { o.MaximumBatchingWindowInSeconds = 300; o.BatchSize = 10; }));
        await h.RunUntilAsync(() => h.Function.AllSeen.Count == 10, what: "full batch");
        Assert.True(h.Time.GetUtcNow() - start < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Restart_resumes_after_the_checkpoint_without_loss_or_repeat()
    {
        var h = new Harness(shards: 2);
        var first = Enumerable.Range(0, 40).Select(i => h.Kinesis.Put(Harness.Stream, $"k{i % 7}", $"a{i}")).ToList();
        await h.StartAsync(h.Options(o => o.BatchSize = 5));
        await h.RunUntilAsync(() => h.Function.AllSeen.Count >= 40, what: "first run");
        await h.RunUntilAsync(() => h.Checkpoints.LoadAsync("esm-orders").Result.Count == 2, what: "checkpoints");
        await h.StopAsync();
        var second = Enumerable.Range(0, 30).Select(i => h.Kinesis.Put(Harness.Stream, $"k{i % 7}", $"b{i}")).ToList();
        var before = h.Function.AllSeen.Count;
        await h.StartAsync(h.Options(o => o.BatchSize = 5));
        await h.RunUntilAsync(() => h.Function.AllSeen.Count >= before + 30, what: "second run");
        await h.IdleAsync(TimeSpan.FromSeconds(3));
        var afterRestart = h.Function.AllSeen.Skip(before).Select(r => r.SequenceNumber).Order().ToList();
        Assert.Equal(second.Select(p => p.SequenceNumber).Order(), afterRestart);
        await h.DisposeAsync();
    }

    [Fact]
    public async Task Stop_during_an_invoke_does_not_checkpoint_that_batch()
    {
        var h = new Harness();
        var seqs = Enumerable.Range(0, 5).Select(i => h.Kinesis.Put(Harness.Stream, "k", $"r{i}").SequenceNumber).ToList();
        var gate = new TaskCompletionSource();
        var entered = new TaskCompletionSource();
        var mapping = new LocalEventSourceMapping(h.Options(o => o.BatchSize = 2), h.Kinesis, async (input, ct) =>
        {
            using var reader = new StreamReader(input);
            var json = await reader.ReadToEndAsync(ct);
            if (json.Contains(seqs[2], StringComparison.Ordinal))
            {
                entered.TrySetResult();
                await gate.Task.WaitAsync(ct);
            }
            return new MemoryStream();
        }, h.Checkpoints, h.Time);
        await mapping.StartAsync();
        await h.RunUntilAsync(() => entered.Task.IsCompleted, what: "second batch in flight");
        await mapping.StopAsync();
        await mapping.DisposeAsync();
        Assert.Equal(seqs[1], Checkpoint(h)!.SequenceNumber);
        await h.DisposeAsync();
    }

    [Fact]
    public async Task Children_start_only_after_the_parent_is_fully_read_and_per_key_order_holds()
    {
        await using var h = new Harness(shards: 1);
        var keys = Enumerable.Range(0, 20).Select(i => $"user-{i}").ToArray();
        var expected = new List<(string Key, string Seq)>();
        for (var i = 0; i < 200; i++)
        {
            var key = keys[i % keys.Length];
            expected.Add((key, h.Kinesis.Put(Harness.Stream, key, $"p{i}").SequenceNumber));
        }
        var (left, right) = h.Kinesis.Split(Harness.Stream, "shardId-000000000000");
        for (var i = 0; i < 200; i++)
        {
            var key = keys[i % keys.Length];
            expected.Add((key, h.Kinesis.Put(Harness.Stream, key, $"c{i}").SequenceNumber));
        }
        await h.StartAsync(h.Options(o => o.BatchSize = 7));
        await h.RunUntilAsync(() => h.Function.AllSeen.Count >= 400, what: "all records");

        var invocations = h.Function.Invocations;
        var lastParent = invocations.Last(i => i.Records[0].ShardId == "shardId-000000000000").Number;
        var firstChild = invocations.First(i => i.Records[0].ShardId is var s && (s == left || s == right)).Number;
        Assert.True(lastParent < firstChild, "a child shard was invoked before its parent was finished");
        var seen = h.Function.AllSeen;
        foreach (var key in keys)
        {
            Assert.Equal(expected.Where(e => e.Key == key).Select(e => e.Seq), seen.Where(r => r.PartitionKey == key).Select(r => r.SequenceNumber));
        }
        await h.RunUntilAsync(() => Checkpoint(h)?.Finished == true, what: "parent finished");
        Assert.Contains(h.Mapping!.GetLag(), l => l.ShardId == "shardId-000000000000" && l.Finished);
    }

    [Fact]
    public async Task Split_while_running_keeps_parents_first()
    {
        await using var h = new Harness(shards: 2);
        await h.StartAsync(h.Options(o => o.BatchSize = 3));
        var expected = new List<(string Key, string Seq)>();
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 30; i++)
            {
                expected.Add(($"k{i % 5}", h.Kinesis.Put(Harness.Stream, $"k{i % 5}", $"{round}-{i}").SequenceNumber));
            }
            await h.IdleAsync(TimeSpan.FromMilliseconds(300));
            var open = h.Kinesis.Shards(Harness.Stream).First(s => !s.Closed);
            h.Kinesis.Split(Harness.Stream, open.ShardId);
        }
        await h.RunUntilAsync(() => h.Function.AllSeen.Count >= expected.Count, what: "all records");
        foreach (var key in expected.Select(e => e.Key).Distinct())
        {
            Assert.Equal(expected.Where(e => e.Key == key).Select(e => e.Seq), h.Function.AllSeen.Where(r => r.PartitionKey == key).Select(r => r.SequenceNumber));
        }
    }

    [Fact]
    public async Task Expired_iterator_is_replaced_without_loss()
    {
        await using var h = new Harness();
        var seqs = Enumerable.Range(0, 6).Select(i => h.Kinesis.Put(Harness.Stream, "k", $"r{i}").SequenceNumber).ToList();
        h.Kinesis.ExpireNextIterators = 2;
        await h.StartAsync(h.Options(o => o.BatchSize = 3));
        await h.RunUntilAsync(() => h.Function.AllSeen.Count >= 6, what: "all");
        Assert.Equal(seqs, h.Function.AllSeen.Select(r => r.SequenceNumber));
    }

    [Fact]
    public async Task Latest_skips_old_records_and_survives_a_restart_before_the_first_record()
    {
        var h = new Harness();
        h.Kinesis.Put(Harness.Stream, "k", "before");
        h.Time.Advance(TimeSpan.FromSeconds(1));
        await h.StartAsync(h.Options(o => o.StartingPosition = StartingPosition.Latest));
        await h.IdleAsync(TimeSpan.FromSeconds(2));
        await h.StopAsync();
        var during = h.Kinesis.Put(Harness.Stream, "k", "while-stopped").SequenceNumber;
        await h.StartAsync(h.Options(o => o.StartingPosition = StartingPosition.Latest));
        await h.RunUntilAsync(() => h.Function.AllSeen.Count >= 1, what: "record put while stopped");
        await h.IdleAsync(TimeSpan.FromSeconds(2));
        Assert.Equal([during], h.Function.AllSeen.Select(r => r.SequenceNumber));
        await h.DisposeAsync();
    }

    [Fact]
    public async Task Lag_shows_records_behind_while_the_function_is_stuck_and_zero_after()
    {
        await using var h = new Harness();
        var release = false;
        for (var i = 0; i < 5; i++)
        {
            h.Kinesis.Put(Harness.Stream, "k", $"r{i}");
        }
        h.Function.Behaviour = _ => Volatile.Read(ref release) ? null : throw new InvalidOperationException("not yet");
        await h.StartAsync(h.Options());
        await h.RunUntilAsync(() => h.Function.Invocations.Count >= 3, what: "retrying");
        var lag = Assert.Single(h.Mapping!.GetLag());
        Assert.Equal(5, lag.BufferedRecords);
        Assert.Equal(5, lag.RecordsBehind);
        Assert.True(lag.MillisBehindLatest > 0);
        Volatile.Write(ref release, true);
        await h.RunUntilAsync(() => h.Mapping.GetLag()[0] is { RecordsBehind: 0, MillisBehindLatest: 0 }, what: "caught up");
    }

    [Fact]
    public async Task Lag_reader_counts_records_after_the_checkpoint()
    {
        await using var h = new Harness(shards: 2);
        var puts = Enumerable.Range(0, 30).Select(i => h.Kinesis.Put(Harness.Stream, $"k{i}", $"r{i}")).ToList();
        var reader = new StreamLagReader(h.Kinesis, h.Checkpoints, h.Time);
        var before = await reader.ReadAsync(Harness.Stream);
        Assert.Equal(30, before.Sum(l => l.RecordsBehind));
        await h.StartAsync(h.Options());
        await h.RunUntilAsync(() => h.Function.AllSeen.Count >= 30, what: "all");
        await h.RunUntilAsync(() => reader.ReadAsync(Harness.Stream).Result.All(l => l.RecordsBehind == 0), what: "lag 0");
        await h.StopAsync();
        h.Kinesis.Put(Harness.Stream, "k1", "late");
        h.Time.Advance(TimeSpan.FromSeconds(4));
        var after = await reader.ReadAsync(Harness.Stream);
        Assert.Equal(1, after.Sum(l => l.RecordsBehind));
        Assert.Contains(after, l => l.MillisBehindLatest == 4000);
    }

    [Fact]
    public async Task A_missing_stream_stops_the_run_with_the_service_error()
    {
        await using var h = new Harness();
        var mapping = new LocalEventSourceMapping(h.Options(o => o.StreamName = "missing"), h.Kinesis, h.Function.InvokeAsync, h.Checkpoints, h.Time);
        var e = await Assert.ThrowsAsync<Amazon.Kinesis.Model.ResourceNotFoundException>(() => mapping.RunAsync(CancellationToken.None));
        Assert.Equal("ResourceNotFoundException", e.ErrorCode);
    }
}
