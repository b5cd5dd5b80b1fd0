using System.Diagnostics.Metrics;
using Cloud.Telemetry;

namespace Cloud.EventSourceMapping.Runner;

/// <summary>
/// The mapping's counters, shared by its shard workers. Every member is thread-safe (Interlocked); a snapshot is
/// what <see cref="LocalEventSourceMapping.GetStatistics"/> returns. Each count is also recorded on the
/// <c>Cloud.EventSourceMapping</c> meter (docs/observability.md): tags are the stream, the shard, an outcome —
/// never a partition key or a record's content.
/// </summary>
internal sealed class MappingCounters : IDisposable
{
    private const string Source = TelemetryNames.EventSourceMapping;
    private readonly Meter _meter;
    private readonly KeyValuePair<string, object?> _stream;
    private readonly Counter<long> _invocations;
    private readonly Histogram<double> _invokeDuration;
    private readonly Counter<long> _processed;
    private readonly Counter<long> _discarded;
    private readonly Counter<long> _onFailure;
    private readonly Counter<long> _windows;
    private long _invocationCount;
    private long _failedInvocations;
    private long _recordsProcessed;
    private long _recordsDiscarded;
    private long _onFailureRecords;
    private long _windowsClosed;

    public MappingCounters(string streamName, Func<IEnumerable<ShardLag>> lag)
    {
        _meter = new Meter(Source);
        _stream = new KeyValuePair<string, object?>(TelemetryTags.Stream, streamName);
        _invocations = _meter.CreateCounter<long>(EventSourceMappingMetricNames.Invocations, "{invocation}", "Function invocations (outcome: ok | error)");
        _invokeDuration = _meter.CreateHistogram<double>(EventSourceMappingMetricNames.InvokeDuration, "ms", "Function invocation duration");
        _processed = _meter.CreateCounter<long>(EventSourceMappingMetricNames.RecordsProcessed, "{record}", "Kinesis records checkpointed after a successful invoke");
        _discarded = _meter.CreateCounter<long>(EventSourceMappingMetricNames.RecordsDiscarded, "{record}", "Kinesis records discarded (retries exhausted or too old)");
        _onFailure = _meter.CreateCounter<long>(EventSourceMappingMetricNames.OnFailureRecords, "{record}", "On-failure records written");
        _windows = _meter.CreateCounter<long>(EventSourceMappingMetricNames.WindowsClosed, "{window}", "Tumbling windows closed");
        _meter.CreateObservableGauge(EventSourceMappingMetricNames.MillisBehindLatest, () => MillisBehind(lag), "ms", "Iterator age: how far each shard's read position is behind the tip");
    }

    public void Invoked(bool failed, TimeSpan duration)
    {
        Interlocked.Increment(ref _invocationCount);
        if (failed)
        {
            Interlocked.Increment(ref _failedInvocations);
        }
        _invocations.Add(1, _stream, new KeyValuePair<string, object?>(TelemetryTags.Outcome, failed ? "error" : "ok"));
        _invokeDuration.Record(duration.TotalMilliseconds, _stream);
    }

    public void Processed(int records)
    {
        Interlocked.Add(ref _recordsProcessed, records);
        _processed.Add(records, _stream);
    }

    public void Discarded(int records)
    {
        Interlocked.Add(ref _recordsDiscarded, records);
        _discarded.Add(records, _stream);
    }

    public void OnFailureSent()
    {
        Interlocked.Increment(ref _onFailureRecords);
        _onFailure.Add(1, _stream);
    }

    public void WindowClosed()
    {
        Interlocked.Increment(ref _windowsClosed);
        _windows.Add(1, _stream);
    }

    public EventSourceMappingStatistics Snapshot() => new()
    {
        Invocations = Interlocked.Read(ref _invocationCount),
        FailedInvocations = Interlocked.Read(ref _failedInvocations),
        RecordsProcessed = Interlocked.Read(ref _recordsProcessed),
        RecordsDiscarded = Interlocked.Read(ref _recordsDiscarded),
        OnFailureRecords = Interlocked.Read(ref _onFailureRecords),
        WindowsClosed = Interlocked.Read(ref _windowsClosed),
    };

    public void Dispose() => _meter.Dispose();

    // Per shard, tag `shard` only: the iterator age of each shard the mapping reads.
    private static IEnumerable<Measurement<long>> MillisBehind(Func<IEnumerable<ShardLag>> lag)
    {
        foreach (var shard in lag())
        {
            if (shard.MillisBehindLatest is { } ms)
            {
                yield return new Measurement<long>(ms, new KeyValuePair<string, object?>(TelemetryTags.Shard, shard.ShardId));
            }
        }
    }
}
