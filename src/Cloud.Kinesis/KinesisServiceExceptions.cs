using System.Net;

namespace Cloud.Kinesis;

// One subclass per error code documented in the Kinesis API reference
// (https://docs.aws.amazon.com/kinesis/latest/APIReference/CommonErrors.html and each operation's "Errors").
// Codes not listed here still surface as a plain KinesisServiceException carrying the code.

/// <summary>The stream, shard or consumer does not exist (or is not ACTIVE yet).</summary>
public sealed class ResourceNotFoundException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>The resource is not in a state that allows the call (e.g. stream is CREATING/UPDATING, or already exists).</summary>
public sealed class ResourceInUseException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>The shard's read or write throughput was exceeded. Retried by the client.</summary>
public sealed class ProvisionedThroughputExceededException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>A control-plane limit (request rate, shard count, concurrent operations) was exceeded. Retried by the client.</summary>
public sealed class LimitExceededException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>A parameter was invalid (the service's check; the client validates first where it can).</summary>
public sealed class InvalidArgumentException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>The shard iterator is older than five minutes; get a new one.</summary>
public sealed class ExpiredIteratorException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>The paging token expired.</summary>
public sealed class ExpiredNextTokenException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>KMS denied access to the stream's key.</summary>
public sealed class KMSAccessDeniedException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>The stream's KMS key is disabled.</summary>
public sealed class KMSDisabledException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>The stream's KMS key is not in a valid state.</summary>
public sealed class KMSInvalidStateException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>The stream's KMS key was not found.</summary>
public sealed class KMSNotFoundException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>The account is not subscribed to KMS.</summary>
public sealed class KMSOptInRequiredException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>KMS throttled the request. Retried by the client.</summary>
public sealed class KMSThrottlingException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>The caller lacks permission (IAM) for the action.</summary>
public sealed class AccessDeniedException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>The request failed the service's input validation.</summary>
public sealed class ValidationException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>The service failed internally. Retried by the client.</summary>
public sealed class InternalFailureException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>The service is unavailable. Retried by the client.</summary>
public sealed class ServiceUnavailableException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>The request rate is too high (API throttling). Retried by the client.</summary>
public sealed class ThrottlingException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>The signature or credentials were rejected (UnrecognizedClientException, InvalidSignatureException,
/// IncompleteSignature, MissingAuthenticationToken, ExpiredTokenException, InvalidClientTokenId, SignatureDoesNotMatch).</summary>
public sealed class KinesisAuthenticationException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>The call is not valid with the current request parameters or stream state
/// (InvalidAction, InvalidParameterCombination, InvalidParameterValue, InvalidQueryParameter, MissingAction, MissingParameter, MalformedQueryString).</summary>
public sealed class KinesisInvalidRequestException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);

/// <summary>The request expired or its timestamp is too far from the service clock (RequestExpired).</summary>
public sealed class RequestExpiredException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
    : KinesisServiceException(operation, errorCode, serviceMessage, requestId, statusCode);
