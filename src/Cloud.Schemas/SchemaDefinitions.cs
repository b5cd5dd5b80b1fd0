using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Avro;
using Json.Schema;

namespace Cloud.Schemas;

/// <summary>Parsing and normalising schema definitions, so that identical schemas compare equal as text.</summary>
public static class SchemaDefinitions
{
    /// <summary>
    /// Parses <paramref name="definition"/> and returns its normal form: for Avro, Apache.Avro's own JSON rendering
    /// of the parsed schema (whitespace and attribute order no longer matter; defaults, aliases and docs are kept);
    /// for JSON Schema, the document with object keys sorted and no whitespace.
    /// </summary>
    /// <exception cref="InvalidSchemaException">The definition does not parse.</exception>
    public static string Normalize(SchemaFormat format, string definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return format switch
        {
            SchemaFormat.Avro => ParseAvro(definition).ToString(),
            SchemaFormat.Json => NormalizeJson(definition),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
        };
    }

    /// <summary>SHA-256 (lower-case hex) of the normal form, used to find an identical registered version.</summary>
    public static string Fingerprint(string normalizedDefinition) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalizedDefinition)));

    /// <summary>Parses an Avro schema.</summary>
    /// <exception cref="InvalidSchemaException">The text is not a valid Avro schema.</exception>
    public static Schema ParseAvro(string definition)
    {
        if (string.IsNullOrWhiteSpace(definition))
        {
            throw new InvalidSchemaException(SchemaFormat.Avro, "the definition is empty");
        }

        try
        {
            return Schema.Parse(definition);
        }
        catch (Exception ex) when (ex is AvroException or Newtonsoft.Json.JsonException or ArgumentException or InvalidOperationException or FormatException)
        {
            throw new InvalidSchemaException(SchemaFormat.Avro, ex.Message, ex);
        }
    }

    /// <summary>Parses a JSON Schema (draft 2020-12 unless <c>$schema</c> says otherwise), isolated from every other schema.</summary>
    /// <exception cref="InvalidSchemaException">The text is not JSON or not a valid JSON Schema.</exception>
    public static JsonSchema ParseJsonSchema(string definition)
    {
        NormalizeJson(definition); // JSON syntax errors with a position
        try
        {
            return JsonSchema.FromText(definition, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException or FormatException or KeyNotFoundException or JsonSchemaException)
        {
            throw new InvalidSchemaException(SchemaFormat.Json, ex.Message, ex);
        }
    }

    private static string NormalizeJson(string definition)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(definition);
        }
        catch (JsonException ex)
        {
            throw new InvalidSchemaException(SchemaFormat.Json, $"not JSON (line {ex.LineNumber + 1}, position {ex.BytePositionInLine + 1})", ex);
        }

        if (node is not (JsonObject or JsonValue { } ) || (node is JsonValue v && v.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)))
        {
            throw new InvalidSchemaException(SchemaFormat.Json, "a JSON Schema is an object (or true/false)");
        }

        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteSorted(writer, node);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteSorted(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (KeyValuePair<string, JsonNode?> property in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Key);
                    WriteSorted(writer, property.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (JsonNode? item in array)
                {
                    WriteSorted(writer, item);
                }

                writer.WriteEndArray();
                break;
            case null:
                writer.WriteNullValue();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }
}
