using System.Text.Json.Serialization;

namespace Cloud.Functions.Forget;

// Minimal Kinesis event / batch response shapes for this function (only the members it reads).
// See https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html.
internal sealed class KinesisEventModel
{
    [JsonPropertyName("Records")]
    public List<KinesisEventRecordModel>? Records { get; set; }
}

internal sealed class KinesisEventRecordModel
{
    [JsonPropertyName("kinesis")]
    public KinesisDataModel? Kinesis { get; set; }

    [JsonPropertyName("eventID")]
    public string? EventId { get; set; }

    [JsonPropertyName("eventSourceARN")]
    public string? EventSourceArn { get; set; }
}

internal sealed class KinesisDataModel
{
    [JsonPropertyName("partitionKey")]
    public string? PartitionKey { get; set; }

    [JsonPropertyName("sequenceNumber")]
    public string? SequenceNumber { get; set; }

    [JsonPropertyName("data")]
    public string? Data { get; set; }
}

internal sealed class BatchResponseModel
{
    [JsonPropertyName("batchItemFailures")]
    public List<BatchItemFailureModel> BatchItemFailures { get; set; } = [];
}

internal sealed class BatchItemFailureModel
{
    [JsonPropertyName("itemIdentifier")]
    public string ItemIdentifier { get; set; } = "";
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(KinesisEventModel))]
[JsonSerializable(typeof(BatchResponseModel))]
internal sealed partial class ForgetJsonContext : JsonSerializerContext;
