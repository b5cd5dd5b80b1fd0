using System.Text.Json.Serialization;

namespace Cloud.Consumer.Events;

/// <summary>
/// The event Lambda sends when the mapping has <c>TumblingWindowInSeconds</c> set.
/// See https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html.
/// </summary>
public sealed record KinesisTimeWindowEvent : KinesisEvent
{
    /// <summary>The window the records belong to.</summary>
    [JsonPropertyName("window")]
    public TimeWindow? Window { get; init; }

    /// <summary>
    /// State returned by the previous invoke of this window (string to string; AWS's own examples use
    /// numbers as values, which are read as their decimal text). Empty at the start of a window.
    /// </summary>
    [JsonPropertyName("state")]
    [JsonConverter(typeof(WindowStateConverter))]
    public IReadOnlyDictionary<string, string>? State { get; init; }

    /// <summary>The shard the records come from.</summary>
    [JsonPropertyName("shardId")]
    public string? ShardId { get; init; }

    /// <summary>ARN of the stream (or of the enhanced fan-out consumer).</summary>
    [JsonPropertyName("eventSourceARN")]
    public string? EventSourceArn { get; init; }

    /// <summary>True on the last invoke of the window: the state is final and ready to be written out.</summary>
    [JsonPropertyName("isFinalInvokeForWindow")]
    public bool IsFinalInvokeForWindow { get; init; }

    /// <summary>True when Lambda ended the window early (state over 1 MB or resharding).</summary>
    [JsonPropertyName("isWindowTerminatedEarly")]
    public bool IsWindowTerminatedEarly { get; init; }
}

/// <summary>A tumbling window: <c>[Start, End)</c>, ISO-8601 UTC on the wire.</summary>
public sealed record TimeWindow
{
    /// <summary>Window start (inclusive).</summary>
    [JsonPropertyName("start")]
    [JsonConverter(typeof(IsoUtcTimestampConverter))]
    public DateTimeOffset Start { get; init; }

    /// <summary>Window end (exclusive).</summary>
    [JsonPropertyName("end")]
    [JsonConverter(typeof(IsoUtcTimestampConverter))]
    public DateTimeOffset End { get; init; }
}
