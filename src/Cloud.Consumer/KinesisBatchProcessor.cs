using System.Collections.Concurrent;
using System.Text.Json;
using Cloud.Consumer.Events;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cloud.Consumer;

/// <summary>
/// Processes a Lambda Kinesis batch record by record and builds the partial-batch response.
/// <para>
/// Every Kinesis record starts as failed and is marked done only when the handler succeeded for all of
/// its user records. Records with different keys may run in parallel; one key's records run in order and,
/// after one fails, that key's later records are not run (they must be retried in order). The response
/// reports exactly one item, the lowest failed sequence number: Lambda checkpoints before it and retries
/// from it, so every record before it is kept and every record from it on is redelivered.
/// </para>
/// </summary>
public sealed class KinesisBatchProcessor
{
    private readonly KinesisBatchProcessorOptions _options;
    private readonly KinesisRecordReader _reader;
    private readonly ILogger _logger;

    /// <summary>Creates a processor.</summary>
    /// <exception cref="ArgumentException">An option is invalid (all problems are listed).</exception>
    public KinesisBatchProcessor(KinesisBatchProcessorOptions? options = null, ILogger<KinesisBatchProcessor>? logger = null)
    {
        _options = options ?? new KinesisBatchProcessorOptions();
        _options.Validate();
        _reader = new KinesisRecordReader(_options.Transforms);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The options in use.</summary>
    public KinesisBatchProcessorOptions Options => _options;

    /// <summary>
    /// Stream in / stream out: reads a <see cref="KinesisEvent"/> JSON document, processes it and returns the
    /// <see cref="StreamsEventResponse"/> JSON. An unreadable event is an invocation error (nothing to report).
    /// </summary>
    /// <exception cref="JsonException">The input is not a Kinesis event.</exception>
    public async Task<Stream> ProcessAsync(Stream input, UserRecordHandler handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        KinesisEvent evt = await JsonSerializer.DeserializeAsync(input, KinesisEventsJsonContext.Default.KinesisEvent, cancellationToken).ConfigureAwait(false)
            ?? throw new JsonException("The input is the JSON literal null, not a Kinesis event.");
        BatchProcessingResult result = await ProcessAsync(evt.Records, handler, cancellationToken).ConfigureAwait(false);
        var output = new MemoryStream();
        await JsonSerializer.SerializeAsync(output, result.Response, KinesisEventsJsonContext.Default.StreamsEventResponse, cancellationToken).ConfigureAwait(false);
        output.Position = 0;
        return output;
    }

    /// <summary>Processes the records of <paramref name="kinesisEvent"/>.</summary>
    public Task<BatchProcessingResult> ProcessAsync(KinesisEvent kinesisEvent, UserRecordHandler handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(kinesisEvent);
        return ProcessAsync(kinesisEvent.Records, handler, cancellationToken);
    }

    /// <summary>
    /// Processes a batch. Never throws for a record's problem: failures are reported in the result (and to
    /// <see cref="KinesisBatchProcessorOptions.OnRecordFailure"/> and the logger). If
    /// <paramref name="cancellationToken"/> fires, records not yet done stay failed and the result is returned.
    /// </summary>
    public async Task<BatchProcessingResult> ProcessAsync(IReadOnlyList<KinesisEventRecord> records, UserRecordHandler handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(handler);

        var run = new Run(records.Count);
        var items = new List<UserRecordContext>(records.Count);
        var budget = _options.Decoder.CreateBatchBudget();
        // One pass decodes the batch (all aggregates' MD5 trailers checked together); records still fail one by one.
        var decoded = new List<UserRecordContext>(records.Count);
        KinesisRecordDecodeException?[] failures = KinesisRecordReader.DecodeBatch(records, decoded, _options.Decoder, budget);
        int next = 0;
        for (int i = 0; i < records.Count; i++)
        {
            int start = next;
            while (next < decoded.Count && decoded[next].ParentIndex == i)
            {
                next++;
            }
            if (failures[i] is { } ex)
            {
                run.Failed[i] = true;
                ConsumerMetrics.DecodeFailed(ex.Stage);
                Report(run, new RecordFailure { SequenceNumber = ex.SequenceNumber, Stage = ex.Stage, Message = ex.Message, Exception = ex });
                continue;
            }
            if (_options.KclShardRange is { } ranges && !KeptByKcl(records[i], decoded, start, next, ranges))
            {
                run.DroppedByShardRange++;
                continue;
            }
            for (int k = start; k < next; k++)
            {
                items.Add(decoded[k]);
            }
            run.Remaining[i] = next - start;
        }

        ConsumerMetrics.Batch(records.Count, items.Count);

        if (_options.MaxDegreeOfParallelism == 1)
        {
            await RunLaneAsync(run, items, handler, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var lanes = new Dictionary<string, List<UserRecordContext>>(StringComparer.Ordinal);
            var order = new List<List<UserRecordContext>>();
            foreach (UserRecordContext item in items)
            {
                string key = LaneKey(item);
                if (!lanes.TryGetValue(key, out List<UserRecordContext>? lane))
                {
                    lane = [];
                    lanes.Add(key, lane);
                    order.Add(lane);
                }

                lane.Add(item);
            }

            var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.MaxDegreeOfParallelism };
            await Parallel.ForEachAsync(order, parallel, (lane, _) => RunLaneAsync(run, lane, handler, cancellationToken)).ConfigureAwait(false);
        }

        return Complete(run, records);
    }

    /// <summary>The KCL's rule: an aggregate is kept only if every user record hashes into its shard's range.</summary>
    private static bool KeptByKcl(KinesisEventRecord record, List<UserRecordContext> items, int start, int end, Func<string, (UInt128 Start, UInt128 End)?> ranges)
    {
        if (record.ShardId is not { } shardId || ranges(shardId) is not { } range)
        {
            return true;
        }
        var decoded = new List<Cloud.Records.UserRecord>(end - start);
        for (int k = start; k < end; k++)
        {
            var item = items[k];
            decoded.Add(new Cloud.Records.UserRecord(item.PartitionKey, item.ExplicitHashKey, item.Data, item.SequenceNumber, item.SubSequenceNumber ?? 0, item.IsAggregated));
        }
        return Cloud.Records.KclShardFilter.Keeps(decoded, range.Start, range.End);
    }

    private string LaneKey(UserRecordContext item) =>
        _options.OrderBy == OrderingKey.KinesisPartitionKey ? item.Parent.Kinesis.PartitionKey : item.PartitionKey;

    private async ValueTask RunLaneAsync(Run run, List<UserRecordContext> lane, UserRecordHandler handler, CancellationToken cancellationToken)
    {
        HashSet<string>? failedKeys = null;
        foreach (UserRecordContext decoded in lane)
        {
            int p = decoded.ParentIndex;
            string key = LaneKey(decoded);
            if (failedKeys is not null && failedKeys.Contains(key))
            {
                Skip(run, decoded, "an earlier record with the same key failed; it must be retried in order");
                continue;
            }

            if (cancellationToken.IsCancellationRequested)
            {
                Skip(run, decoded, "the batch was cancelled before this record ran");
                continue;
            }

            if (Volatile.Read(ref run.Failed[p]))
            {
                // The parent is redelivered anyway; running its other sub-records now only adds duplicates.
                Skip(run, decoded, "another sub-record of the same Kinesis record failed");
                continue;
            }

            RecordFailure? failure = await RunOneAsync(decoded, handler, cancellationToken).ConfigureAwait(false);
            if (failure is null)
            {
                Interlocked.Decrement(ref run.Remaining[p]);
                Interlocked.Increment(ref run.Handled);
            }
            else
            {
                Volatile.Write(ref run.Failed[p], true);
                (failedKeys ??= new HashSet<string>(StringComparer.Ordinal)).Add(key);
                Report(run, failure);
            }
        }
    }

    private async ValueTask<RecordFailure?> RunOneAsync(UserRecordContext record, UserRecordHandler handler, CancellationToken cancellationToken)
    {
        string name = record.Describe();
        UserRecordContext transformed;
        try
        {
            transformed = await _reader.TransformAsync(record, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            return Failure(record, cancellationToken.IsCancellationRequested ? RecordFailureStage.Skipped : RecordFailureStage.Transform,
                $"Record {name}: transform failed: {ex.GetType().Name}: {ex.Message}", ex);
        }

        using CancellationTokenSource? timeout = _options.RecordTimeout is { } t ? new CancellationTokenSource(t, _options.TimeProvider) : null;
        using CancellationTokenSource linked = timeout is null
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken)
            : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        Task running;
        try
        {
            running = handler(transformed, linked.Token).AsTask();
        }
        catch (Exception ex)
        {
            return Failure(record, RecordFailureStage.Handler, $"Record {name}: handler failed: {ex.GetType().Name}: {ex.Message}", ex);
        }

        try
        {
            // WaitAsync stops waiting at the deadline even when the handler ignores its token (a hang).
            await running.WaitAsync(linked.Token).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException ex) when (timeout?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
        {
            ObserveLater(running);
            return Failure(record, RecordFailureStage.Timeout, $"Record {name}: handler did not finish within {_options.RecordTimeout}", ex);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            ObserveLater(running);
            return Failure(record, RecordFailureStage.Skipped, $"Record {name}: the batch was cancelled while the handler ran", ex);
        }
        catch (Exception ex)
        {
            return Failure(record, RecordFailureStage.Handler, $"Record {name}: handler failed: {ex.GetType().Name}: {ex.Message}", ex);
        }
    }

    private static void ObserveLater(Task task) =>
        _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    private static RecordFailure Failure(UserRecordContext record, RecordFailureStage stage, string message, Exception? ex) =>
        new() { SequenceNumber = record.SequenceNumber, SubSequenceNumber = record.SubSequenceNumber, Stage = stage, Message = message, Exception = ex };

    private void Skip(Run run, UserRecordContext record, string why) =>
        Report(run, Failure(record, RecordFailureStage.Skipped, $"Record {record.Describe()}: not run: {why}", null));

    private void Report(Run run, RecordFailure failure)
    {
        run.Failures.Enqueue(failure);
        if (failure.Stage == RecordFailureStage.Skipped)
        {
            _logger.LogDebug("{Message}", failure.Message);
        }
        else
        {
            _logger.LogWarning(failure.Exception, "Kinesis record {SequenceNumber} sub-record {SubSequenceNumber} failed at {Stage}: {Message}",
                failure.SequenceNumber, failure.SubSequenceNumber, failure.Stage, failure.Message);
        }

        try
        {
            _options.OnRecordFailure?.Invoke(failure);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "OnRecordFailure callback threw for record {SequenceNumber}", failure.SequenceNumber);
        }
    }

    private static BatchProcessingResult Complete(Run run, IReadOnlyList<KinesisEventRecord> records)
    {
        string? lowest = null;
        int succeeded = 0;
        for (int i = 0; i < records.Count; i++)
        {
            if (!run.Failed[i] && run.Remaining[i] == 0)
            {
                succeeded++;
                continue;
            }

            string seq = records[i].Kinesis?.SequenceNumber ?? "";
            if (lowest is null || SequenceNumberComparer.Instance.Compare(seq, lowest) < 0)
            {
                lowest = seq;
            }
        }

        var response = new StreamsEventResponse
        {
            BatchItemFailures = lowest is null ? [] : [new BatchItemFailure { ItemIdentifier = lowest }],
        };
        return new BatchProcessingResult(response, run.Failures.ToArray(), records.Count, succeeded, run.Handled, lowest, run.DroppedByShardRange);
    }

    private sealed class Run(int count)
    {
        public readonly int[] Remaining = new int[count];
        public readonly bool[] Failed = new bool[count];
        public readonly ConcurrentQueue<RecordFailure> Failures = new();
        public int Handled;
        public int DroppedByShardRange;
    }
}
