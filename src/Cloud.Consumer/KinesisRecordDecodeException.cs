namespace Cloud.Consumer;

/// <summary>
/// A Kinesis record in a Lambda event could not be turned into user records: malformed base64, a corrupt
/// or truncated KPL aggregate, a damaged compressed frame, or an unknown codec id. Names the record.
/// </summary>
public sealed class KinesisRecordDecodeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public KinesisRecordDecodeException(string sequenceNumber, RecordFailureStage stage, string problem, Exception? innerException = null)
        : base($"Kinesis record {sequenceNumber}: {problem}", innerException)
    {
        SequenceNumber = sequenceNumber;
        Stage = stage;
        Problem = problem;
    }

    /// <summary>Sequence number of the record that failed.</summary>
    public string SequenceNumber { get; }

    /// <summary><see cref="RecordFailureStage.Base64"/> or <see cref="RecordFailureStage.Decode"/>.</summary>
    public RecordFailureStage Stage { get; }

    /// <summary>What is wrong, without the record name.</summary>
    public string Problem { get; }
}
