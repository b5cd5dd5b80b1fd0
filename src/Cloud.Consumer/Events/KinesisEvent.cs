using System.Text.Json.Serialization;

namespace Cloud.Consumer.Events;

/// <summary>
/// The event Lambda sends for a Kinesis event source mapping.
/// See https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html.
/// </summary>
public record KinesisEvent
{
    /// <summary>The records of the batch, all from one shard, in sequence-number order.</summary>
    [JsonPropertyName("Records")]
    public IReadOnlyList<KinesisEventRecord> Records { get; init; } = [];
}

/// <summary>One entry of <see cref="KinesisEvent.Records"/>.</summary>
public sealed record KinesisEventRecord
{
    /// <summary>The Kinesis data record.</summary>
    [JsonPropertyName("kinesis")]
    public KinesisRecordData Kinesis { get; init; } = new();

    /// <summary>Always <c>aws:kinesis</c>.</summary>
    [JsonPropertyName("eventSource")]
    public string? EventSource { get; init; }

    /// <summary>Event format version, <c>1.0</c>.</summary>
    [JsonPropertyName("eventVersion")]
    public string? EventVersion { get; init; }

    /// <summary><c>shardId-…:sequenceNumber</c>.</summary>
    [JsonPropertyName("eventID")]
    public string? EventId { get; init; }

    /// <summary>Always <c>aws:kinesis:record</c>.</summary>
    [JsonPropertyName("eventName")]
    public string? EventName { get; init; }

    /// <summary>ARN of the role Lambda used to read the stream.</summary>
    [JsonPropertyName("invokeIdentityArn")]
    public string? InvokeIdentityArn { get; init; }

    /// <summary>Region of the stream.</summary>
    [JsonPropertyName("awsRegion")]
    public string? AwsRegion { get; init; }

    /// <summary>ARN of the stream (or of the enhanced fan-out consumer).</summary>
    [JsonPropertyName("eventSourceARN")]
    public string? EventSourceArn { get; init; }

    /// <summary>The shard id taken from <see cref="EventId"/> (the part before the colon), or null.</summary>
    [JsonIgnore]
    public string? ShardId
    {
        get
        {
            if (EventId is null)
            {
                return null;
            }

            int colon = EventId.IndexOf(':', StringComparison.Ordinal);
            return colon > 0 ? EventId[..colon] : null;
        }
    }
}

/// <summary>The <c>kinesis</c> object of a Lambda Kinesis event record.</summary>
public sealed record KinesisRecordData
{
    /// <summary>Schema version, <c>1.0</c>.</summary>
    [JsonPropertyName("kinesisSchemaVersion")]
    public string? KinesisSchemaVersion { get; init; }

    /// <summary>The partition key the producer used for the Kinesis record.</summary>
    [JsonPropertyName("partitionKey")]
    public string PartitionKey { get; init; } = "";

    /// <summary>The sequence number (decimal string, up to 128 digits).</summary>
    [JsonPropertyName("sequenceNumber")]
    public string SequenceNumber { get; init; } = "";

    /// <summary>The record data, base64. Kept as text so one malformed record cannot fail the whole event.</summary>
    [JsonPropertyName("data")]
    public string Data { get; init; } = "";

    /// <summary>Arrival time; on the wire epoch seconds with a millisecond fraction (e.g. <c>1545084650.987</c>).</summary>
    [JsonPropertyName("approximateArrivalTimestamp")]
    [JsonConverter(typeof(EpochSecondsConverter))]
    public DateTimeOffset ApproximateArrivalTimestamp { get; init; }
}
