using System.Text.Json.Serialization;

namespace Cloud.Consumer.Events;

/// <summary>
/// Source-generated (AOT/trim-safe) System.Text.Json metadata for the Lambda Kinesis event models.
/// Use <c>KinesisEventsJsonContext.Default.KinesisEvent</c> etc. with <c>JsonSerializer</c>.
/// </summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(KinesisEvent))]
[JsonSerializable(typeof(KinesisTimeWindowEvent))]
[JsonSerializable(typeof(StreamsEventResponse))]
[JsonSerializable(typeof(KinesisTimeWindowResponse))]
[JsonSerializable(typeof(KinesisOnFailureRecord))]
public sealed partial class KinesisEventsJsonContext : JsonSerializerContext;
