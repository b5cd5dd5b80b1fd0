using System.Collections.Frozen;
using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;

namespace Cloud.Kinesis;

/// <summary>What the caller should do about a failed Kinesis call or PutRecords entry.</summary>
public enum KinesisErrorKind
{
    /// <summary>Slow down, then retry: the shard, account or KMS key is over its limit.</summary>
    Throttling,

    /// <summary>Retry with backoff: a transient fault (5xx, network, timeout).</summary>
    Retryable,

    /// <summary>Do not retry: the same call fails the same way (auth, validation, missing stream, KMS access).</summary>
    Permanent,
}

/// <summary>Why a call failed, finer than <see cref="KinesisErrorKind"/>; stable names for metrics and exit codes.</summary>
public enum KinesisErrorCause
{
    /// <summary>Throughput, request-rate or KMS throttling.</summary>
    Throttled,

    /// <summary>A 5xx or an internal failure of the service.</summary>
    ServiceFault,

    /// <summary>The endpoint could not be reached or the connection broke.</summary>
    Network,

    /// <summary>The call timed out (HTTP timeout, not the caller's cancellation).</summary>
    Timeout,

    /// <summary>Credentials missing, unknown, expired or the signature is wrong.</summary>
    Authentication,

    /// <summary>The identity is not allowed to make the call.</summary>
    AccessDenied,

    /// <summary>The request is invalid (argument, validation, serialization).</summary>
    InvalidRequest,

    /// <summary>The stream, shard or consumer does not exist.</summary>
    NotFound,

    /// <summary>The resource is in a state that refuses the call (e.g. stream UPDATING or already existing).</summary>
    ResourceInUse,

    /// <summary>The stream's KMS key cannot be used (access denied, disabled, not found, invalid state, opt-in).</summary>
    KmsAccess,

    /// <summary>A shard iterator or paging token expired: get a new one and go on.</summary>
    Expired,

    /// <summary>Anything else.</summary>
    Unknown,
}

/// <summary>A classified error: what to do (<see cref="Kind"/>), why (<see cref="Cause"/>) and the service's code.</summary>
/// <param name="Kind">Throttling, retryable or permanent.</param>
/// <param name="Cause">The finer reason.</param>
/// <param name="Code">The service's error code (e.g. <c>ProvisionedThroughputExceededException</c>) or the exception type for client-side faults.</param>
public readonly record struct KinesisError(KinesisErrorKind Kind, KinesisErrorCause Cause, string Code)
{
    /// <summary>True for <see cref="KinesisErrorKind.Permanent"/>.</summary>
    public bool IsPermanent => Kind == KinesisErrorKind.Permanent;

    /// <summary>True for <see cref="KinesisErrorKind.Throttling"/>.</summary>
    public bool IsThrottling => Kind == KinesisErrorKind.Throttling;
}

