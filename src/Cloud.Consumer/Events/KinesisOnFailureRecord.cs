using System.Text.Json.Serialization;

namespace Cloud.Consumer.Events;

/// <summary>
/// The invocation record Lambda sends to an SQS/SNS on-failure destination when it discards a Kinesis
/// batch. It describes the batch; it does not contain the records.
/// See https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html.
/// </summary>
public sealed record KinesisOnFailureRecord
{
    /// <summary>What was invoked and why the batch was discarded.</summary>
    [JsonPropertyName("requestContext")]
    public OnFailureRequestContext RequestContext { get; init; } = new();

    /// <summary>How the last invoke ended.</summary>
    [JsonPropertyName("responseContext")]
    public OnFailureResponseContext ResponseContext { get; init; } = new();

    /// <summary>Record format version, <c>1.0</c>.</summary>
    [JsonPropertyName("version")]
    public string Version { get; init; } = "1.0";

    /// <summary>When the record was written (ISO-8601 UTC with milliseconds).</summary>
    [JsonPropertyName("timestamp")]
    [JsonConverter(typeof(IsoUtcTimestampConverter))]
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>The discarded batch.</summary>
    [JsonPropertyName("KinesisBatchInfo")]
    public KinesisBatchInfo KinesisBatchInfo { get; init; } = new();
}

/// <summary>The <c>requestContext</c> of an on-failure record.</summary>
public sealed record OnFailureRequestContext
{
    /// <summary>Request id of the last invoke.</summary>
    [JsonPropertyName("requestId")]
    public string RequestId { get; init; } = "";

    /// <summary>ARN of the function.</summary>
    [JsonPropertyName("functionArn")]
    public string FunctionArn { get; init; } = "";

    /// <summary>Why the batch was discarded: <c>RetryAttemptsExhausted</c>, <c>RecordAgeExceeded</c>, ...</summary>
    [JsonPropertyName("condition")]
    public string Condition { get; init; } = "";

    /// <summary>How many times the batch was invoked.</summary>
    [JsonPropertyName("approximateInvokeCount")]
    public int ApproximateInvokeCount { get; init; }
}

/// <summary>The <c>responseContext</c> of an on-failure record.</summary>
public sealed record OnFailureResponseContext
{
    /// <summary>HTTP status of the last invoke (200 for a function error).</summary>
    [JsonPropertyName("statusCode")]
    public int StatusCode { get; init; }

    /// <summary>Function version that ran, e.g. <c>$LATEST</c>.</summary>
    [JsonPropertyName("executedVersion")]
    public string? ExecutedVersion { get; init; }

    /// <summary><c>Unhandled</c> / <c>Handled</c> when the function failed; absent otherwise.</summary>
    [JsonPropertyName("functionError")]
    public string? FunctionError { get; init; }
}

/// <summary>The <c>KinesisBatchInfo</c> of an on-failure record.</summary>
public sealed record KinesisBatchInfo
{
    /// <summary>Shard of the batch.</summary>
    [JsonPropertyName("shardId")]
    public string ShardId { get; init; } = "";

    /// <summary>First sequence number of the discarded batch.</summary>
    [JsonPropertyName("startSequenceNumber")]
    public string StartSequenceNumber { get; init; } = "";

    /// <summary>Last sequence number of the discarded batch.</summary>
    [JsonPropertyName("endSequenceNumber")]
    public string EndSequenceNumber { get; init; } = "";

    /// <summary>Arrival time of the first record (ISO-8601 UTC).</summary>
    [JsonPropertyName("approximateArrivalOfFirstRecord")]
    [JsonConverter(typeof(IsoUtcTimestampConverter))]
    public DateTimeOffset ApproximateArrivalOfFirstRecord { get; init; }

    /// <summary>Arrival time of the last record (ISO-8601 UTC).</summary>
    [JsonPropertyName("approximateArrivalOfLastRecord")]
    [JsonConverter(typeof(IsoUtcTimestampConverter))]
    public DateTimeOffset ApproximateArrivalOfLastRecord { get; init; }

    /// <summary>Number of Kinesis records in the batch.</summary>
    [JsonPropertyName("batchSize")]
    public int BatchSize { get; init; }

    /// <summary>ARN of the stream.</summary>
    [JsonPropertyName("streamArn")]
    public string StreamArn { get; init; } = "";
}
