using System.Text;
using System.Text.Json;

namespace Cloud.Functions.Tests.Aggregator;

/// <summary>
/// The Aggregator's field reader as it was before the handler read keys and categories as UTF-8 bytes (strings per
/// record): the reference the byte-based <c>EventFieldReader</c> is checked against.
/// </summary>
internal sealed class ReferenceFieldReader
{
    /// <summary>Longest accepted key, in characters.</summary>
    public const int MaxKeyLength = 512;

    /// <summary>Categories longer than this are truncated (bounds the state size per key).</summary>
    public const int MaxCategoryLength = 128;

    private readonly byte[] _keyName;
    private readonly byte[][] _sumNames;
    private readonly byte[]? _topName;
    private readonly string _keyField;
    private readonly IReadOnlyList<string> _sumFields;

    public ReferenceFieldReader(string keyField, IReadOnlyList<string> sumFields, string? topKField)
    {
        _keyField = keyField;
        _sumFields = sumFields;
        _keyName = Encoding.UTF8.GetBytes(keyField);
        _sumNames = sumFields.Select(Encoding.UTF8.GetBytes).ToArray();
        _topName = topKField is null ? null : Encoding.UTF8.GetBytes(topKField);
    }

    public int FieldCount => _sumNames.Length;

    /// <summary>Reads one event. Returns an error text (naming the field) or null on success.</summary>
    public string? TryRead(ReadOnlySpan<byte> json, Span<decimal?> values, out string key, out string? category)
    {
        key = "";
        category = null;
        values.Clear();
        string? foundKey = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return "the event is not a JSON object";
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    return "the event is not valid JSON";
                }

                if (reader.ValueTextEquals(_keyName))
                {
                    reader.Read();
                    foundKey = reader.TokenType switch
                    {
                        JsonTokenType.String => reader.GetString(),
                        JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
                        _ => null,
                    };
                    if (foundKey is null)
                    {
                        return $"key field '{_keyField}' must be a string or number";
                    }

                    continue;
                }

                if (_topName is not null && reader.ValueTextEquals(_topName))
                {
                    reader.Read();
                    category = reader.TokenType switch
                    {
                        JsonTokenType.String => reader.GetString(),
                        JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
                        JsonTokenType.True => "true",
                        JsonTokenType.False => "false",
                        _ => null,
                    };
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        reader.Skip();
                    }

                    if (category is { Length: 0 })
                    {
                        category = null;
                    }
                    else if (category is { Length: > MaxCategoryLength })
                    {
                        category = category[..MaxCategoryLength];
                    }

                    continue;
                }

                bool matched = false;
                for (int i = 0; i < _sumNames.Length; i++)
                {
                    if (!reader.ValueTextEquals(_sumNames[i]))
                    {
                        continue;
                    }

                    matched = true;
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number)
                    {
                        if (!reader.TryGetDecimal(out decimal d))
                        {
                            return $"field '{_sumFields[i]}' is a number outside the decimal range";
                        }

                        values[i] = d;
                    }
                    else if (reader.TokenType == JsonTokenType.Null)
                    {
                        values[i] = null;
                    }
                    else
                    {
                        return $"field '{_sumFields[i]}' must be a number";
                    }

                    break;
                }

                if (!matched)
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return "the event is not a single complete JSON object";
            }
        }
        catch (JsonException ex)
        {
            // Utf8JsonReader messages name the position and the offending token class, not field values.
            return $"the event is not valid JSON (byte {ex.BytePositionInLine})";
        }

        if (foundKey is null)
        {
            return $"key field '{_keyField}' is missing";
        }

        if (foundKey.Length is 0 or > MaxKeyLength)
        {
            return $"key field '{_keyField}' must have 1–{MaxKeyLength} characters";
        }

        key = foundKey;
        return null;
    }
}
