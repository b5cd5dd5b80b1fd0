namespace Cloud.EventSourceMapping;

/// <summary>How far a mapping is behind on one shard.</summary>
public sealed record ShardLag
{
    /// <summary>The shard.</summary>
    public required string ShardId { get; init; }

    /// <summary>Last checkpointed sequence number (null = nothing handled yet).</summary>
    public string? CheckpointSequenceNumber { get; init; }

    /// <summary>
    /// Milliseconds between the oldest unhandled record and the tip of the shard (0 = caught up); from GetRecords'
    /// MillisBehindLatest and the arrival time of records read but not yet handled. Null = not known yet.
    /// </summary>
    public long? MillisBehindLatest { get; init; }

    /// <summary>Records not yet handled, when known exactly (null = more than were read so far).</summary>
    public long? RecordsBehind { get; init; }

    /// <summary>Records read from the shard but not yet handled (a lower bound of the backlog).</summary>
    public long BufferedRecords { get; init; }

    /// <summary>The shard is closed and fully handled.</summary>
    public bool Finished { get; init; }

    /// <summary>The shard waits for its parents to be finished.</summary>
    public bool WaitingForParents { get; init; }

    /// <summary>When the shard was last read (null = never).</summary>
    public DateTimeOffset? LastReadAt { get; init; }
}

/// <summary>Counters of a running mapping.</summary>
public sealed record EventSourceMappingStatistics
{
    /// <summary>Function invokes (including window final invokes and retries).</summary>
    public long Invocations { get; init; }

    /// <summary>Invokes that failed (exception, timeout, invalid response, partial failures).</summary>
    public long FailedInvocations { get; init; }

    /// <summary>Records checkpointed after a successful invoke.</summary>
    public long RecordsProcessed { get; init; }

    /// <summary>Records discarded to the on-failure destination (retries exhausted or too old).</summary>
    public long RecordsDiscarded { get; init; }

    /// <summary>On-failure records written.</summary>
    public long OnFailureRecords { get; init; }

    /// <summary>Tumbling windows closed (final invokes done).</summary>
    public long WindowsClosed { get; init; }
}
