using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Cloud.Consumer.Events;
using Microsoft.Extensions.Time.Testing;

namespace Cloud.Consumer.Tests.Processing;

public class KinesisBatchProcessorTests
{
    private static string Text(UserRecordContext r) => Encoding.UTF8.GetString(r.Data.Span);

    [Fact]
    public async Task All_records_handled_gives_an_empty_failure_list()
    {
        var records = Enumerable.Range(0, 10).Select(i => TestRecords.Record(i, "k" + (i % 3), "r" + i)).ToList();
        var seen = new ConcurrentBag<string>();
        var result = await new KinesisBatchProcessor().ProcessAsync(records, (r, _) => { seen.Add(Text(r)); return ValueTask.CompletedTask; });
        Assert.True(result.IsSuccess);
        Assert.Empty(result.Response.BatchItemFailures);
        Assert.Equal(10, result.SucceededRecordCount);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => "r" + i).Order(), seen.Order());
    }

    [Fact]
    public async Task A_failing_record_reports_its_sequence_number_and_stops_only_its_key()
    {
        // keys: a b a b a b ; record 2 (key a) fails → 4 (a) must not run; b records all run.
        var records = Enumerable.Range(0, 6).Select(i => TestRecords.Record(i, i % 2 == 0 ? "a" : "b", "r" + i)).ToList();
        var ran = new ConcurrentBag<int>();
        var result = await new KinesisBatchProcessor(new KinesisBatchProcessorOptions { MaxDegreeOfParallelism = 2 }).ProcessAsync(records, (r, _) =>
        {
            int i = int.Parse(Text(r)[1..], System.Globalization.CultureInfo.InvariantCulture);
            ran.Add(i);
            return i == 2 ? throw new InvalidOperationException("boom") : ValueTask.CompletedTask;
        });

        Assert.Equal([TestRecords.Seq(2)], result.Response.BatchItemFailures.Select(f => f.ItemIdentifier));
        Assert.Equal([0, 1, 2, 3, 5], ran.Order());
        Assert.Contains(result.Failures, f => f.Stage == RecordFailureStage.Handler && f.SequenceNumber == TestRecords.Seq(2) && f.Message.Contains("boom", StringComparison.Ordinal));
        Assert.Contains(result.Failures, f => f.Stage == RecordFailureStage.Skipped && f.SequenceNumber == TestRecords.Seq(4));
    }

    [Fact]
    public async Task Malformed_base64_is_reported_naming_the_record_and_the_rest_are_processed()
    {
        var records = new List<KinesisEventRecord>
        {
            TestRecords.Record(0, "a", "ok0"),
            TestRecords.RecordB64(1, "b", "!!not base64!!"),
            TestRecords.Record(2, "c", "ok2"),
        };
        var reported = new ConcurrentBag<RecordFailure>();
        var handled = new ConcurrentBag<string>();
        var result = await new KinesisBatchProcessor(new KinesisBatchProcessorOptions { OnRecordFailure = reported.Add })
            .ProcessAsync(records, (r, _) => { handled.Add(Text(r)); return ValueTask.CompletedTask; });

        Assert.Equal(TestRecords.Seq(1), Assert.Single(result.Response.BatchItemFailures).ItemIdentifier);
        Assert.Equal(["ok0", "ok2"], handled.Order());
        RecordFailure f = Assert.Single(reported);
        Assert.Equal(RecordFailureStage.Base64, f.Stage);
        Assert.Contains(TestRecords.Seq(1), f.Message, StringComparison.Ordinal);
        Assert.IsType<KinesisRecordDecodeException>(f.Exception);
    }

    [Fact]
    public async Task A_hanging_handler_that_ignores_cancellation_times_out()
    {
        var time = new FakeTimeProvider();
        var started = new TaskCompletionSource();
        var never = new TaskCompletionSource();
        var processor = new KinesisBatchProcessor(new KinesisBatchProcessorOptions { RecordTimeout = TimeSpan.FromSeconds(5), TimeProvider = time, MaxDegreeOfParallelism = 1 });
        var records = new[] { TestRecords.Record(0, "a", "ok"), TestRecords.Record(1, "a", "hang"), TestRecords.Record(2, "a", "after") };
        var handled = new List<string>();

        Task<BatchProcessingResult> run = processor.ProcessAsync(records, async (r, _) =>
        {
            handled.Add(Text(r));
            if (Text(r) == "hang")
            {
                started.SetResult();
                await never.Task; // ignores the token on purpose
            }
        });
        await started.Task;
        time.Advance(TimeSpan.FromSeconds(6));
        BatchProcessingResult result = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(TestRecords.Seq(1), result.LowestFailedSequenceNumber);
        Assert.Contains(result.Failures, f => f.Stage == RecordFailureStage.Timeout && f.SequenceNumber == TestRecords.Seq(1));
        Assert.Equal(["ok", "hang"], handled); // "after" has the same key: not run
        never.SetResult();
    }

    [Fact]
    public async Task Cancelling_the_batch_keeps_the_done_prefix_and_reports_the_rest()
    {
        using var cts = new CancellationTokenSource();
        var records = Enumerable.Range(0, 5).Select(i => TestRecords.Record(i, "k", "r" + i)).ToList();
        var result = await new KinesisBatchProcessor(new KinesisBatchProcessorOptions { MaxDegreeOfParallelism = 1 }).ProcessAsync(records, (r, ct) =>
        {
            if (Text(r) == "r2")
            {
                cts.Cancel();
                ct.ThrowIfCancellationRequested();
            }

            return ValueTask.CompletedTask;
        }, cts.Token);

        Assert.Equal(TestRecords.Seq(2), result.LowestFailedSequenceNumber);
        Assert.Equal(2, result.SucceededRecordCount);
    }

    private sealed class Upper : IUserRecordTransform
    {
        public ValueTask<UserRecordContext> TransformAsync(UserRecordContext record, CancellationToken cancellationToken) =>
            ValueTask.FromResult(record with { Data = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(record.Data.Span).ToUpperInvariant()) });
    }

    private sealed class Suffix(string s) : IUserRecordTransform
    {
        public ValueTask<UserRecordContext> TransformAsync(UserRecordContext record, CancellationToken cancellationToken) =>
            Encoding.UTF8.GetString(record.Data.Span) == "BAD" ? throw new CryptographicLikeException()
            : ValueTask.FromResult(record with { Data = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(record.Data.Span) + s) });
    }

    private sealed class CryptographicLikeException() : Exception("tag mismatch");

    [Fact]
    public async Task Transforms_run_in_order_and_a_failing_transform_fails_the_record()
    {
        var records = new[] { TestRecords.Record(0, "a", "x"), TestRecords.Record(1, "b", "bad"), TestRecords.Record(2, "c", "y") };
        var handled = new ConcurrentBag<string>();
        var result = await new KinesisBatchProcessor(new KinesisBatchProcessorOptions { Transforms = [new Upper(), new Suffix("-1")] })
            .ProcessAsync(records, (r, _) => { handled.Add(Text(r)); return ValueTask.CompletedTask; });
        Assert.Equal(["X-1", "Y-1"], handled.Order());
        Assert.Equal(TestRecords.Seq(1), result.LowestFailedSequenceNumber);
        Assert.Contains(result.Failures, f => f.Stage == RecordFailureStage.Transform && f.Message.Contains("tag mismatch", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Per_key_order_is_kept_under_parallelism()
    {
        var rnd = new Random(7);
        var records = Enumerable.Range(0, 400).Select(i => TestRecords.Record(i, "k" + rnd.Next(12), i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
        var perKey = new ConcurrentDictionary<string, List<int>>();
        var result = await new KinesisBatchProcessor(new KinesisBatchProcessorOptions { MaxDegreeOfParallelism = 8 }).ProcessAsync(records, async (r, _) =>
        {
            await Task.Yield();
            var list = perKey.GetOrAdd(r.PartitionKey, _ => []);
            lock (list)
            {
                list.Add(int.Parse(Text(r), System.Globalization.CultureInfo.InvariantCulture));
            }
        });
        Assert.True(result.IsSuccess);
        Assert.All(perKey.Values, l => Assert.Equal(l.Order(), l));
        Assert.Equal(400, perKey.Values.Sum(l => l.Count));
    }

    [Fact]
    public async Task Stream_api_reads_the_event_and_writes_the_response()
    {
        var evt = new KinesisEvent { Records = [TestRecords.Record(0, "a", "fine"), TestRecords.Record(1, "b", "fail")] };
        using var input = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(evt, KinesisEventsJsonContext.Default.KinesisEvent));
        using Stream output = await new KinesisBatchProcessor().ProcessAsync(input, (r, _) => Text(r) == "fail" ? throw new InvalidOperationException() : ValueTask.CompletedTask);
        var response = JsonSerializer.Deserialize(output, KinesisEventsJsonContext.Default.StreamsEventResponse)!;
        Assert.Equal(TestRecords.Seq(1), Assert.Single(response.BatchItemFailures).ItemIdentifier);
    }

    [Fact]
    public void Invalid_options_list_every_problem()
    {
        var ex = Assert.Throws<ArgumentException>(() => new KinesisBatchProcessor(new KinesisBatchProcessorOptions { MaxDegreeOfParallelism = 0, RecordTimeout = TimeSpan.Zero }));
        Assert.Contains("MaxDegreeOfParallelism", ex.Message, StringComparison.Ordinal);
        Assert.Contains("RecordTimeout", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sequence_numbers_compare_numerically()
    {
        var c = SequenceNumberComparer.Instance;
        Assert.True(c.Compare("9", "10") < 0);
        Assert.True(c.Compare("49590338271490256608559692540925702759324208523137515618", "49590338271490256608559692538361571095921575989136588898") > 0);
        Assert.Equal(0, c.Compare("007", "7"));
    }
}
