using System.Globalization;
using System.Text.Json;

namespace Cloud.Functions.Forget;

/// <summary>A forget request from the control stream: <c>{"userId": "...", "requestedAt": "ISO-8601" | epoch seconds}</c>.</summary>
/// <param name="UserId">Pseudonymous id of the user to forget.</param>
/// <param name="RequestedAt">When the request was made, if given.</param>
public sealed record ForgetRequest(string UserId, DateTimeOffset? RequestedAt)
{
    /// <summary>Parses one request; unknown members are ignored.</summary>
    /// <exception cref="FormatException">Not a JSON object with a non-empty string <c>userId</c>, or a bad <c>requestedAt</c>.</exception>
    public static ForgetRequest Parse(ReadOnlySpan<byte> json)
    {
        string? userId = null;
        DateTimeOffset? requestedAt = null;
        try
        {
            var r = new Utf8JsonReader(json);
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject)
            {
                throw new FormatException("a forget request must be a JSON object");
            }

            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                bool isUser = r.ValueTextEquals("userId"u8);
                bool isAt = r.ValueTextEquals("requestedAt"u8);
                r.Read();
                if (isUser)
                {
                    userId = r.TokenType == JsonTokenType.String ? r.GetString() : throw new FormatException("'userId' must be a string");
                }
                else if (isAt)
                {
                    requestedAt = r.TokenType switch
                    {
                        JsonTokenType.String when DateTimeOffset.TryParse(r.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) => t,
                        JsonTokenType.Number when r.TryGetDouble(out var s) && double.IsFinite(s) && Math.Abs(s) < 1e11 => DateTimeOffset.UnixEpoch.AddMilliseconds(Math.Round(s * 1000)),
                        JsonTokenType.Null => null,
                        _ => throw new FormatException("'requestedAt' must be an ISO-8601 string or epoch seconds"),
                    };
                }
                else
                {
                    r.Skip();
                }
            }

            if (r.Read())
            {
                throw new FormatException("unexpected data after the request object");
            }
        }
        catch (JsonException ex)
        {
            throw new FormatException($"malformed JSON at byte {ex.BytePositionInLine}", ex);
        }

        return string.IsNullOrWhiteSpace(userId)
            ? throw new FormatException("'userId' is missing or empty")
            : new ForgetRequest(userId, requestedAt);
    }
}
