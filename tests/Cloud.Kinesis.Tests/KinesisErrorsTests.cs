using System.Collections;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Amazon.Runtime;

namespace Cloud.Kinesis.Tests;

/// <summary>The project's one error vocabulary: every code of its table, namespaces, HTTP-status fallbacks, client-side faults.</summary>
public sealed class KinesisErrorsTests
{
    /// <summary>Every code of <see cref="KinesisErrors"/>' table with the kind and cause it must have.</summary>
    public static TheoryData<string, KinesisErrorKind, KinesisErrorCause> Table => new()
    {
        { "ProvisionedThroughputExceededException", KinesisErrorKind.Throttling, KinesisErrorCause.Throttled },
        { "LimitExceededException", KinesisErrorKind.Throttling, KinesisErrorCause.Throttled },
        { "ThrottlingException", KinesisErrorKind.Throttling, KinesisErrorCause.Throttled },
        { "Throttling", KinesisErrorKind.Throttling, KinesisErrorCause.Throttled },
        { "ThrottledException", KinesisErrorKind.Throttling, KinesisErrorCause.Throttled },
        { "RequestThrottled", KinesisErrorKind.Throttling, KinesisErrorCause.Throttled },
        { "RequestThrottledException", KinesisErrorKind.Throttling, KinesisErrorCause.Throttled },
        { "RequestLimitExceeded", KinesisErrorKind.Throttling, KinesisErrorCause.Throttled },
        { "TooManyRequestsException", KinesisErrorKind.Throttling, KinesisErrorCause.Throttled },
        { "SlowDown", KinesisErrorKind.Throttling, KinesisErrorCause.Throttled },
        { "KMSThrottlingException", KinesisErrorKind.Throttling, KinesisErrorCause.Throttled },
        { "InternalFailure", KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault },
        { "InternalFailureException", KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault },
        { "InternalServerError", KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault },
        { "InternalError", KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault },
        { "ServiceUnavailable", KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault },
        { "ServiceUnavailableException", KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault },
        { "RequestTimeout", KinesisErrorKind.Retryable, KinesisErrorCause.Timeout },
        { "RequestTimeoutException", KinesisErrorKind.Retryable, KinesisErrorCause.Timeout },
        { "RequestExpired", KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault },
        { "PriorRequestNotComplete", KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault },
        { "ExpiredIteratorException", KinesisErrorKind.Retryable, KinesisErrorCause.Expired },
        { "ExpiredNextTokenException", KinesisErrorKind.Retryable, KinesisErrorCause.Expired },
        { "UnrecognizedClientException", KinesisErrorKind.Permanent, KinesisErrorCause.Authentication },
        { "InvalidSignatureException", KinesisErrorKind.Permanent, KinesisErrorCause.Authentication },
        { "IncompleteSignature", KinesisErrorKind.Permanent, KinesisErrorCause.Authentication },
        { "IncompleteSignatureException", KinesisErrorKind.Permanent, KinesisErrorCause.Authentication },
        { "MissingAuthenticationToken", KinesisErrorKind.Permanent, KinesisErrorCause.Authentication },
        { "MissingAuthenticationTokenException", KinesisErrorKind.Permanent, KinesisErrorCause.Authentication },
        { "InvalidClientTokenId", KinesisErrorKind.Permanent, KinesisErrorCause.Authentication },
        { "SignatureDoesNotMatch", KinesisErrorKind.Permanent, KinesisErrorCause.Authentication },
        { "ExpiredToken", KinesisErrorKind.Permanent, KinesisErrorCause.Authentication },
        { "ExpiredTokenException", KinesisErrorKind.Permanent, KinesisErrorCause.Authentication },
        { "AuthFailure", KinesisErrorKind.Permanent, KinesisErrorCause.Authentication },
        { "AccessDeniedException", KinesisErrorKind.Permanent, KinesisErrorCause.AccessDenied },
        { "AccessDenied", KinesisErrorKind.Permanent, KinesisErrorCause.AccessDenied },
        { "NotAuthorized", KinesisErrorKind.Permanent, KinesisErrorCause.AccessDenied },
        { "OptInRequired", KinesisErrorKind.Permanent, KinesisErrorCause.AccessDenied },
        { "KMSAccessDeniedException", KinesisErrorKind.Permanent, KinesisErrorCause.KmsAccess },
        { "KMSDisabledException", KinesisErrorKind.Permanent, KinesisErrorCause.KmsAccess },
        { "KMSInvalidStateException", KinesisErrorKind.Permanent, KinesisErrorCause.KmsAccess },
        { "KMSNotFoundException", KinesisErrorKind.Permanent, KinesisErrorCause.KmsAccess },
        { "KMSOptInRequired", KinesisErrorKind.Permanent, KinesisErrorCause.KmsAccess },
        { "InvalidArgumentException", KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest },
        { "ValidationException", KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest },
        { "SerializationException", KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest },
        { "InvalidAction", KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest },
        { "InvalidParameterCombination", KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest },
        { "InvalidParameterValue", KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest },
        { "InvalidQueryParameter", KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest },
        { "MalformedQueryString", KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest },
        { "MissingAction", KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest },
        { "MissingParameter", KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest },
        { "ResourceNotFoundException", KinesisErrorKind.Permanent, KinesisErrorCause.NotFound },
        { "ResourceInUseException", KinesisErrorKind.Permanent, KinesisErrorCause.ResourceInUse },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Every_code_of_the_table_classifies_as_documented(string code, KinesisErrorKind kind, KinesisErrorCause cause)
    {
        Assert.Equal(new KinesisError(kind, cause, code), KinesisErrors.Classify(code));

        // The status never overrides a known code (a throttle with 400 is still a throttle, an auth error with 500 still permanent).
        Assert.Equal(new KinesisError(kind, cause, code), KinesisErrors.Classify(code, HttpStatusCode.BadRequest));
        Assert.Equal(new KinesisError(kind, cause, code), KinesisErrors.Classify(code, HttpStatusCode.InternalServerError));

        // The namespaced and header spellings AWS sends.
        Assert.Equal(new KinesisError(kind, cause, code), KinesisErrors.Classify("com.amazonaws.kinesis.v20131202#" + code));
        Assert.Equal(new KinesisError(kind, cause, code), KinesisErrors.Classify(code + ":http://internal.amazon.com/coral/com.amazon.coral.service/"));

        // The same through an SDK exception.
        Assert.Equal(new KinesisError(kind, cause, code), KinesisErrors.Classify(new AmazonKinesisException("m") { ErrorCode = code, StatusCode = HttpStatusCode.BadRequest }));
    }

    [Fact]
    public void The_test_table_is_the_whole_vocabulary()
    {
        // A code added to (or removed from) KinesisErrors without a row here fails this test.
        var field = typeof(KinesisErrors).GetField("Codes", BindingFlags.NonPublic | BindingFlags.Static)!;
        var codes = ((IEnumerable)field.GetValue(null)!).Cast<object>()
            .Select(pair => (string)pair.GetType().GetProperty("Key")!.GetValue(pair)!).Order(StringComparer.Ordinal).ToList();
        var tested = Table.Select(row => (string)row[0]).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(codes, tested);
    }

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests, KinesisErrorKind.Throttling, KinesisErrorCause.Throttled)]
    [InlineData(HttpStatusCode.RequestTimeout, KinesisErrorKind.Retryable, KinesisErrorCause.Timeout)]
    [InlineData(HttpStatusCode.GatewayTimeout, KinesisErrorKind.Retryable, KinesisErrorCause.Timeout)]
    [InlineData(HttpStatusCode.Unauthorized, KinesisErrorKind.Permanent, KinesisErrorCause.Authentication)]
    [InlineData(HttpStatusCode.Forbidden, KinesisErrorKind.Permanent, KinesisErrorCause.AccessDenied)]
    [InlineData(HttpStatusCode.NotFound, KinesisErrorKind.Permanent, KinesisErrorCause.NotFound)]
    [InlineData(HttpStatusCode.InternalServerError, KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault)]
    [InlineData(HttpStatusCode.BadGateway, KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault)]
    [InlineData(HttpStatusCode.ServiceUnavailable, KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault)]
    [InlineData(HttpStatusCode.BadRequest, KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest)]
    [InlineData(HttpStatusCode.Conflict, KinesisErrorKind.Permanent, KinesisErrorCause.InvalidRequest)]
    public void Unknown_codes_are_decided_by_the_status(HttpStatusCode status, KinesisErrorKind kind, KinesisErrorCause cause)
    {
        var error = KinesisErrors.Classify("SomethingNewException", status);
        Assert.Equal((kind, cause, "SomethingNewException"), (error.Kind, error.Cause, error.Code));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("ns#")]
    public void A_missing_code_is_UnknownError_and_retryable_without_a_status(string? code)
    {
        Assert.Equal(new KinesisError(KinesisErrorKind.Retryable, KinesisErrorCause.Unknown, "UnknownError"), KinesisErrors.Classify(code));
        Assert.Equal(KinesisErrorKind.Permanent, KinesisErrors.Classify(code, HttpStatusCode.BadRequest).Kind);
    }

    [Fact]
    public void Typed_sdk_exceptions_classify_by_their_code()
    {
        Assert.True(KinesisErrors.Classify(new ProvisionedThroughputExceededException("slow") { ErrorCode = "ProvisionedThroughputExceededException", StatusCode = HttpStatusCode.BadRequest }).IsThrottling);
        Assert.Equal(KinesisErrorCause.NotFound, KinesisErrors.Classify(new ResourceNotFoundException("gone") { ErrorCode = "ResourceNotFoundException", StatusCode = HttpStatusCode.BadRequest }).Cause);
        Assert.Equal(KinesisErrorCause.KmsAccess, KinesisErrors.Classify(new KMSAccessDeniedException("kms") { ErrorCode = "KMSAccessDeniedException", StatusCode = HttpStatusCode.BadRequest }).Cause);
        Assert.True(KinesisErrors.Classify(new InvalidArgumentException("bad") { ErrorCode = "InvalidArgumentException", StatusCode = HttpStatusCode.BadRequest }).IsPermanent);
    }

    [Fact]
    public void A_service_exception_without_a_code_is_decided_by_its_status()
    {
        var error = KinesisErrors.Classify(new AmazonKinesisException("bad gateway") { StatusCode = HttpStatusCode.BadGateway });
        Assert.Equal((KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault, "Http502"), (error.Kind, error.Cause, error.Code));
    }

    [Fact]
    public void A_2xx_answer_whose_body_broke_off_is_a_network_fault()
    {
        var cut = new AmazonKinesisException("Error unmarshalling response", new IOException("The response ended prematurely")) { StatusCode = HttpStatusCode.OK };
        Assert.Equal((KinesisErrorKind.Retryable, KinesisErrorCause.Network), (KinesisErrors.Classify(cut).Kind, KinesisErrors.Classify(cut).Cause));
        // A 5xx without a code stays a service fault even with an inner I/O error.
        var server = new AmazonKinesisException("bad gateway", new IOException("x")) { StatusCode = HttpStatusCode.BadGateway };
        Assert.Equal(KinesisErrorCause.ServiceFault, KinesisErrors.Classify(server).Cause);
    }

    [Fact]
    public void Client_side_faults_classify_as_network_timeout_credentials_or_invalid()
    {
        Assert.Equal(new KinesisError(KinesisErrorKind.Retryable, KinesisErrorCause.Network, nameof(HttpRequestException)),
            KinesisErrors.Classify(new HttpRequestException("refused", new SocketException((int)SocketError.ConnectionRefused))));
        Assert.Equal(KinesisErrorCause.Network, KinesisErrors.Classify(new AmazonClientException("wrapped", new IOException("reset"))).Cause);
        Assert.Equal(KinesisErrorCause.Timeout, KinesisErrors.Classify(new TaskCanceledException("timeout", new TimeoutException())).Cause);
        Assert.Equal(KinesisErrorCause.Timeout, KinesisErrors.Classify(new TimeoutException()).Cause);
        Assert.Equal(KinesisErrorKind.Retryable, KinesisErrors.Classify(new OperationCanceledException()).Kind);
        Assert.Equal(new KinesisError(KinesisErrorKind.Permanent, KinesisErrorCause.Authentication, "CredentialsNotFound"),
            KinesisErrors.Classify(new AmazonClientException("Failed to resolve AWS credentials. The credential providers used to search for credentials returned the following errors: ...")));
        Assert.Equal(KinesisErrorCause.InvalidRequest, KinesisErrors.Classify(new ArgumentException("bad")).Cause);
        Assert.Equal(KinesisErrorCause.InvalidRequest, KinesisErrors.Classify(new AmazonClientException("Value of StreamName is null")).Cause);
        Assert.Equal(new KinesisError(KinesisErrorKind.Retryable, KinesisErrorCause.Unknown, nameof(InvalidOperationException)), KinesisErrors.Classify(new InvalidOperationException()));

        // A service error wrapped by a caller is still found.
        Assert.True(KinesisErrors.Classify(new InvalidOperationException("outer", new AmazonKinesisException("inner") { ErrorCode = "AccessDeniedException" })).IsPermanent);
    }

    [Fact]
    public void Classify_rejects_null()
    {
        Assert.Throws<ArgumentNullException>(() => KinesisErrors.Classify((Exception)null!));
    }
}