/// <summary>
/// The project's one error vocabulary for Kinesis: classifies AWSSDK.Kinesis exceptions and PutRecords entry error
/// codes as throttling, retryable or permanent. The producer, the event-source-mapping runner and the CLI all use it.
/// Codes from https://docs.aws.amazon.com/kinesis/latest/APIReference/CommonErrors.html and each operation's errors.
/// </summary>
public static class KinesisErrors
{
    private static readonly FrozenDictionary<string, (KinesisErrorKind Kind, KinesisErrorCause Cause)> Codes =
        new Dictionary<string, (KinesisErrorKind, KinesisErrorCause)>(StringComparer.Ordinal)
        {
            // throttling
            ["ProvisionedThroughputExceededException"] = (KinesisErrorKind.Throttling, KinesisErrorCause.Throttled),
            ["LimitExceededException"] = (KinesisErrorKind.Throttling, KinesisErrorCause.Throttled),
            ["ThrottlingException"] = (KinesisErrorKind.Throttling, KinesisErrorCause.Throttled),
            ["Throttling"] = (KinesisErrorKind.Throttling, KinesisErrorCause.Throttled),
            ["ThrottledException"] = (KinesisErrorKind.Throttling, KinesisErrorCause.Throttled),
            ["RequestThrottled"] = (KinesisErrorKind.Throttling, KinesisErrorCause.Throttled),
            ["RequestThrottledException"] = (KinesisErrorKind.Throttling, KinesisErrorCause.Throttled),
            ["RequestLimitExceeded"] = (KinesisErrorKind.Throttling, KinesisErrorCause.Throttled),
            ["TooManyRequestsException"] = (KinesisErrorKind.Throttling, KinesisErrorCause.Throttled),
            ["SlowDown"] = (KinesisErrorKind.Throttling, KinesisErrorCause.Throttled),
            ["KMSThrottlingException"] = (KinesisErrorKind.Throttling, KinesisErrorCause.Throttled),
            // transient service faults
            ["InternalFailure"] = (KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault),
            ["InternalFailureException"] = (KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault),
            ["InternalServerError"] = (KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault),
            ["InternalError"] = (KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault),
            ["ServiceUnavailable"] = (KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault),
            ["ServiceUnavailableException"] = (KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault),
            ["RequestTimeout"] = (KinesisErrorKind.Retryable, KinesisErrorCause.Timeout),
            ["RequestTimeoutException"] = (KinesisErrorKind.Retryable, KinesisErrorCause.Timeout),
            ["RequestExpired"] = (KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault), // clock skew: the SDK corrects it
            ["PriorRequestNotComplete"] = (KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault),
            // expired iterators and tokens: get a new one
            ["ExpiredIteratorException"] = (KinesisErrorKind.Retryable, KinesisErrorCause.Expired),
            ["ExpiredNextTokenException"] = (KinesisErrorKind.Retryable, KinesisErrorCause.Expired),
            // authentication: every spelling AWS services use
            ["UnrecognizedClientException"] = (KinesisErrorKind.Permanent, KinesisErrorCause.Authentication),
            ["InvalidSignatureException"] = (KinesisErrorKind.Permanent, KinesisErrorCause.Authentication),
            ["IncompleteSignature"] = (KinesisErrorKind.Permanent, KinesisErrorCause.Authentication),
            ["IncompleteSignatureException"] = (KinesisErrorKind.Permanent, KinesisErrorCause.Authentication),
            ["MissingAuthenticationToken"] = (KinesisErrorKind.Permanent, KinesisErrorCause.Authentication),
            ["MissingAuthenticationTokenException"] = (KinesisErrorKind.Permanent, KinesisErrorCause.Authentication),
            ["InvalidClientTokenId"] = (KinesisErrorKind.Permanent, KinesisErrorCause.Authentication),
            ["SignatureDoesNotMatch"] = (KinesisErrorKind.Permanent, KinesisErrorCause.Authentication),
            ["ExpiredToken"] = (KinesisErrorKind.Permanent, KinesisErrorCause.Authentication),
            ["ExpiredTokenException"] = (KinesisErrorKind.Permanent, KinesisErrorCause.Authentication),
            ["AuthFailure"] = (KinesisErrorKind.Permanent, KinesisErrorCause.Authentication),
            // authorization
            ["AccessDeniedException"] = (KinesisErrorKind.Permanent, KinesisErrorCause.AccessDenied),
            ["AccessDenied"] = (KinesisErrorKind.Permanent, KinesisErrorCause.AccessDenied),
            ["NotAuthorized"] = (KinesisErrorKind.Permanent, KinesisErrorCause.AccessDenied),
            ["OptInRequired"] = (KinesisErrorKind.Permanent, KinesisErrorCause.AccessDenied),
            // KMS of the stream's server-side encryption
            ["KMSAccessDeniedException"] = (KinesisErrorKind.Permanent, KinesisErrorCause.KmsAccess),
            ["KMSDisabledException"] = (KinesisErrorKind.Permanent, KinesisErrorCause.KmsAccess),
            ["KMSInvalidStateException"] = (KinesisErrorKind.Permanent, KinesisErrorCause.KmsAccess),
            ["KMSNotFoundException"] = (KinesisErrorKind.Permanent, KinesisErrorCause.KmsAccess),
            ["KMSOptInRequired"] = (KinesisErrorKind.Permanent, KinesisErrorCause.KmsAccess),
            // invalid requests
            ["InvalidArgumentException"] = (KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest),
            ["ValidationException"] = (KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest),
            ["SerializationException"] = (KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest),
            ["InvalidAction"] = (KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest),
            ["InvalidParameterCombination"] = (KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest),
            ["InvalidParameterValue"] = (KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest),
            ["InvalidQueryParameter"] = (KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest),
            ["MalformedQueryString"] = (KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest),
            ["MissingAction"] = (KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest),
            ["MissingParameter"] = (KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest),
            // resources
            ["ResourceNotFoundException"] = (KinesisErrorKind.Permanent, KinesisErrorCause.NotFound),
            ["ResourceInUseException"] = (KinesisErrorKind.Permanent, KinesisErrorCause.ResourceInUse),
        }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Classifies an error code as Kinesis reports it, in an exception or a PutRecords result entry.</summary>
    /// <param name="code">The code, with or without a namespace prefix (<c>ns#Code</c>).</param>
    /// <param name="statusCode">The HTTP status when known; decides codes this table does not know (5xx, 429 retried).</param>
    public static KinesisError Classify(string? code, HttpStatusCode? statusCode = null)
    {
        string normalized = Normalize(code);
        if (Codes.TryGetValue(normalized, out var known))
        {
            return new KinesisError(known.Kind, known.Cause, normalized);
        }
        return statusCode switch
        {
            HttpStatusCode.TooManyRequests => new KinesisError(KinesisErrorKind.Throttling, KinesisErrorCause.Throttled, normalized),
            HttpStatusCode.RequestTimeout or HttpStatusCode.GatewayTimeout => new KinesisError(KinesisErrorKind.Retryable, KinesisErrorCause.Timeout, normalized),
            HttpStatusCode.Unauthorized => new KinesisError(KinesisErrorKind.Permanent, KinesisErrorCause.Authentication, normalized),
            HttpStatusCode.Forbidden => new KinesisError(KinesisErrorKind.Permanent, KinesisErrorCause.AccessDenied, normalized),
            HttpStatusCode.NotFound => new KinesisError(KinesisErrorKind.Permanent, KinesisErrorCause.NotFound, normalized),
            { } s when (int)s >= 500 => new KinesisError(KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault, normalized),
            { } s when (int)s >= 400 => new KinesisError(KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest, normalized),
            // An unknown code without a status: retry it; the caller's deadline still bounds it.
            _ => new KinesisError(KinesisErrorKind.Retryable, KinesisErrorCause.Unknown, normalized),
        };
    }

