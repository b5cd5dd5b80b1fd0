namespace Cloud.Records;

/// <summary>
/// One user record decoded from a Kinesis record: the record itself when it was not aggregated, or one
/// sub-record of a KPL aggregate, which keeps the parent's sequence number and adds its sub-sequence number.
/// </summary>
public readonly struct UserRecord
{
    /// <summary>Creates a user record.</summary>
    public UserRecord(string partitionKey, string? explicitHashKey, ReadOnlyMemory<byte> data, string? sequenceNumber, long subSequenceNumber, bool isAggregated)
    {
        PartitionKey = partitionKey;
        ExplicitHashKey = explicitHashKey;
        Data = data;
        SequenceNumber = sequenceNumber;
        SubSequenceNumber = subSequenceNumber;
        IsAggregated = isAggregated;
    }

    /// <summary>The user record's partition key (from the aggregate's key table, or the Kinesis record's own key).</summary>
    public string PartitionKey { get; }

    /// <summary>The explicit hash key, when the sub-record (or the caller, for a plain record) had one.</summary>
    public string? ExplicitHashKey { get; }

    /// <summary>The user data: a slice of the Kinesis record (or of its decompressed payload) without copying.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Sequence number of the Kinesis record this came from (the parent's, for sub-records).</summary>
    public string? SequenceNumber { get; }

    /// <summary>Index of the sub-record within its aggregate (0 for a record that was not aggregated).</summary>
    public long SubSequenceNumber { get; }

    /// <summary>True when this user record came out of a KPL aggregate.</summary>
    public bool IsAggregated { get; }

    /// <inheritdoc />
    public override string ToString() =>
        $"{SequenceNumber ?? "?"}{(IsAggregated ? "/" + SubSequenceNumber : string.Empty)} key={PartitionKey} {Data.Length} bytes";
}

/// <summary>
/// A user record as <see cref="RecordDecoder.DecodeData"/> yields it: its data (a slice of the Kinesis record or of its
/// decompressed frame) and, for a sub-record of a KPL aggregate, its sub-sequence number.
/// </summary>
/// <param name="Data">The user record's bytes.</param>
/// <param name="SubSequenceNumber">Index in the aggregate, or null when the Kinesis record is not an aggregate.</param>
public readonly record struct UserRecordData(ReadOnlyMemory<byte> Data, long? SubSequenceNumber);
