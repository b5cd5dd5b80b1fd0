using System.Text;
using System.Text.Json;
using Cloud.DataGenerator;

namespace Cloud.Schemas.Tests;

/// <summary>The generator's events match the schemas the pipeline registers for them, and round-trip through GSR.</summary>
public class EventSchemasTests
{
    [Theory]
    [InlineData(EventKind.Clickstream, EventSchemas.ClickstreamAvro, SchemaFormat.Avro)]
    [InlineData(EventKind.Clickstream, EventSchemas.ClickstreamJsonSchema, SchemaFormat.Json)]
    [InlineData(EventKind.RidePricing, EventSchemas.RidePricingAvro, SchemaFormat.Avro)]
    [InlineData(EventKind.RidePricing, EventSchemas.RidePricingJsonSchema, SchemaFormat.Json)]
    public void Every_generated_event_validates_and_round_trips(EventKind kind, string definition, SchemaFormat format)
    {
        var version = new SchemaVersion
        {
            VersionId = Guid.NewGuid(), SchemaName = kind.ToString(), VersionNumber = 1, Format = format,
            Definition = SchemaDefinitions.Normalize(format, definition),
        };
        GsrSerializer serializer = GsrSerializer.For(version);
        RecordCodec codec = RecordCodec.Create(version);
        foreach (GeneratedEvent e in new EventGenerator(new GeneratorOptions { Kind = kind, Seed = 7 }).Take(2_000))
        {
            string json = Encoding.UTF8.GetString(e.Json);
            byte[] gsr = serializer.Serialize(json);
            using var expected = JsonDocument.Parse(json);
            using var actual = JsonDocument.Parse(WithoutAbsentNulls(codec.DecodeToJson(GsrWireFormat.Decode(gsr).Payload), expected.RootElement));
            Assert.True(JsonElement.DeepEquals(expected.RootElement, actual.RootElement), json);
        }
    }

    /// <summary>Optional fields the event did not carry (e.g. the pseudonymous mode's sealedUserId) come back as their null default.</summary>
    private static string WithoutAbsentNulls(byte[] decoded, JsonElement original)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(decoded)!.AsObject();
        foreach (var name in node.Where(p => p.Value is null && !original.TryGetProperty(p.Key, out _)).Select(p => p.Key).ToList())
        {
            node.Remove(name);
        }
        return node.ToJsonString();
    }
}