    /// <summary>
    /// Classifies an exception thrown by an <c>IAmazonKinesis</c> call: service errors by code and status, network
    /// faults and HTTP timeouts as retryable, missing credentials as permanent authentication errors.
    /// A cancellation requested by the caller is not an error: check your token before classifying.
    /// </summary>
    public static KinesisError Classify(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        switch (exception)
        {
            case AmazonServiceException service when !string.IsNullOrEmpty(service.ErrorCode):
                return Classify(service.ErrorCode, service.StatusCode == 0 ? null : service.StatusCode);
            // A 2xx whose body broke off is a network fault, not a service answer: look at the cause below.
            case AmazonServiceException service when service.StatusCode != 0 && !((int)service.StatusCode < 300 && HasNetworkCause(service)):
                return Classify($"Http{(int)service.StatusCode}", service.StatusCode);
        }
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case AmazonServiceException inner when inner != exception && !string.IsNullOrEmpty(inner.ErrorCode):
                    return Classify(inner.ErrorCode, inner.StatusCode == 0 ? null : inner.StatusCode);
                case TimeoutException:
                    return new KinesisError(KinesisErrorKind.Retryable, KinesisErrorCause.Timeout, e.GetType().Name);
                case TaskCanceledException when e.InnerException is TimeoutException:
                    return new KinesisError(KinesisErrorKind.Retryable, KinesisErrorCause.Timeout, nameof(TimeoutException));
                case HttpRequestException or SocketException or IOException:
                    return new KinesisError(KinesisErrorKind.Retryable, KinesisErrorCause.Network, e.GetType().Name);
            }
        }
        if (exception is AmazonClientException client && IsCredentialsFailure(client))
        {
            return new KinesisError(KinesisErrorKind.Permanent, KinesisErrorCause.Authentication, "CredentialsNotFound");
        }
        if (exception is OperationCanceledException)
        {
            // Not the caller's token (they check first): an SDK-internal timeout.
            return new KinesisError(KinesisErrorKind.Retryable, KinesisErrorCause.Timeout, nameof(TimeoutException));
        }
        if (exception is ArgumentException or AmazonClientException)
        {
            return new KinesisError(KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest, exception.GetType().Name);
        }
        return new KinesisError(KinesisErrorKind.Retryable, KinesisErrorCause.Unknown, exception.GetType().Name);
    }

    private static bool HasNetworkCause(Exception exception)
    {
        for (Exception? e = exception.InnerException; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException or SocketException or IOException)
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsCredentialsFailure(AmazonClientException exception) =>
        exception.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase);

    /// <summary>Strips the namespace (<c>ns#Code</c>) and a header suffix (<c>Code:http://...</c>).</summary>
    private static string Normalize(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return "UnknownError";
        }
        var code = raw.AsSpan().Trim();
        int hash = code.LastIndexOf('#');
        if (hash >= 0)
        {
            code = code[(hash + 1)..];
        }
        int colon = code.IndexOf(':');
        if (colon >= 0)
        {
            code = code[..colon];
        }
        return code.IsEmpty ? "UnknownError" : code.ToString();
    }
}
