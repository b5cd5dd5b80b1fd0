using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Kinesis;

namespace Cloud.Producer.Internal;

/// <summary>What came back for one PutRecords request.</summary>
/// <param name="Batch">The request.</param>
/// <param name="Response">The answer, when the call returned.</param>
/// <param name="Error">The exception, when it threw.</param>
/// <param name="ElapsedTicks">Round trip.</param>
/// <param name="DeadlineReached">The call was cancelled because its earliest record's TTL ran out.</param>
internal sealed record BatchResult(Batch Batch, PutRecordsResponse? Response, Exception? Error, long ElapsedTicks, bool DeadlineReached);

/// <summary>
/// Retrier stage, the producer's one retry layer (the SDK client makes no retries of its own for these calls):
/// settles each PutRecords result entry by entry with the project's error vocabulary (<see cref="KinesisErrors"/>):
/// delivered, re-sent (throttled, transient, or an aggregate that landed on another shard than predicted), or failed
/// at once (permanent errors). Re-sent records go back ahead of newer records of their shard, after a jittered backoff.
/// </summary>
/// <remarks>Threading: owned by the producer's loop.</remarks>
internal sealed class Retrier(KinesisProducerOptions options, ProducerMetrics metrics, ShardRouter router, CompletionLedger ledger, Random random, TimeProvider time)
{
    /// <summary>Aggregates re-sent because they landed on another shard than predicted (so far).</summary>
    public long WrongShardAggregates { get; private set; }

    /// <summary>User records re-sent after a durable wrong-shard write: possible duplicates for non-KCL readers.</summary>
    public long PossibleDuplicates { get; private set; }

