using System.Text;
using Microsoft.Extensions.Logging;

namespace Cloud.Producer.Internal;

/// <summary>
/// Completion ledger: every accepted record completes exactly once, as delivered or failed; counts what is
/// outstanding and releases flush waiters whose records have all completed.
/// </summary>
/// <remarks>
/// Threading: owned by the producer's loop. Only <see cref="FailOffLoop"/> and <see cref="InvokeFailureHandler"/>
/// may be called from other threads (they touch no loop state).
/// </remarks>
internal sealed class CompletionLedger(KinesisProducerOptions options, ProducerMetrics metrics, BufferGate gate, TimeProvider time, ILogger logger)
{
    private readonly List<FlushWaiter> _flushWaiters = [];
    private long _nextId;

    /// <summary>Records accepted and not yet completed.</summary>
    public long Outstanding { get; private set; }

    /// <summary>Whether a flush is waiting (records should not linger).</summary>
    public bool Flushing => _flushWaiters.Count > 0;

    /// <summary>Gives an accepted record its id and deadline.</summary>
    public void Accept(UserRecord r, long now, long ttlTicks)
    {
        r.Id = ++_nextId;
        Outstanding++;
        r.EnqueuedAt = now;
        r.Deadline = now + ttlTicks;
    }

    /// <summary>Registers a flush: it completes when every record accepted before it has completed.</summary>
    public void AddFlushWaiter(FlushWaiter f)
    {
        f.MaxId = _nextId;
        f.Remaining = Outstanding;
        if (f.Remaining == 0)
        {
            f.Completion.TrySetResult();
        }
        else
        {
            _flushWaiters.Add(f);
        }
    }

    /// <summary>Completes the user records of a Kinesis record written at (shard, sequence).</summary>
    public void Delivered(Packed p, string shardId, string sequenceNumber, long now)
    {
        bool aggregated = p.Aggregated || p.Records.Length > 1;
        metrics.KinesisRecords.Add(1, metrics.StreamTag);
        metrics.KinesisBytes.Add(p.Data.Length + Encoding.UTF8.GetByteCount(p.PartitionKey), metrics.StreamTag);
        metrics.AggregationRatio.Record(p.Records.Length, metrics.StreamTag);
        long bytes = 0;
        for (int i = 0; i < p.Records.Length; i++)
        {
            var r = p.Records[i];
            bytes += r.Length;
            metrics.BufferedTime.Record((now - r.EnqueuedAt) * 1000.0 / time.TimestampFrequency, metrics.StreamTag);
            r.Completion.TrySetResult(new SendResult(shardId, sequenceNumber, aggregated ? i : null, r.Attempts));
            Release(r);
        }
        metrics.UserRecords.Add(p.Records.Length, metrics.StreamTag);
        metrics.UserBytes.Add(bytes, metrics.StreamTag);
    }

    /// <summary>Fails a record held by the loop.</summary>
    public void Fail(UserRecord r, DeliveryFailureReason reason, string message, string? code, Exception? error)
    {
        Complete(r, reason, message, code, error);
        Release(r);
    }

    /// <summary>Fails a record the loop never accepted (it raced with disposal).</summary>
    public void FailOffLoop(UserRecord r, DeliveryFailureReason reason, string message)
    {
        Complete(r, reason, message, null, null);
        gate.Release(r.GateBytes);
        r.ReturnBuffer();
    }

    /// <summary>Fails a record whose deadline passed.</summary>
    public void FailExpired(UserRecord r) => Fail(
        r,
        DeliveryFailureReason.TtlExpired,
        (r.Attempts == 0
            ? $"A record was not written to stream '{options.StreamName}' within RecordTtl {options.RecordTtl}: it was never sent (it waited in its shard's queue behind the shard's rate limit or earlier records of its key)"
            : $"A record was not written to stream '{options.StreamName}' within RecordTtl {options.RecordTtl} after {r.Attempts} attempt(s)")
            + (r.LastError is null ? "." : $"; last error: {r.LastErrorCode ?? r.LastError.GetType().Name}."),
        r.LastErrorCode,
        r.LastError);

    /// <summary>Calls the options' failure handler; a handler that throws is counted and logged, never rethrown.</summary>
    public void InvokeFailureHandler(RecordDeliveryException exception)
    {
        if (options.FailureHandler is not { } handler)
        {
            return;
        }
        try
        {
            handler(exception);
        }
        catch (Exception ex)
        {
            metrics.Failures.Add(1, metrics.StreamTag, new("reason", "FailureHandlerThrew"));
            logger.LogError(ex, "FailureHandler threw for a record of stream {Stream}", options.StreamName);
        }
    }

    private void Complete(UserRecord r, DeliveryFailureReason reason, string message, string? code, Exception? error)
    {
        // The partition key and data travel in the exception's properties for the caller, never in its message.
        var exception = new RecordDeliveryException(reason, message, options.StreamName, r.OriginalPartitionKey, r.OriginalExplicitHashKey,
            r.Data.ToArray(), r.Attempts, null, code, error);
        metrics.Failures.Add(1, metrics.StreamTag, new("reason", reason.ToString()));
        InvokeFailureHandler(exception);
        r.Completion.TrySetException(exception);
    }

    private void Release(UserRecord r)
    {
        Outstanding--;
        gate.Release(r.GateBytes);
        r.ReturnBuffer();
        for (int i = _flushWaiters.Count - 1; i >= 0; i--)
        {
            var f = _flushWaiters[i];
            if (r.Id <= f.MaxId && --f.Remaining == 0)
            {
                f.Completion.TrySetResult();
                _flushWaiters.RemoveAt(i);
            }
        }
    }
}

/// <summary>A pending <c>FlushAsync</c>.</summary>
internal sealed class FlushWaiter
{
    public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public long MaxId { get; set; }
    public long Remaining { get; set; }
}
