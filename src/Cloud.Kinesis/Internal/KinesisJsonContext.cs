using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cloud.Kinesis.Model;

namespace Cloud.Kinesis.Internal;

/// <summary>
/// Source-generated (reflection-free, AOT-safe) JSON metadata for every request and response shape.
/// Members keep their API names (PascalCase), nulls are omitted, blobs (<see cref="ReadOnlyMemory{T}"/> of byte)
/// are base64 (System.Text.Json's built-in converter) and timestamps are epoch seconds.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(EpochSecondsConverter)])]
[JsonSerializable(typeof(CreateStreamRequest))]
[JsonSerializable(typeof(DescribeStreamSummaryRequest))]
[JsonSerializable(typeof(DescribeStreamSummaryResponse))]
[JsonSerializable(typeof(ListStreamsRequest))]
[JsonSerializable(typeof(ListStreamsResponse))]
[JsonSerializable(typeof(ListShardsRequest))]
[JsonSerializable(typeof(ListShardsResponse))]
[JsonSerializable(typeof(PutRecordRequest))]
[JsonSerializable(typeof(PutRecordResponse))]
[JsonSerializable(typeof(PutRecordsRequest))]
[JsonSerializable(typeof(PutRecordsResponse))]
[JsonSerializable(typeof(GetShardIteratorRequest))]
[JsonSerializable(typeof(GetShardIteratorResponse))]
[JsonSerializable(typeof(GetRecordsRequest))]
[JsonSerializable(typeof(GetRecordsResponse))]
[JsonSerializable(typeof(UpdateShardCountRequest))]
[JsonSerializable(typeof(UpdateShardCountResponse))]
[JsonSerializable(typeof(SplitShardRequest))]
[JsonSerializable(typeof(MergeShardsRequest))]
[JsonSerializable(typeof(StreamRetentionPeriodRequest))]
[JsonSerializable(typeof(StartStreamEncryptionRequest))]
[JsonSerializable(typeof(AddTagsToStreamRequest))]
[JsonSerializable(typeof(DeleteStreamRequest))]
[JsonSerializable(typeof(RegisterStreamConsumerRequest))]
[JsonSerializable(typeof(RegisterStreamConsumerResponse))]
[JsonSerializable(typeof(ListStreamConsumersRequest))]
[JsonSerializable(typeof(ListStreamConsumersResponse))]
[JsonSerializable(typeof(DeregisterStreamConsumerRequest))]
[JsonSerializable(typeof(ListTagsForStreamRequest))]
[JsonSerializable(typeof(ListTagsForStreamResponse))]
internal sealed partial class KinesisJsonContext : JsonSerializerContext;

/// <summary>AWS JSON 1.1 timestamps: epoch seconds as a number, with a fraction (e.g. 1545084650.987).</summary>
internal sealed class EpochSecondsConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            return FromEpochSeconds(reader.GetDecimal());
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            var text = reader.GetString()!;
            if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
            {
                return FromEpochSeconds(seconds);
            }

            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return parsed;
            }
        }

        throw new JsonException($"Expected a timestamp in epoch seconds, found {reader.TokenType}.");
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(value.ToUnixTimeMilliseconds() / 1000m);

    private static DateTimeOffset FromEpochSeconds(decimal seconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long)decimal.Round(seconds * 1000m, MidpointRounding.AwayFromZero));
}
