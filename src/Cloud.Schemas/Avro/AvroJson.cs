using System.Globalization;
using System.Text;
using System.Text.Json;
using Avro;
using Avro.Generic;

namespace Cloud.Schemas.Avro;

/// <summary>
/// Converts between the JSON view of a record and Apache.Avro's generic datum objects. The JSON view is plain
/// JSON: a union value is written as the value itself (not Avro's <c>{"type": value}</c> wrapping); bytes and
/// fixed are base64 strings; <c>timestamp-millis</c>/<c>timestamp-micros</c> are ISO 8601 strings (numbers of
/// epoch units are accepted too), <c>date</c> is <c>yyyy-MM-dd</c> (or days since epoch), <c>uuid</c> a UUID string.
/// Validation errors name the field path (<c>$.a.b[2]</c>), never the value.
/// </summary>
internal static class AvroJson
{
    /// <summary>Converts <paramref name="value"/> to a datum of <paramref name="schema"/>.</summary>
    /// <exception cref="RecordValidationException">The value does not match the schema.</exception>
    public static object? ToDatum(Schema schema, JsonElement value, string path = "$") => Convert(schema, value, path, avroDefault: false);

    private static object? Convert(Schema schema, JsonElement value, string path, bool avroDefault)
    {
        switch (schema)
        {
            case LogicalSchema logical:
                return ConvertLogical(logical, value, path);
            case UnionSchema union:
                return ConvertUnion(union, value, path, avroDefault);
            case RecordSchema record:
                return ConvertRecord(record, value, path);
            case EnumSchema enumSchema:
                {
                    if (value.ValueKind != JsonValueKind.String)
                    {
                        throw Invalid(path, $"expected a symbol of enum {enumSchema.Fullname} (a string), found {Kind(value)}");
                    }

                    string symbol = value.GetString()!;
                    return enumSchema.Contains(symbol)
                        ? new GenericEnum(enumSchema, symbol)
                        : throw Invalid(path, $"not a symbol of enum {enumSchema.Fullname}");
                }

            case ArraySchema array:
                {
                    if (value.ValueKind != JsonValueKind.Array)
                    {
                        throw Invalid(path, $"expected an array, found {Kind(value)}");
                    }

                    var items = new object?[value.GetArrayLength()];
                    int i = 0;
                    foreach (JsonElement item in value.EnumerateArray())
                    {
                        items[i] = Convert(array.ItemSchema, item, $"{path}[{i}]", avroDefault);
                        i++;
                    }

                    return items;
                }

            case MapSchema map:
                {
                    if (value.ValueKind != JsonValueKind.Object)
                    {
                        throw Invalid(path, $"expected an object (map), found {Kind(value)}");
                    }

                    var entries = new Dictionary<string, object?>(StringComparer.Ordinal);
                    int n = 0;
                    foreach (JsonProperty property in value.EnumerateObject())
                    {
                        // Map keys may be personal data: the path names the entry by position.
                        entries[property.Name] = Convert(map.ValueSchema, property.Value, $"{path}[key #{n++}]", avroDefault);
                    }

                    return entries;
                }

            case FixedSchema fixedSchema:
                {
                    byte[] bytes = Bytes(value, path, avroDefault);
                    return bytes.Length == fixedSchema.Size
                        ? new GenericFixed(fixedSchema, bytes)
                        : throw Invalid(path, $"fixed {fixedSchema.Fullname} needs {fixedSchema.Size} bytes, found {bytes.Length}");
                }

            default:
                return ConvertPrimitive(schema.Tag, value, path, avroDefault);
        }
    }

