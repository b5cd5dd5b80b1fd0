namespace Cloud.Producer;

/// <summary>Where a user record was durably written.</summary>
/// <param name="ShardId">Shard that holds the record.</param>
/// <param name="SequenceNumber">Sequence number of the Kinesis record carrying it.</param>
/// <param name="SubSequenceNumber">Index inside the KPL aggregate, or <see langword="null"/> when sent unaggregated.</param>
/// <param name="Attempts">PutRecords attempts it took (1 = first try).</param>
public readonly record struct SendResult(string ShardId, string SequenceNumber, long? SubSequenceNumber, int Attempts)
{
    /// <summary>Whether the record travelled inside a KPL aggregated record.</summary>
    public bool IsAggregated => SubSequenceNumber is not null;
}
