using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Cloud.Functions.Aggregator;

/// <summary>
/// Reads the configured top-level fields of one JSON event with <see cref="Utf8JsonReader"/> (no DOM).
/// Errors name the field, never its value, so no personal data reaches logs.
/// </summary>
internal sealed class EventFieldReader
{
    /// <summary>Longest accepted key, in characters.</summary>
    public const int MaxKeyLength = 512;

    /// <summary>Categories longer than this are truncated (bounds the state size per key).</summary>
    public const int MaxCategoryLength = 128;

    private readonly byte[] _keyName;
    private readonly byte[][] _sumNames;
    private readonly byte[]? _topName;
    private readonly string _keyField;
    private readonly string? _topField;
    private readonly IReadOnlyList<string> _sumFields;

    public EventFieldReader(string keyField, IReadOnlyList<string> sumFields, string? topKField)
    {
        _keyField = keyField;
        _topField = topKField;
        _sumFields = sumFields;
        _keyName = Encoding.UTF8.GetBytes(keyField);
        _sumNames = sumFields.Select(Encoding.UTF8.GetBytes).ToArray();
        _topName = topKField is null ? null : Encoding.UTF8.GetBytes(topKField);
        foreach (byte[] name in _sumNames.Append(_keyName).Append(_topName ?? _keyName))
        {
            _nameLengths = name.Length < 64 && _nameLengths != ulong.MaxValue ? _nameLengths | (1UL << name.Length) : ulong.MaxValue;
        }
    }

    /// <summary>Bit n set when a configured field name has n UTF-8 bytes (all bits when one has 64 or more).</summary>
    private readonly ulong _nameLengths;

    /// <summary>
    /// True when the property the reader is on cannot be a configured field: its unescaped name has a length no
    /// configured name has. Most properties of an event are skipped on this one test instead of one comparison per name.
    /// </summary>
    private bool CannotBeConfigured(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped || reader.HasValueSequence)
        {
            return false;
        }

