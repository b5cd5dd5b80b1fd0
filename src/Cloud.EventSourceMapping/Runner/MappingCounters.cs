namespace Cloud.EventSourceMapping.Runner;

/// <summary>
/// The mapping's counters, shared by its shard workers. Every member is thread-safe (Interlocked); a snapshot is
/// what <see cref="LocalEventSourceMapping.GetStatistics"/> returns.
/// </summary>
internal sealed class MappingCounters
{
    private long _invocations;
    private long _failedInvocations;
    private long _recordsProcessed;
    private long _recordsDiscarded;
    private long _onFailureRecords;
    private long _windowsClosed;

    public void Invoked(bool failed)
    {
        Interlocked.Increment(ref _invocations);
        if (failed)
        {
            Interlocked.Increment(ref _failedInvocations);
        }
    }

    public void Processed(int records) => Interlocked.Add(ref _recordsProcessed, records);

    public void Discarded(int records) => Interlocked.Add(ref _recordsDiscarded, records);

    public void OnFailureSent() => Interlocked.Increment(ref _onFailureRecords);

    public void WindowClosed() => Interlocked.Increment(ref _windowsClosed);

    public EventSourceMappingStatistics Snapshot() => new()
    {
        Invocations = Interlocked.Read(ref _invocations),
        FailedInvocations = Interlocked.Read(ref _failedInvocations),
        RecordsProcessed = Interlocked.Read(ref _recordsProcessed),
        RecordsDiscarded = Interlocked.Read(ref _recordsDiscarded),
        OnFailureRecords = Interlocked.Read(ref _onFailureRecords),
        WindowsClosed = Interlocked.Read(ref _windowsClosed),
    };
}
