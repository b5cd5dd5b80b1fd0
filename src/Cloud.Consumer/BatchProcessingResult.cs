using Cloud.Consumer.Events;

namespace Cloud.Consumer;

/// <summary>What a <see cref="KinesisBatchProcessor"/> run did.</summary>
public sealed class BatchProcessingResult
{
    internal BatchProcessingResult(StreamsEventResponse response, IReadOnlyList<RecordFailure> failures,
        int recordCount, int succeededRecordCount, int handledUserRecordCount, string? lowestFailedSequenceNumber, int droppedByShardRange = 0)
    {
        DroppedByShardRange = droppedByShardRange;
        Response = response;
        Failures = failures;
        RecordCount = recordCount;
        SucceededRecordCount = succeededRecordCount;
        HandledUserRecordCount = handledUserRecordCount;
        LowestFailedSequenceNumber = lowestFailedSequenceNumber;
    }

    /// <summary>The response to return to Lambda (reports only the lowest failed sequence number, or nothing).</summary>
    public StreamsEventResponse Response { get; }

    /// <summary>Every failed or skipped record, in no particular order.</summary>
    public IReadOnlyList<RecordFailure> Failures { get; }

    /// <summary>Kinesis records in the batch.</summary>
    public int RecordCount { get; }

    /// <summary>Kinesis records whose user records all succeeded.</summary>
    public int SucceededRecordCount { get; }

    /// <summary>User records whose handler succeeded.</summary>
    public int HandledUserRecordCount { get; }

    /// <summary>The lowest failed parent sequence number, or null when the whole batch succeeded.</summary>
    public string? LowestFailedSequenceNumber { get; }

    /// <summary>Aggregates dropped whole under <see cref="KinesisBatchProcessorOptions.KclShardRange"/> (the KCL's rule).</summary>
    public int DroppedByShardRange { get; }

    /// <summary>True when every record succeeded.</summary>
    public bool IsSuccess => LowestFailedSequenceNumber is null;
}