        int length = reader.ValueSpan.Length;
        return length >= 64 ? _nameLengths != ulong.MaxValue : (_nameLengths & (1UL << length)) == 0;
    }

    public int FieldCount => _sumNames.Length;

    /// <summary>
    /// Reads one event. Returns an error text (naming the field) or null on success. The key's UTF-8 bytes (unescaped)
    /// are appended to <paramref name="keys"/>; the category is interned by <paramref name="state"/> (one string per
    /// distinct value), so a record allocates nothing once its key and category were seen.
    /// </summary>
    public string? TryRead(ReadOnlySpan<byte> json, Span<decimal?> values, WindowState state, ByteScratch keys, out int keyStart, out int keyLength, out string? category)
    {
        keyStart = keys.Length;
        keyLength = 0;
        category = null;
        values.Clear();
        bool foundKey = false;
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

                if (CannotBeConfigured(ref reader))
                {
                    reader.Read();
                    reader.Skip();
                    continue;
                }

                if (reader.ValueTextEquals(_keyName))
                {
                    reader.Read();
                    if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Number))
                    {
                        return $"key field '{_keyField}' must be a string or number";
                    }

                    // A later occurrence replaces an earlier one, as it did when the key was a string.
                    keys.Length = keyStart;
                    keyLength = reader.ValueIsEscaped ? reader.CopyString(keys.GetSpan(reader.ValueSpan.Length)) : Append(keys, reader.ValueSpan);
                    keys.Length += reader.ValueIsEscaped ? keyLength : 0;
                    foundKey = true;
                    continue;
                }

                if (_topName is not null && reader.ValueTextEquals(_topName))
                {
                    reader.Read();
                    string? error = ReadCategory(ref reader, state, out category);
                    if (error is not null)
                    {
                        return error;
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
                        if (!reader.HasValueSequence && TryParsePlainDecimal(reader.ValueSpan, out decimal plain))
                        {
                            values[i] = plain;
                        }
                        else if (!reader.TryGetDecimal(out decimal d))
                        {
                            return $"field '{_sumFields[i]}' is a number outside the decimal range";
                        }
                        else
                        {
                            values[i] = d;
                        }
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
        catch (InvalidOperationException)
        {
            // An escape that does not unescape to valid UTF-16 (a lone surrogate).
            return "the event has a string that is not valid Unicode text";
        }

        if (!foundKey)
        {
            return $"key field '{_keyField}' is missing";
        }

        ReadOnlySpan<byte> key = keys.Written.Slice(keyStart, keyLength);
        if (!Utf8.IsValid(key))
        {
            return $"key field '{_keyField}' is not valid UTF-8";
        }

        if (key.Length == 0 || (key.Length > MaxKeyLength && Encoding.UTF8.GetCharCount(key) > MaxKeyLength))
        {
            return $"key field '{_keyField}' must have 1–{MaxKeyLength} characters";
        }

        return null;
    }

    /// <summary>
    /// The decimal of a JSON number token of the usual shape, <c>[-]digits[.digits]</c> with at most 18 digits and not
    /// zero, exactly as <see cref="Utf8JsonReader.TryGetDecimal"/> gives it (same value and scale), without its
    /// general parser; false for any other number (exponent, more digits, zero), which the reader then parses.
    /// </summary>
    internal static bool TryParsePlainDecimal(ReadOnlySpan<byte> number, out decimal value)
    {
        value = default;
        int i = 0;
        bool negative = false;
        if (!number.IsEmpty && number[0] == (byte)'-')
        {
            negative = true;
            i = 1;
        }

        ulong mantissa = 0;
        int digits = 0;
        int scale = -1;
        for (; i < number.Length; i++)
        {
            uint digit = (uint)(number[i] - '0');
            if (digit <= 9)
            {
                if (++digits > 18)
                {
                    return false;
                }

                mantissa = (mantissa * 10) + digit;
                if (scale >= 0)
                {
                    scale++;
                }
            }
            else if (number[i] == (byte)'.' && scale < 0)
            {
                scale = 0;
            }
            else
            {
                return false;
            }
        }

        if (mantissa == 0 || scale == 0)
        {
            return false;
        }

        value = new decimal((int)(uint)mantissa, (int)(uint)(mantissa >> 32), 0, negative, (byte)Math.Max(scale, 0));
        return true;
    }

    private static int Append(ByteScratch scratch, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(scratch.GetSpan(bytes.Length));
        scratch.Length += bytes.Length;
        return bytes.Length;
    }

    /// <summary>The top-K field's value as a category: text, a number's text, true/false; empty or other kinds are none.</summary>
    private string? ReadCategory(ref Utf8JsonReader reader, WindowState state, out string? category)
    {
        category = null;
        ReadOnlySpan<byte> text;
        byte[]? rented = null;
        try
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.String when reader.ValueIsEscaped:
                    rented = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length);
                    text = rented.AsSpan(0, reader.CopyString(rented));
                    break;
                case JsonTokenType.String or JsonTokenType.Number:
                    text = reader.ValueSpan;
                    break;
                case JsonTokenType.True:
                    text = "true"u8;
                    break;
                case JsonTokenType.False:
                    text = "false"u8;
                    break;
                default:
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        reader.Skip();
                    }

                    return null;
            }

            if (text.IsEmpty)
            {
                return null;
            }

            if (!Utf8.IsValid(text))
            {
                return $"field '{_topField}' is not valid UTF-8";
            }

            if (text.Length > MaxCategoryLength && Encoding.UTF8.GetCharCount(text) > MaxCategoryLength)
            {
                // Cut at a UTF-16 length, as the state has always done (rare: not worth interning).
                category = Encoding.UTF8.GetString(text)[..MaxCategoryLength];
                return null;
            }

            category = state.InternCategory(text);
            return null;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}

/// <summary>A growable byte buffer reused across records (keys of the Kinesis record being validated).</summary>
internal sealed class ByteScratch
{
    private byte[] _buffer = new byte[4096];

    /// <summary>Bytes in use.</summary>
    public int Length { get; set; }

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    /// <summary>Room for <paramref name="size"/> more bytes after <see cref="Length"/>.</summary>
    public Span<byte> GetSpan(int size)
    {
        if (_buffer.Length - Length < size)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + size));
        }

        return _buffer.AsSpan(Length, size);
    }
}
