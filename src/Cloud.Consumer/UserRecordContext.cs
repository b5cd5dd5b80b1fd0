using Cloud.Consumer.Events;

namespace Cloud.Consumer;

/// <summary>
/// One user record handed to a handler: a plain Kinesis record, or one sub-record of a KPL aggregate,
/// after decompression and any <see cref="IUserRecordTransform"/> stages.
/// </summary>
public sealed record UserRecordContext
{
    /// <summary>The Kinesis record this user record came from.</summary>
    public required KinesisEventRecord Parent { get; init; }

    /// <summary>The parent's sequence number; a failed sub-record is reported with this number.</summary>
    public string SequenceNumber => Parent.Kinesis.SequenceNumber;

    /// <summary>Index of the sub-record in its KPL aggregate, or null when the Kinesis record is not an aggregate.</summary>
    public long? SubSequenceNumber { get; init; }

    /// <summary>The user record's partition key (from the aggregate's key table, else the Kinesis partition key).</summary>
    public required string PartitionKey { get; init; }

    /// <summary>The explicit hash key, when the producer set one.</summary>
    public string? ExplicitHashKey { get; init; }

    /// <summary>The user record's bytes (decompressed, deaggregated, transformed).</summary>
    public ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>The writer's schema version when the record arrived in the AWS Glue Schema Registry format and was decoded to JSON, else null.</summary>
    public Cloud.Schemas.SchemaVersion? Schema { get; init; }

    /// <summary>Position of the parent in the batch (0-based).</summary>
    public int ParentIndex { get; init; }

    /// <summary>Arrival time of the parent Kinesis record.</summary>
    public DateTimeOffset ApproximateArrivalTimestamp => Parent.Kinesis.ApproximateArrivalTimestamp;

    /// <summary>True when this record is a sub-record of a KPL aggregate.</summary>
    public bool IsAggregated => SubSequenceNumber is not null;

    /// <summary>"sequence number" or "sequence number/sub-sequence number", for messages (never includes data).</summary>
    public string Describe() => RecordFailure.Describe(SequenceNumber, SubSequenceNumber);
}

/// <summary>
/// A stage between decoding and the handler (decryption of personal fields plugs in here). Stages run in
/// the order given, once per user record, on the record's ordering lane. A stage that throws fails the
/// record (its parent is reported); it must not put plaintext personal data in exception messages.
/// </summary>
public interface IUserRecordTransform
{
    /// <summary>Returns the transformed record (or <paramref name="record"/> itself when nothing changes).</summary>
    ValueTask<UserRecordContext> TransformAsync(UserRecordContext record, CancellationToken cancellationToken);
}

/// <summary>The user's per-record handler. It succeeds by returning; any exception fails the record.</summary>
public delegate ValueTask UserRecordHandler(UserRecordContext record, CancellationToken cancellationToken);
