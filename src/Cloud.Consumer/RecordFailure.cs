using System.Globalization;

namespace Cloud.Consumer;

/// <summary>Where in the pipeline a record failed.</summary>
public enum RecordFailureStage
{
    /// <summary>The <c>data</c> field is not valid base64.</summary>
    Base64,

    /// <summary>The bytes claim a format (compressed frame, KPL aggregate) but are corrupt, truncated or use an unknown codec.</summary>
    Decode,

    /// <summary>An <see cref="IUserRecordTransform"/> stage threw.</summary>
    Transform,

    /// <summary>The handler threw.</summary>
    Handler,

    /// <summary>The handler did not finish within <see cref="KinesisBatchProcessorOptions.RecordTimeout"/>.</summary>
    Timeout,

    /// <summary>Not run: an earlier record with the same key failed (per-key order), or the batch was cancelled.</summary>
    Skipped,
}

/// <summary>
/// A failed (or skipped) record, reported to <see cref="KinesisBatchProcessorOptions.OnRecordFailure"/>
/// and the logger. It names the record by sequence numbers only; it never carries record data.
/// </summary>
public sealed record RecordFailure
{
    /// <summary>Sequence number of the Kinesis record (the parent for sub-records).</summary>
    public required string SequenceNumber { get; init; }

    /// <summary>Sub-record index within a KPL aggregate, or null.</summary>
    public long? SubSequenceNumber { get; init; }

    /// <summary>The stage that failed.</summary>
    public required RecordFailureStage Stage { get; init; }

    /// <summary>Human-readable reason naming the record.</summary>
    public required string Message { get; init; }

    /// <summary>The exception, when there was one.</summary>
    public Exception? Exception { get; init; }

    /// <summary>Formats a record name: <c>seq</c> or <c>seq/sub</c>.</summary>
    public static string Describe(string sequenceNumber, long? subSequenceNumber) =>
        subSequenceNumber is { } sub
            ? string.Create(CultureInfo.InvariantCulture, $"{sequenceNumber}/{sub}")
            : sequenceNumber;
}
