using System.Net;

namespace Cloud.Kinesis;

/// <summary>Base of every error this client raises.</summary>
public abstract class KinesisException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected KinesisException(string message, Exception? innerException = null) : base(message, innerException) { }

    /// <summary>The API operation (e.g. PutRecords) that failed.</summary>
    public abstract string Operation { get; }
}

/// <summary>A request rejected before sending; <see cref="Field"/> names the offending member.</summary>
public sealed class KinesisValidationException : KinesisException
{
    /// <summary>Creates the exception.</summary>
    public KinesisValidationException(string operation, string field, string problem)
        : base($"{operation}: {field} {problem}")
    {
        Operation = operation;
        Field = field;
        Problem = problem;
    }

    /// <inheritdoc />
    public override string Operation { get; }

    /// <summary>Path of the invalid member, e.g. <c>Records[3].PartitionKey</c>.</summary>
    public string Field { get; }

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; }
}

/// <summary>The endpoint could not be reached or did not answer in time, after retries.</summary>
public sealed class KinesisTransportException : KinesisException
{
    /// <summary>Creates the exception.</summary>
    public KinesisTransportException(string operation, Uri endpoint, string message, Exception? innerException = null)
        : base($"{operation} to {endpoint}: {message}", innerException)
    {
        Operation = operation;
        Endpoint = endpoint;
    }

    /// <inheritdoc />
    public override string Operation { get; }

    /// <summary>The endpoint that failed.</summary>
    public Uri Endpoint { get; }
}

/// <summary>An error answered by the service; subclasses name the documented error codes.</summary>
public class KinesisServiceException : KinesisException
{
    /// <summary>Creates the exception.</summary>
    public KinesisServiceException(string operation, string errorCode, string? serviceMessage, string? requestId, HttpStatusCode statusCode)
        : base($"{operation} failed with {errorCode} (HTTP {(int)statusCode}, request id {requestId ?? "none"}): {serviceMessage}")
    {
        Operation = operation;
        ErrorCode = errorCode;
        ServiceMessage = serviceMessage;
        RequestId = requestId;
        StatusCode = statusCode;
    }

    /// <inheritdoc />
    public override string Operation { get; }

    /// <summary>The error code without namespace, e.g. ResourceNotFoundException.</summary>
    public string ErrorCode { get; }

    /// <summary>The service's message.</summary>
    public string? ServiceMessage { get; }

    /// <summary>x-amzn-RequestId of the failed call.</summary>
    public string? RequestId { get; }

    /// <summary>HTTP status.</summary>
    public HttpStatusCode StatusCode { get; }
}
