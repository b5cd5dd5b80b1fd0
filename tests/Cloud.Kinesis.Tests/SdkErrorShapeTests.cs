using System.Net;
using System.Net.Sockets;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Amazon.Runtime;
using Cloud.Testing.Kinesis;

namespace Cloud.Kinesis.Tests;

/// <summary>
/// AWS's own client against a loopback endpoint that answers with AWS's JSON 1.1 error shape: the exception the SDK
/// raises must classify as the right kind and cause. The authentication spellings are the ones whose drift let the
/// producer retry auth failures until the TTL.
/// </summary>
public sealed class SdkErrorShapeTests
{
    public static TheoryData<HttpStatusCode, string, KinesisErrorKind, KinesisErrorCause, bool> Errors => new()
    {
        // The AWS front end's authentication errors (403, header with the coral namespace suffix).
        { HttpStatusCode.Forbidden, "IncompleteSignature", KinesisErrorKind.Permanent, KinesisErrorCause.Authentication, true },
        { HttpStatusCode.Forbidden, "MissingAuthenticationToken", KinesisErrorKind.Permanent, KinesisErrorCause.Authentication, true },
        { HttpStatusCode.Forbidden, "InvalidClientTokenId", KinesisErrorKind.Permanent, KinesisErrorCause.Authentication, true },
        { HttpStatusCode.Forbidden, "SignatureDoesNotMatch", KinesisErrorKind.Permanent, KinesisErrorCause.Authentication, true },
        { HttpStatusCode.BadRequest, "UnrecognizedClientException", KinesisErrorKind.Permanent, KinesisErrorCause.Authentication, true },
        { HttpStatusCode.BadRequest, "InvalidSignatureException", KinesisErrorKind.Permanent, KinesisErrorCause.Authentication, true },
        { HttpStatusCode.BadRequest, "ExpiredTokenException", KinesisErrorKind.Permanent, KinesisErrorCause.Authentication, true },
        { HttpStatusCode.BadRequest, "AccessDeniedException", KinesisErrorKind.Permanent, KinesisErrorCause.AccessDenied, false },

        // Kinesis's own errors (400, namespaced __type).
        { HttpStatusCode.BadRequest, "ResourceNotFoundException", KinesisErrorKind.Permanent, KinesisErrorCause.NotFound, false },
        { HttpStatusCode.BadRequest, "ProvisionedThroughputExceededException", KinesisErrorKind.Throttling, KinesisErrorCause.Throttled, false },
        { HttpStatusCode.InternalServerError, "InternalFailure", KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault, false },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public async Task The_sdk_exception_for_an_aws_error_classifies_right(HttpStatusCode status, string code, KinesisErrorKind kind, KinesisErrorCause cause, bool frontEnd)
    {
        foreach (var shape in new[] { "plain", "aws" })
        {
            await using var server = new LoopbackKinesisServer(_ => shape == "plain"
                ? LoopbackResponse.Error(status, code, "scripted")
                : LoopbackResponse.Error(status, code, "scripted",
                    typeHeader: frontEnd ? code + ":http://internal.amazon.com/coral/com.amazon.coral.service/" : code,
                    bodyType: frontEnd ? "com.amazon.coral.service#" + code : "com.amazonaws.kinesis.v20131202#" + code));
            using var client = ClientFor(server.Endpoint);

            var thrown = await Assert.ThrowsAnyAsync<AmazonKinesisException>(() =>
                client.PutRecordsAsync(new PutRecordsRequest { StreamName = "s", Records = [new PutRecordsRequestEntry { PartitionKey = "k", Data = new MemoryStream([1]) }] }));

            var error = KinesisErrors.Classify(thrown);
            Assert.True((kind, cause, code) == (error.Kind, error.Cause, error.Code), $"{shape}: {code} → {error} ({thrown.GetType().Name}, ErrorCode '{thrown.ErrorCode}')");
            Assert.Equal(status, thrown.StatusCode);
            Assert.Single(server.Requests); // MaxErrorRetry = 0: the SDK did not retry
        }
    }

    [Fact]
    public async Task Typed_exceptions_are_raised_for_modelled_errors()
    {
        await using var server = new LoopbackKinesisServer(_ => LoopbackResponse.Error(HttpStatusCode.BadRequest, "ResourceNotFoundException", "Stream s under account 000000000000 not found."));
        using var client = ClientFor(server.Endpoint);

        var thrown = await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = "s" }));

        Assert.Equal(KinesisErrorCause.NotFound, KinesisErrors.Classify(thrown).Cause);
        Assert.Contains("not found", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_connection_is_a_retryable_network_error()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        using var client = ClientFor(new Uri($"http://127.0.0.1:{port}/"));

        var thrown = await Assert.ThrowsAnyAsync<Exception>(() => client.ListStreamsAsync(new ListStreamsRequest()));

        var error = KinesisErrors.Classify(thrown);
        Assert.True((KinesisErrorKind.Retryable, KinesisErrorCause.Network) == (error.Kind, error.Cause), $"{error} from {thrown}");
    }

    [Fact]
    public async Task An_http_timeout_is_a_retryable_timeout_not_a_cancellation()
    {
        using var release = new ManualResetEventSlim();
        await using var server = new LoopbackKinesisServer(_ =>
        {
            release.Wait(TimeSpan.FromSeconds(10));
            return LoopbackResponse.Ok("{}");
        });
        using var client = ClientFor(server.Endpoint, TimeSpan.FromMilliseconds(300));

        var thrown = await Assert.ThrowsAnyAsync<Exception>(() => client.ListStreamsAsync(new ListStreamsRequest()));
        release.Set();

        var error = KinesisErrors.Classify(thrown);
        Assert.True((KinesisErrorKind.Retryable, KinesisErrorCause.Timeout) == (error.Kind, error.Cause), $"{error} from {thrown}");
    }

    private static AmazonKinesisClient ClientFor(Uri endpoint, TimeSpan? timeout = null) => KinesisClientFactory.Create(new KinesisConnectionOptions
    {
        ServiceUrl = endpoint,
        Region = "us-east-1",
        Credentials = new BasicAWSCredentials("test", "test"),
        MaxErrorRetry = 0,
        Timeout = timeout,
    });
}
