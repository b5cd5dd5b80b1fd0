using System.Collections.Frozen;
using System.Net;
using System.Text.Json;

namespace Cloud.Kinesis.Internal;

/// <summary>Turns an error answer (JSON 1.1: <c>{"__type":"ns#Code","message":"..."}</c>) into a typed exception.</summary>
internal static class KinesisErrors
{
    private delegate KinesisServiceException Factory(string operation, string code, string? message, string? requestId, HttpStatusCode status);

    private static readonly FrozenDictionary<string, Factory> Factories = new Dictionary<string, Factory>(StringComparer.Ordinal)
    {
        ["ResourceNotFoundException"] = (o, c, m, r, s) => new ResourceNotFoundException(o, c, m, r, s),
        ["ResourceInUseException"] = (o, c, m, r, s) => new ResourceInUseException(o, c, m, r, s),
        ["ProvisionedThroughputExceededException"] = (o, c, m, r, s) => new ProvisionedThroughputExceededException(o, c, m, r, s),
        ["LimitExceededException"] = (o, c, m, r, s) => new LimitExceededException(o, c, m, r, s),
        ["InvalidArgumentException"] = (o, c, m, r, s) => new InvalidArgumentException(o, c, m, r, s),
        ["ExpiredIteratorException"] = (o, c, m, r, s) => new ExpiredIteratorException(o, c, m, r, s),
        ["ExpiredNextTokenException"] = (o, c, m, r, s) => new ExpiredNextTokenException(o, c, m, r, s),
        ["KMSAccessDeniedException"] = (o, c, m, r, s) => new KMSAccessDeniedException(o, c, m, r, s),
        ["KMSDisabledException"] = (o, c, m, r, s) => new KMSDisabledException(o, c, m, r, s),
        ["KMSInvalidStateException"] = (o, c, m, r, s) => new KMSInvalidStateException(o, c, m, r, s),
        ["KMSNotFoundException"] = (o, c, m, r, s) => new KMSNotFoundException(o, c, m, r, s),
        ["KMSOptInRequired"] = (o, c, m, r, s) => new KMSOptInRequiredException(o, c, m, r, s),
        ["KMSThrottlingException"] = (o, c, m, r, s) => new KMSThrottlingException(o, c, m, r, s),
        ["AccessDeniedException"] = (o, c, m, r, s) => new AccessDeniedException(o, c, m, r, s),
        ["ValidationException"] = (o, c, m, r, s) => new ValidationException(o, c, m, r, s),
        ["InternalFailure"] = (o, c, m, r, s) => new InternalFailureException(o, c, m, r, s),
        ["InternalFailureException"] = (o, c, m, r, s) => new InternalFailureException(o, c, m, r, s),
        ["ServiceUnavailable"] = (o, c, m, r, s) => new ServiceUnavailableException(o, c, m, r, s),
        ["ServiceUnavailableException"] = (o, c, m, r, s) => new ServiceUnavailableException(o, c, m, r, s),
        ["ThrottlingException"] = (o, c, m, r, s) => new ThrottlingException(o, c, m, r, s),
        ["Throttling"] = (o, c, m, r, s) => new ThrottlingException(o, c, m, r, s),
        ["RequestExpired"] = (o, c, m, r, s) => new RequestExpiredException(o, c, m, r, s),
        ["UnrecognizedClientException"] = (o, c, m, r, s) => new KinesisAuthenticationException(o, c, m, r, s),
        ["InvalidSignatureException"] = (o, c, m, r, s) => new KinesisAuthenticationException(o, c, m, r, s),
        ["IncompleteSignature"] = (o, c, m, r, s) => new KinesisAuthenticationException(o, c, m, r, s),
        ["MissingAuthenticationToken"] = (o, c, m, r, s) => new KinesisAuthenticationException(o, c, m, r, s),
        ["InvalidClientTokenId"] = (o, c, m, r, s) => new KinesisAuthenticationException(o, c, m, r, s),
        ["ExpiredTokenException"] = (o, c, m, r, s) => new KinesisAuthenticationException(o, c, m, r, s),
        ["SignatureDoesNotMatch"] = (o, c, m, r, s) => new KinesisAuthenticationException(o, c, m, r, s),
        ["NotAuthorized"] = (o, c, m, r, s) => new AccessDeniedException(o, c, m, r, s),
        ["OptInRequired"] = (o, c, m, r, s) => new AccessDeniedException(o, c, m, r, s),
        ["InvalidAction"] = (o, c, m, r, s) => new KinesisInvalidRequestException(o, c, m, r, s),
        ["InvalidParameterCombination"] = (o, c, m, r, s) => new KinesisInvalidRequestException(o, c, m, r, s),
        ["InvalidParameterValue"] = (o, c, m, r, s) => new KinesisInvalidRequestException(o, c, m, r, s),
        ["InvalidQueryParameter"] = (o, c, m, r, s) => new KinesisInvalidRequestException(o, c, m, r, s),
        ["MalformedQueryString"] = (o, c, m, r, s) => new KinesisInvalidRequestException(o, c, m, r, s),
        ["MissingAction"] = (o, c, m, r, s) => new KinesisInvalidRequestException(o, c, m, r, s),
        ["MissingParameter"] = (o, c, m, r, s) => new KinesisInvalidRequestException(o, c, m, r, s),
        ["SerializationException"] = (o, c, m, r, s) => new KinesisInvalidRequestException(o, c, m, r, s),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Codes that mean "slow down": retried with backoff even though the status is 4xx.</summary>
    private static readonly FrozenSet<string> ThrottlingCodes = new[]
    {
        "ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException", "Throttling",
        "KMSThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Builds the typed exception for an error answer.</summary>
    public static KinesisServiceException FromResponse(string operation, HttpStatusCode status, ReadOnlySpan<byte> body, string? errorTypeHeader, string? requestId)
    {
        var (bodyCode, message) = ParseBody(body);
        var code = NormalizeCode(bodyCode) ?? NormalizeCode(errorTypeHeader) ?? $"Http{(int)status}";
        if (message is null && body.Length > 0 && bodyCode is null)
        {
            // Not JSON (e.g. a proxy's HTML page): keep a bounded excerpt so the cause is visible.
            message = System.Text.Encoding.UTF8.GetString(body[..Math.Min(body.Length, 256)]);
        }

        return Factories.TryGetValue(code, out var factory)
            ? factory(operation, code, message, requestId, status)
            : new KinesisServiceException(operation, code, message, requestId, status);
    }

    /// <summary>Whether a service error is worth retrying: throttling codes and every 5xx.</summary>
    public static bool IsRetryable(KinesisServiceException exception) =>
        ThrottlingCodes.Contains(exception.ErrorCode)
        || (int)exception.StatusCode >= 500
        || exception.StatusCode == HttpStatusCode.TooManyRequests
        || exception.StatusCode == HttpStatusCode.RequestTimeout;

    /// <summary>Strips the namespace (<c>ns#Code</c>) and the header suffix (<c>Code:http://...</c>).</summary>
    internal static string? NormalizeCode(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        var code = raw.AsSpan().Trim();
        var hash = code.LastIndexOf('#');
        if (hash >= 0)
        {
            code = code[(hash + 1)..];
        }

        var colon = code.IndexOf(':');
        if (colon >= 0)
        {
            code = code[..colon];
        }

        return code.IsEmpty ? null : code.ToString();
    }

    private static (string? Code, string? Message) ParseBody(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return (null, null);
        }

        string? code = null;
        string? message = null;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return (null, null);
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isType = reader.ValueTextEquals("__type"u8);
                var isMessage = reader.ValueTextEquals("message"u8) || reader.ValueTextEquals("Message"u8);
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && isType)
                {
                    code = reader.GetString();
                }
                else if (reader.TokenType == JsonTokenType.String && isMessage)
                {
                    message = reader.GetString();
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // Partial or non-JSON body: keep what was read.
        }

        return (code, message);
    }
}

/// <summary>Full-jitter exponential backoff: attempt n (0-based) waits uniformly in [0, min(max, base·2ⁿ)].</summary>
internal static class Backoff
{
    public static TimeSpan Delay(int attempt, TimeSpan baseDelay, TimeSpan maxDelay, double random01)
    {
        var ceiling = Ceiling(attempt, baseDelay, maxDelay);
        return TimeSpan.FromTicks((long)(ceiling.Ticks * Math.Clamp(random01, 0d, 1d)));
    }

    public static TimeSpan Ceiling(int attempt, TimeSpan baseDelay, TimeSpan maxDelay)
    {
        var exponent = Math.Min(attempt, 30);
        var ticks = baseDelay.Ticks * Math.Pow(2, exponent);
        return ticks >= maxDelay.Ticks ? maxDelay : TimeSpan.FromTicks((long)ticks);
    }
}