    /// <summary>Exponential backoff with "equal jitter": half fixed, half random.</summary>
    public TimeSpan Backoff(int attempt)
    {
        double min = options.RetryMinBackoff.TotalMilliseconds;
        double max = options.RetryMaxBackoff.TotalMilliseconds;
        double cap = Math.Min(max, min * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30)));
        return TimeSpan.FromMilliseconds((cap / 2) + (random.NextDouble() * cap / 2));
    }

    /// <summary>Settles a result. Returns requests to send again at once (a refused request split entry by entry), or null.</summary>
    public List<Batch>? Settle(BatchResult result, long now)
    {
        var batch = result.Batch;
        var retry = new List<(Packed Packed, KinesisError Error, Exception? Exception)>();
        var wrongShard = new List<Packed>();
        List<Batch>? resend = null;
        if (result.Error is not null || result.Response?.Records is not { } entries || entries.Count != batch.Entries.Count)
        {
            metrics.Requests.Add(1, metrics.StreamTag, new("outcome", "error"));
            var error = result.Error ?? new AmazonKinesisException(
                $"PutRecords answered {result.Response?.Records?.Count ?? 0} results for {batch.Entries.Count} records.");
            var kind = result.DeadlineReached
                ? new KinesisError(KinesisErrorKind.Retryable, KinesisErrorCause.Timeout, "RecordTtlReached")
                : KinesisErrors.Classify(error);
            resend = SettleRequestError(batch, kind, error, retry);
        }
        else
        {
            metrics.Requests.Add(1, metrics.StreamTag, new("outcome", result.Response.FailedRecordCount > 0 ? "partial" : "ok"));
            for (int i = 0; i < batch.Entries.Count; i++)
            {
                var p = batch.Entries[i];
                var entry = entries[i];
                if (!string.IsNullOrEmpty(entry.SequenceNumber) && !string.IsNullOrEmpty(entry.ShardId) && string.IsNullOrEmpty(entry.ErrorCode))
                {
                    if (!string.Equals(entry.ShardId, p.Shard.ShardId, StringComparison.Ordinal))
                    {
                        router.MarkStale(); // the prediction was wrong: the map is out of date (reshard)
                        if (p.Records.Length > 1)
                        {
                            // The KCL drops a whole aggregate as soon as one of its records hashes outside the shard
                            // it was read from: not delivered until written where the map says (KPL's succeed_if_correct_shard).
                            wrongShard.Add(p);
                            continue;
                        }
                    }
                    ledger.Delivered(p, entry.ShardId, entry.SequenceNumber, now);
                    continue;
                }
                var classified = KinesisErrors.Classify(entry.ErrorCode);
                if (classified.IsPermanent)
                {
                    foreach (var r in p.Records)
                    {
                        ledger.Fail(r, DeliveryFailureReason.Rejected,
                            $"Kinesis rejected a record of stream '{options.StreamName}' ({classified.Cause}): {classified.Code}: {entry.ErrorMessage}",
                            classified.Code, null);
                    }
                    continue;
                }
                retry.Add((p, classified, null));
            }
        }
        RequeueWrongShard(wrongShard, now);
        Requeue(retry, now);
        return resend;
    }

    private List<Batch>? SettleRequestError(Batch batch, KinesisError kind, Exception error, List<(Packed, KinesisError, Exception?)> retry)
    {
        if (kind.Cause == KinesisErrorCause.NotFound)
        {
            router.Drop();
            FailBatch(batch, DeliveryFailureReason.StreamNotFound, $"Stream '{options.StreamName}' does not exist (deleted?): {kind.Code}.", kind.Code, error);
            return null;
        }
        if (kind.Cause == KinesisErrorCause.InvalidRequest && batch.Entries.Count > 1)
        {
            // One bad entry refuses the whole request: send each entry alone so only the bad one fails.
            router.MarkStale();
            var singles = new List<Batch>(batch.Entries.Count);
            foreach (var p in batch.Entries)
            {
                var single = new Batch();
                single.Add(p, p.Data.Length);
                single.Shards.Add(p.Shard);
                singles.Add(single);
            }
            return singles;
        }
        if (kind.IsPermanent)
        {
            var reason = kind.Cause == KinesisErrorCause.InvalidRequest ? DeliveryFailureReason.InvalidRecord : DeliveryFailureReason.Rejected;
            FailBatch(batch, reason, $"Kinesis refused PutRecords for stream '{options.StreamName}' ({kind.Cause}): {kind.Code}.", kind.Code, error);
            return null;
        }
        foreach (var p in batch.Entries)
        {
            retry.Add((p, kind, error));
        }
        return null;
    }

    private void FailBatch(Batch batch, DeliveryFailureReason reason, string message, string code, Exception error)
    {
        foreach (var p in batch.Entries)
        {
            p.ReturnBuffer();
            foreach (var r in p.Records)
            {
                ledger.Fail(r, reason, message, code, error);
            }
        }
    }

    private void RequeueWrongShard(List<Packed> packs, long now)
    {
        foreach (var p in packs)
        {
            WrongShardAggregates++;
            PossibleDuplicates += p.Records.Length;
            metrics.WrongShard.Add(1, metrics.StreamTag);
            metrics.Duplicates.Add(p.Records.Length, metrics.StreamTag);
            var keep = new List<UserRecord>(p.Records.Length);
            foreach (var r in p.Records)
            {
                r.LastErrorCode = "WrongShard";
                r.LastError ??= new AmazonKinesisException("An aggregate was written to another shard than predicted (reshard).") { ErrorCode = "WrongShard" };
                if (r.Deadline <= now)
                {
                    ledger.FailExpired(r);
                }
                else
                {
                    keep.Add(r);
                }
            }
            // Hold the shard until the refreshed map routes its queue again, wrong-shard records first.
            p.Shard.AwaitingMap = !p.Shard.Removed;
            router.Requeue(p.Shard, keep);
        }
    }

    private void Requeue(List<(Packed Packed, KinesisError Error, Exception? Exception)> retry, long now)
    {
        if (retry.Count == 0)
        {
            return;
        }
        // Group by shard keeping request order, so each shard gets its failed records back in their original order.
        var byShard = new Dictionary<ShardState, List<UserRecord>>();
        var throttled = new HashSet<ShardState>();
        foreach (var (p, error, exception) in retry)
        {
            metrics.Retries.Add(1, metrics.StreamTag, new("error", error.Code));
            if (error.IsThrottling)
            {
                metrics.Throttles.Add(1, metrics.StreamTag);
                throttled.Add(p.Shard);
            }
            if (!byShard.TryGetValue(p.Shard, out var list))
            {
                byShard[p.Shard] = list = [];
            }
            foreach (var r in p.Records)
            {
                r.LastErrorCode = error.Code;
                r.LastError = exception ?? new AmazonKinesisException($"PutRecords entry failed: {error.Code}.") { ErrorCode = error.Code };
                if (r.Deadline <= now)
                {
                    ledger.FailExpired(r);
                }
                else
                {
                    list.Add(r);
                }
            }
        }
        foreach (var shard in throttled)
        {
            shard.Limiter.OnThrottled(now);
        }
        foreach (var (shard, records) in byShard)
        {
            if (records.Count == 0)
            {
                continue;
            }
            int attempts = records.Max(r => r.Attempts);
            long backoff = now + (long)(Backoff(attempts).TotalSeconds * time.TimestampFrequency);
            shard.NotBefore = Math.Max(shard.NotBefore, backoff);
            router.Requeue(shard, records);
        }
    }
}