    private static object? ConvertPrimitive(Schema.Type tag, JsonElement value, string path, bool avroDefault)
    {
        switch (tag)
        {
            case Schema.Type.Null:
                return value.ValueKind == JsonValueKind.Null ? null : throw Invalid(path, $"expected null, found {Kind(value)}");
            case Schema.Type.Boolean:
                return value.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw Invalid(path, $"expected a boolean, found {Kind(value)}"),
                };
            case Schema.Type.Int:
                return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int i)
                    ? i
                    : throw Invalid(path, $"expected an int (32-bit integer), found {Kind(value)}");
            case Schema.Type.Long:
                return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long l)
                    ? l
                    : throw Invalid(path, $"expected a long (64-bit integer), found {Kind(value)}");
            case Schema.Type.Float:
                return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double f) && float.IsFinite((float)f)
                    ? (float)f
                    : NonFinite(value) is { } nf ? (float)nf : throw Invalid(path, $"expected a float, found {Kind(value)}");
            case Schema.Type.Double:
                return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double d)
                    ? d
                    : NonFinite(value) ?? throw Invalid(path, $"expected a double, found {Kind(value)}");
            case Schema.Type.String:
                return value.ValueKind == JsonValueKind.String ? value.GetString() : throw Invalid(path, $"expected a string, found {Kind(value)}");
            case Schema.Type.Bytes:
                return Bytes(value, path, avroDefault);
            default:
                throw Invalid(path, $"Avro type {tag} is not supported here");
        }
    }

    private static double? NonFinite(JsonElement value) => value.ValueKind != JsonValueKind.String ? null : value.GetString() switch
    {
        "NaN" => double.NaN,
        "Infinity" => double.PositiveInfinity,
        "-Infinity" => double.NegativeInfinity,
        _ => null,
    };

    private static byte[] Bytes(JsonElement value, string path, bool avroDefault)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            throw Invalid(path, $"expected bytes (a base64 string), found {Kind(value)}");
        }

        string text = value.GetString()!;
        if (avroDefault)
        {
            // Avro writes byte defaults as a string of code points 0-255 (ISO-8859-1).
            return Encoding.Latin1.GetBytes(text);
        }

        try
        {
            return System.Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw Invalid(path, "expected bytes as a base64 string; the string is not base64");
        }
    }

    private static object? ConvertUnion(UnionSchema union, JsonElement value, string path, bool avroDefault)
    {
        if (avroDefault)
        {
            // A union's default is a value of its first branch.
            return Convert(union.Schemas[0], value, path, avroDefault);
        }

        RecordValidationException? last = null;
        foreach (Schema branch in union.Schemas)
        {
            if (!Plausible(branch, value))
            {
                continue;
            }

            try
            {
                return Convert(branch, value, path, avroDefault);
            }
            catch (RecordValidationException ex)
            {
                last = ex;
            }
        }

        if (last is not null && union.Schemas.Count(b => Plausible(b, value)) == 1)
        {
            throw last; // one candidate branch: its (deeper) error is the useful one
        }

        string branches = string.Join(", ", union.Schemas.Select(Describe));
        throw Invalid(path, $"{Kind(value)} matches none of the union's branches [{branches}]");
    }

    private static bool Plausible(Schema branch, JsonElement value)
    {
        Schema.Type tag = branch is LogicalSchema l ? l.BaseSchema.Tag : branch.Tag;
        return value.ValueKind switch
        {
            JsonValueKind.Null => tag == Schema.Type.Null,
            JsonValueKind.True or JsonValueKind.False => tag == Schema.Type.Boolean,
            JsonValueKind.Number => tag is Schema.Type.Int or Schema.Type.Long or Schema.Type.Float or Schema.Type.Double,
            JsonValueKind.String => tag is Schema.Type.String or Schema.Type.Bytes or Schema.Type.Enumeration or Schema.Type.Fixed
                or Schema.Type.Float or Schema.Type.Double || branch is LogicalSchema,
            JsonValueKind.Array => tag == Schema.Type.Array,
            JsonValueKind.Object => tag is Schema.Type.Record or Schema.Type.Map,
            _ => false,
        };
    }

    private static GenericRecord ConvertRecord(RecordSchema record, JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(path, $"expected an object (record {record.Fullname}), found {Kind(value)}");
        }

        var result = new GenericRecord(record);
        foreach (Field field in record.Fields)
        {
            string fieldPath = path + "." + field.Name;
            if (value.TryGetProperty(field.Name, out JsonElement fieldValue))
            {
                result.Add(field.Name, Convert(field.Schema, fieldValue, fieldPath, avroDefault: false));
            }
            else if (field.DefaultValue is not null)
            {
                using JsonDocument defaultValue = JsonDocument.Parse(field.DefaultValue.ToString(Newtonsoft.Json.Formatting.None));
                result.Add(field.Name, Convert(field.Schema, defaultValue.RootElement, fieldPath, avroDefault: true));
            }
            else if (field.Schema is UnionSchema u && u.Schemas.Any(s => s.Tag == Schema.Type.Null))
            {
                result.Add(field.Name, null); // an optional field ["null", T] may be left out of the JSON
            }
            else
            {
                throw Invalid(fieldPath, "required field is missing (no default in the schema)");
            }
        }

        foreach (JsonProperty property in value.EnumerateObject())
        {
            if (!record.Contains(property.Name))
            {
                throw Invalid(path + "." + property.Name, $"field is not in record {record.Fullname} (it would be lost)");
            }
        }

        return result;
    }

    private static object ConvertLogical(LogicalSchema logical, JsonElement value, string path)
    {
        string name = logical.LogicalTypeName;
        switch (name)
        {
            case "timestamp-millis" or "timestamp-micros" or "local-timestamp-millis" or "local-timestamp-micros":
                if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long units))
                {
                    return name.EndsWith("millis", StringComparison.Ordinal)
                        ? DateTime.UnixEpoch.AddMilliseconds(units)
                        : DateTime.UnixEpoch.AddTicks(units * 10);
                }

                if (value.ValueKind == JsonValueKind.String
                    && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset at))
                {
                    return at.UtcDateTime;
                }

                throw Invalid(path, $"expected a {name} (ISO 8601 string or epoch number), found {Kind(value)}");
            case "date":
                if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int days))
                {
                    return DateTime.UnixEpoch.AddDays(days);
                }

                if (value.ValueKind == JsonValueKind.String
                    && DateTime.TryParseExact(value.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out DateTime date))
                {
                    return date;
                }

                throw Invalid(path, $"expected a date (yyyy-MM-dd or days since 1970-01-01), found {Kind(value)}");
            case "uuid":
                return value.ValueKind == JsonValueKind.String && Guid.TryParse(value.GetString(), out Guid id)
                    ? id
                    : throw Invalid(path, $"expected a uuid string, found {Kind(value)}");
            default:
                throw Invalid(path, $"logical type '{name}' is not supported by this serializer");
        }
    }

    /// <summary>Writes <paramref name="datum"/> (read with <paramref name="schema"/>) as its JSON view.</summary>
    public static void Write(Utf8JsonWriter writer, Schema schema, object? datum)
    {
        switch (schema)
        {
            case LogicalSchema logical:
                WriteLogical(writer, logical, datum);
                return;
            case UnionSchema union:
                Write(writer, Branch(union, datum), datum);
                return;
            case RecordSchema record:
                {
                    var r = (GenericRecord)datum!;
                    writer.WriteStartObject();
                    foreach (Field field in record.Fields)
                    {
                        writer.WritePropertyName(field.Name);
                        r.TryGetValue(field.Name, out object? fieldValue);
                        Write(writer, field.Schema, fieldValue);
                    }

                    writer.WriteEndObject();
                    return;
                }

            case EnumSchema:
                writer.WriteStringValue(datum is GenericEnum e ? e.Value : datum?.ToString());
                return;
            case ArraySchema array:
                writer.WriteStartArray();
                foreach (object? item in (System.Collections.IEnumerable)datum!)
                {
                    Write(writer, array.ItemSchema, item);
                }

                writer.WriteEndArray();
                return;
            case MapSchema map:
                writer.WriteStartObject();
                foreach (KeyValuePair<string, object?> entry in (IDictionary<string, object?>)datum!)
                {
                    writer.WritePropertyName(entry.Key);
                    Write(writer, map.ValueSchema, entry.Value);
                }

                writer.WriteEndObject();
                return;
            case FixedSchema:
                writer.WriteBase64StringValue(((GenericFixed)datum!).Value);
                return;
        }

        switch (datum)
        {
            case null: writer.WriteNullValue(); break;
            case bool b: writer.WriteBooleanValue(b); break;
            case int i: writer.WriteNumberValue(i); break;
            case long l: writer.WriteNumberValue(l); break;
            case float f when float.IsFinite(f): writer.WriteNumberValue(f); break;
            case double d when double.IsFinite(d): writer.WriteNumberValue(d); break;
            case float or double: writer.WriteStringValue(System.Convert.ToDouble(datum, CultureInfo.InvariantCulture) is var v && double.IsNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity"); break;
            case string s: writer.WriteStringValue(s); break;
            case byte[] bytes: writer.WriteBase64StringValue(bytes); break;
            default: throw new InvalidOperationException($"Unexpected Avro datum type {datum.GetType().Name} for schema type {schema.Tag}.");
        }
    }

    private static void WriteLogical(Utf8JsonWriter writer, LogicalSchema logical, object? datum)
    {
        switch (datum)
        {
            case DateTime at when logical.LogicalTypeName == "date":
                writer.WriteStringValue(at.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                break;
            case DateTime at:
                writer.WriteStringValue(DateTime.SpecifyKind(at, DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFFZ", CultureInfo.InvariantCulture));
                break;
            case Guid id:
                writer.WriteStringValue(id.ToString("D"));
                break;
            default:
                Write(writer, logical.BaseSchema, datum);
                break;
        }
    }

    /// <summary>The union branch a datum read from a union belongs to.</summary>
    private static Schema Branch(UnionSchema union, object? datum)
    {
        foreach (Schema branch in union.Schemas)
        {
            bool match = datum switch
            {
                null => branch.Tag == Schema.Type.Null,
                GenericRecord r => branch is RecordSchema rs && rs.Fullname == r.Schema.Fullname,
                GenericEnum e => branch is EnumSchema es && es.Fullname == e.Schema.Fullname,
                GenericFixed f => branch is FixedSchema fs && fs.Fullname == f.Schema.Fullname,
                bool => branch.Tag == Schema.Type.Boolean,
                int => branch.Tag == Schema.Type.Int,
                long => branch.Tag == Schema.Type.Long,
                float => branch.Tag == Schema.Type.Float,
                double => branch.Tag == Schema.Type.Double,
                string => branch.Tag == Schema.Type.String,
                byte[] => branch.Tag == Schema.Type.Bytes,
                DateTime or Guid => branch is LogicalSchema,
                IDictionary<string, object?> => branch.Tag == Schema.Type.Map,
                System.Collections.IEnumerable => branch.Tag == Schema.Type.Array,
                _ => false,
            };
            if (match)
            {
                return branch;
            }
        }

        throw new InvalidOperationException($"No branch of the union matches a datum of type {datum?.GetType().Name ?? "null"}.");
    }

    private static string Describe(Schema schema) => schema is NamedSchema named ? named.Fullname : schema is LogicalSchema l ? l.LogicalTypeName : schema.Tag.ToString().ToLowerInvariant();

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => value.TryGetInt64(out _) ? "an integer" : "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static RecordValidationException Invalid(string path, string problem) => new(path, problem);
}
