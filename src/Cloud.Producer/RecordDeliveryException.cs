namespace Cloud.Producer;

/// <summary>Why a record was not delivered.</summary>
public enum DeliveryFailureReason
{
    /// <summary>The record itself is invalid (see <see cref="RecordDeliveryException.Field"/>); it was never sent.</summary>
    InvalidRecord,

    /// <summary>It could not be written within <see cref="KinesisProducerOptions.RecordTtl"/>; the last error is the inner exception.</summary>
    TtlExpired,

    /// <summary>The stream does not exist (never created, or deleted while producing).</summary>
    StreamNotFound,

    /// <summary>Kinesis or the client rejected it permanently (e.g. access denied, KMS key disabled).</summary>
    Rejected,

    /// <summary>The producer was disposed before the record could be written.</summary>
    ProducerDisposed,
}

/// <summary>
/// A user record that the producer could not deliver. Every accepted record either completes with a
/// <see cref="SendResult"/> or with this exception (also passed to <see cref="KinesisProducerOptions.FailureHandler"/>).
/// </summary>
public sealed class RecordDeliveryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RecordDeliveryException(
        DeliveryFailureReason reason,
        string message,
        string streamName,
        string? partitionKey,
        string? explicitHashKey,
        ReadOnlyMemory<byte> data,
        int attempts,
        string? field = null,
        string? lastErrorCode = null,
        Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
        StreamName = streamName;
        PartitionKey = partitionKey;
        ExplicitHashKey = explicitHashKey;
        RecordData = data;
        Attempts = attempts;
        Field = field;
        LastErrorCode = lastErrorCode;
    }

    /// <summary>Why it failed.</summary>
    public DeliveryFailureReason Reason { get; }

    /// <summary>Target stream.</summary>
    public string StreamName { get; }

    /// <summary>The record's partition key as given (<see langword="null"/> for keyless records).</summary>
    public string? PartitionKey { get; }

    /// <summary>The record's explicit hash key as given.</summary>
    public string? ExplicitHashKey { get; }

    /// <summary>A copy of the record's data, so a failure handler can store or resend it.</summary>
    public ReadOnlyMemory<byte> RecordData { get; }

    /// <summary>PutRecords attempts made (0 when it was never sent).</summary>
    public int Attempts { get; }

    /// <summary>For <see cref="DeliveryFailureReason.InvalidRecord"/>: the invalid argument (data, partitionKey, explicitHashKey).</summary>
    public string? Field { get; }

    /// <summary>Kinesis error code of the last failed attempt, if any (e.g. ProvisionedThroughputExceededException).</summary>
    public string? LastErrorCode { get; }
}
