using System.Text.Json;

namespace Cloud.Schemas.Compatibility;

/// <summary>
/// Decides whether data valid under a writer JSON Schema is valid under a reader JSON Schema, for a documented
/// subset of JSON Schema. It compares structurally, keyword by keyword:
/// <list type="bullet">
/// <item><c>type</c>: the reader's types must include the writer's (<c>integer</c> is within <c>number</c>; no
/// <c>type</c> means any type);</item>
/// <item><c>properties</c>: a property both declare is compared recursively;</item>
/// <item><c>required</c>: every property the reader requires must be required by the writer, else the writer's data may
/// lack it (READER_REQUIRES_FIELD);</item>
/// <item><c>additionalProperties: false</c> in the reader while the writer allows other properties, or a writer
/// property the closed reader does not declare, is refused;</item>
/// <item><c>enum</c>/<c>const</c>: the reader's values must include every writer value;</item>
/// <item><c>items</c> compared recursively; <c>minimum</c>, <c>maximum</c>, <c>exclusiveMinimum</c>,
/// <c>exclusiveMaximum</c>, <c>minLength</c>, <c>maxLength</c>, <c>minItems</c>, <c>maxItems</c>: the reader's bound may not
/// be tighter than the writer's; <c>pattern</c> and <c>format</c> must be equal when the reader has one.</item>
/// </list>
/// Assumption (as Glue's and Confluent's checkers make it): a property the reader declares but an open writer does not
/// is accepted when it is optional: producers send only the properties their schema declares.
/// Outside the subset (<c>$ref</c>, <c>allOf</c>, <c>anyOf</c>, <c>oneOf</c>, <c>not</c>, <c>if</c>, <c>patternProperties</c>,
/// <c>dependentSchemas</c>, …) the checker cannot decide and refuses with rule UNSUPPORTED_KEYWORD unless both
/// schemas carry the keyword with an identical value.
/// </summary>
public static class JsonSchemaCompatibility
{
    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "$schema", "$id", "$comment", "title", "description", "default", "examples", "type", "properties", "required",
        "additionalProperties", "enum", "const", "items", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "minLength", "maxLength", "minItems", "maxItems", "pattern", "format", "deprecated", "readOnly", "writeOnly",
    };

    /// <summary>The reasons <paramref name="readerDefinition"/> cannot accept data valid under <paramref name="writerDefinition"/>.</summary>
    /// <exception cref="InvalidSchemaException">A definition is not JSON.</exception>
    public static IReadOnlyList<CompatibilityIssue> Check(string readerDefinition, string writerDefinition)
    {
        using JsonDocument reader = Parse(readerDefinition);
        using JsonDocument writer = Parse(writerDefinition);
        var issues = new List<CompatibilityIssue>();
        Check(reader.RootElement, writer.RootElement, "$", issues);
        return issues;
    }

    private static JsonDocument Parse(string definition)
    {
        try
        {
            return JsonDocument.Parse(definition);
        }
        catch (JsonException ex)
        {
            throw new InvalidSchemaException(SchemaFormat.Json, "not JSON", ex);
        }
    }

    private static void Check(JsonElement reader, JsonElement writer, string path, List<CompatibilityIssue> issues)
    {
        if (reader.ValueKind == JsonValueKind.True || (reader.ValueKind == JsonValueKind.Object && !reader.EnumerateObject().Any()))
        {
            return; // accepts everything
        }

        if (reader.ValueKind == JsonValueKind.False)
        {
            if (writer.ValueKind != JsonValueKind.False)
            {
                issues.Add(new CompatibilityIssue(path, "READER_REJECTS_ALL", "the reader's schema is false"));
            }

            return;
        }

        if (writer.ValueKind == JsonValueKind.False)
        {
            return; // the writer produces nothing here
        }

        if (writer.ValueKind == JsonValueKind.True)
        {
            issues.Add(new CompatibilityIssue(path, "WRITER_UNCONSTRAINED", "the writer allows any value here, the reader constrains it"));
            return;
        }

        foreach (JsonProperty keyword in reader.EnumerateObject())
        {
            if (!Known.Contains(keyword.Name)
                && !(writer.TryGetProperty(keyword.Name, out JsonElement same) && JsonElement.DeepEquals(same, keyword.Value)))
            {
                issues.Add(new CompatibilityIssue(path, "UNSUPPORTED_KEYWORD",
                    $"the reader uses '{keyword.Name}', outside the checked subset, and the writer does not have the same"));
            }
        }

        foreach (JsonProperty keyword in writer.EnumerateObject())
        {
            if (!Known.Contains(keyword.Name) && !reader.TryGetProperty(keyword.Name, out _))
            {
                // e.g. a writer oneOf: the checker cannot enumerate what the writer may produce.
                issues.Add(new CompatibilityIssue(path, "UNSUPPORTED_KEYWORD",
                    $"the writer uses '{keyword.Name}', outside the checked subset"));
            }
        }

        HashSet<string>? readerTypes = Types(reader);
        HashSet<string>? writerTypes = Types(writer);
        if (readerTypes is not null)
        {
            IEnumerable<string> missing = writerTypes is null
                ? ["any type"]
                : writerTypes.Where(t => !readerTypes.Contains(t) && !(t == "integer" && readerTypes.Contains("number")));
            List<string> list = missing.ToList();
            if (list.Count > 0)
            {
                issues.Add(new CompatibilityIssue(path, "TYPE_MISMATCH",
                    $"the reader accepts {string.Join("|", readerTypes.Order(StringComparer.Ordinal))} but the writer may write {string.Join("|", list)}"));
            }
        }

        CheckValues(reader, writer, path, issues);
        CheckBounds(reader, writer, path, issues);
        CheckObject(reader, writer, path, issues);

        if (reader.TryGetProperty("items", out JsonElement readerItems) && readerItems.ValueKind is JsonValueKind.Object or JsonValueKind.False or JsonValueKind.True)
        {
            if (writer.TryGetProperty("items", out JsonElement writerItems))
            {
                Check(readerItems, writerItems, path + "[]", issues);
            }
            else if (writerTypes is null || writerTypes.Contains("array"))
            {
                Check(readerItems, TrueSchema, path + "[]", issues);
            }
        }
    }

    private static readonly JsonElement TrueSchema = JsonDocument.Parse("true").RootElement;

    private static void CheckObject(JsonElement reader, JsonElement writer, string path, List<CompatibilityIssue> issues)
    {
        JsonElement readerProps = reader.TryGetProperty("properties", out JsonElement rp) && rp.ValueKind == JsonValueKind.Object ? rp : default;
        JsonElement writerProps = writer.TryGetProperty("properties", out JsonElement wp) && wp.ValueKind == JsonValueKind.Object ? wp : default;
        HashSet<string> writerRequired = Required(writer);

        foreach (string name in Required(reader))
        {
            if (!writerRequired.Contains(name))
            {
                issues.Add(new CompatibilityIssue($"{path}.{name}", "READER_REQUIRES_FIELD",
                    $"the reader requires '{name}' but the writer does not, so its data may lack it"));
            }
        }

        bool readerClosed = reader.TryGetProperty("additionalProperties", out JsonElement ra) && ra.ValueKind == JsonValueKind.False;
        bool writerClosed = writer.TryGetProperty("additionalProperties", out JsonElement wa) && wa.ValueKind == JsonValueKind.False;
        if (readerClosed && !writerClosed)
        {
            issues.Add(new CompatibilityIssue(path, "READER_CLOSED_CONTENT",
                "the reader forbids additional properties but the writer allows them"));
        }

        if (writerProps.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty writerProp in writerProps.EnumerateObject())
            {
                string propPath = $"{path}.{writerProp.Name}";
                if (readerProps.ValueKind == JsonValueKind.Object && readerProps.TryGetProperty(writerProp.Name, out JsonElement readerProp))
                {
                    Check(readerProp, writerProp.Value, propPath, issues);
                }
                else if (readerClosed)
                {
                    issues.Add(new CompatibilityIssue(propPath, "READER_CLOSED_CONTENT",
                        $"the writer may write '{writerProp.Name}', which the reader (additionalProperties: false) does not declare"));
                }
                else if (ra.ValueKind == JsonValueKind.Object)
                {
                    Check(ra, writerProp.Value, propPath, issues);
                }
            }
        }
    }

    private static void CheckValues(JsonElement reader, JsonElement writer, string path, List<CompatibilityIssue> issues)
    {
        List<JsonElement>? readerValues = Values(reader);
        if (readerValues is null)
        {
            return;
        }

        List<JsonElement>? writerValues = Values(writer);
        if (writerValues is null)
        {
            issues.Add(new CompatibilityIssue(path, "READER_RESTRICTS_VALUES", "the reader allows only listed values (enum/const), the writer any"));
            return;
        }

        int missing = writerValues.Count(w => !readerValues.Any(r => JsonElement.DeepEquals(r, w)));
        if (missing > 0)
        {
            issues.Add(new CompatibilityIssue(path, "MISSING_ENUM_VALUES", $"the reader lacks {missing} of the writer's enum values"));
        }
    }

    private static void CheckBounds(JsonElement reader, JsonElement writer, string path, List<CompatibilityIssue> issues)
    {
        foreach ((string keyword, bool lower) in new[]
                 {
                     ("minimum", true), ("exclusiveMinimum", true), ("minLength", true), ("minItems", true),
                     ("maximum", false), ("exclusiveMaximum", false), ("maxLength", false), ("maxItems", false),
                 })
        {
            if (!reader.TryGetProperty(keyword, out JsonElement r) || r.ValueKind != JsonValueKind.Number)
            {
                continue;
            }

            if (!writer.TryGetProperty(keyword, out JsonElement w) || w.ValueKind != JsonValueKind.Number)
            {
                issues.Add(new CompatibilityIssue(path, "READER_BOUND_TIGHTER", $"the reader has '{keyword}', the writer no such bound"));
                continue;
            }

            decimal rv = r.GetDecimal(), wv = w.GetDecimal();
            if (lower ? rv > wv : rv < wv)
            {
                issues.Add(new CompatibilityIssue(path, "READER_BOUND_TIGHTER", $"the reader's '{keyword}' is tighter than the writer's"));
            }
        }

        foreach (string keyword in new[] { "pattern", "format" })
        {
            if (reader.TryGetProperty(keyword, out JsonElement r)
                && !(writer.TryGetProperty(keyword, out JsonElement w) && JsonElement.DeepEquals(r, w)))
            {
                issues.Add(new CompatibilityIssue(path, "READER_RESTRICTS_VALUES", $"the reader's '{keyword}' differs from the writer's"));
            }
        }
    }

    private static HashSet<string>? Types(JsonElement schema)
    {
        if (!schema.TryGetProperty("type", out JsonElement type))
        {
            return null;
        }

        return type.ValueKind switch
        {
            JsonValueKind.String => [type.GetString()!],
            JsonValueKind.Array => type.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToHashSet(StringComparer.Ordinal),
            _ => null,
        };
    }

    private static HashSet<string> Required(JsonElement schema) =>
        schema.TryGetProperty("required", out JsonElement required) && required.ValueKind == JsonValueKind.Array
            ? required.EnumerateArray().Where(r => r.ValueKind == JsonValueKind.String).Select(r => r.GetString()!).ToHashSet(StringComparer.Ordinal)
            : [];

    private static List<JsonElement>? Values(JsonElement schema)
    {
        if (schema.TryGetProperty("const", out JsonElement c))
        {
            return [c];
        }

        return schema.TryGetProperty("enum", out JsonElement e) && e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().ToList() : null;
    }
}
