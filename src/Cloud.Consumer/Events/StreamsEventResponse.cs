using System.Text.Json.Serialization;

namespace Cloud.Consumer.Events;

/// <summary>
/// Partial batch response (<c>FunctionResponseTypes = ReportBatchItemFailures</c>). Lambda checkpoints
/// before the lowest reported sequence number and retries from it; an empty list means success.
/// See https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#services-kinesis-batchfailurereporting.
/// </summary>
public sealed record StreamsEventResponse
{
    /// <summary>The failed records. Empty when the whole batch succeeded.</summary>
    [JsonPropertyName("batchItemFailures")]
    public IReadOnlyList<BatchItemFailure> BatchItemFailures { get; init; } = [];
}

/// <summary>One failed record of a batch.</summary>
public sealed record BatchItemFailure
{
    /// <summary>The Kinesis sequence number of the failed record (never empty: an empty id fails the whole batch).</summary>
    [JsonPropertyName("itemIdentifier")]
    public string ItemIdentifier { get; init; } = "";
}

/// <summary>
/// Response to a <see cref="KinesisTimeWindowEvent"/>: the new window state plus failures. A response
/// without <c>state</c> counts as a failed invoke, so <see cref="State"/> is always written.
/// </summary>
public sealed record KinesisTimeWindowResponse
{
    /// <summary>The state handed to the next invoke of the window.</summary>
    [JsonPropertyName("state")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    [JsonConverter(typeof(WindowStateConverter))]
    public IReadOnlyDictionary<string, string> State { get; init; } = new Dictionary<string, string>();

    /// <summary>The failed records (see <see cref="StreamsEventResponse"/>).</summary>
    [JsonPropertyName("batchItemFailures")]
    public IReadOnlyList<BatchItemFailure> BatchItemFailures { get; init; } = [];
}
