using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cloud.Consumer.Events;

/// <summary>
/// Reads and writes Lambda's <c>approximateArrivalTimestamp</c>: epoch seconds with a millisecond
/// fraction, e.g. <c>1545084650.987</c>. Written with exactly three decimals, as Lambda does.
/// </summary>
public sealed class EpochSecondsConverter : JsonConverter<DateTimeOffset>
{
    private static readonly decimal MinSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();
    private static readonly decimal MaxSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    /// <inheritdoc />
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        decimal seconds = reader.TokenType switch
        {
            JsonTokenType.Number when reader.TryGetDecimal(out decimal n) => n,
            JsonTokenType.String when decimal.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out decimal s) => s,
            JsonTokenType.Number or JsonTokenType.String => throw new JsonException("Expected epoch seconds but found a number out of range."),
            _ => throw new JsonException($"Expected epoch seconds (a number) but found {reader.TokenType}."),
        };
        if (seconds < MinSeconds || seconds > MaxSeconds)
        {
            throw new JsonException($"Expected epoch seconds between {MinSeconds} and {MaxSeconds} (years 1 to 9999) but found {seconds}.");
        }

        long millis = (long)decimal.Round(seconds * 1000m, MidpointRounding.AwayFromZero);
        return DateTimeOffset.FromUnixTimeMilliseconds(millis);
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        long millis = value.ToUnixTimeMilliseconds();
        bool negative = millis < 0;
        ulong magnitude = negative ? (ulong)(-millis) : (ulong)millis;
        // decimal with scale 3 prints exactly three fraction digits (1607497475.000).
        var seconds = new decimal((int)(uint)magnitude, (int)(uint)(magnitude >> 32), 0, negative, 3);
        writer.WriteNumberValue(seconds);
    }
}

/// <summary>
/// ISO-8601 UTC timestamps as Lambda writes them: <c>2020-12-09T07:04:00Z</c>, or with milliseconds
/// (<c>2019-11-14T00:38:04.835Z</c>) when the value has a sub-second part.
/// </summary>
public sealed class IsoUtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    /// <inheritdoc />
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"Expected an ISO-8601 timestamp string but found {reader.TokenType}.");
        }

        string text = reader.GetString()!;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset value))
        {
            throw new JsonException($"'{text}' is not an ISO-8601 timestamp.");
        }

        return value.ToUniversalTime();
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(Format(value));

    /// <summary>Formats <paramref name="value"/> the way Lambda does (UTC, <c>Z</c>, milliseconds only when non-zero).</summary>
    public static string Format(DateTimeOffset value)
    {
        DateTimeOffset utc = value.ToUniversalTime();
        return utc.Ticks % TimeSpan.TicksPerSecond == 0
            ? utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// The window <c>state</c> map. Values are strings; numbers (as in AWS's own examples,
/// <c>{"1": 282}</c>) are read as their JSON text. Always written as strings.
/// </summary>
public sealed class WindowStateConverter : JsonConverter<IReadOnlyDictionary<string, string>>
{
    /// <inheritdoc />
    public override IReadOnlyDictionary<string, string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"Window state must be a JSON object but found {reader.TokenType}.");
        }

        var state = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string key = reader.GetString()!;
            reader.Read();
            state[key] = reader.TokenType switch
            {
                JsonTokenType.String => reader.GetString()!,
                JsonTokenType.Number => Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan),
                _ => throw new JsonException($"Window state value for '{key}' must be a string or number but found {reader.TokenType}."),
            };
        }

        return state;
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, string> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (KeyValuePair<string, string> entry in value)
        {
            writer.WriteString(entry.Key, entry.Value);
        }

        writer.WriteEndObject();
    }
}
