using System.Net;
using System.Text.Json;
using Cloud.Cli.Infrastructure;
using Cloud.Cli.Tests.Infrastructure;
using Cloud.Testing.Kinesis;

namespace Cloud.Cli.Tests;

/// <summary>
/// How the tool reaches Kinesis through AWS's SDK with explicit endpoints, against a loopback JSON 1.1 endpoint:
/// credentials from the SDK's chain (not forced dummies), <c>--profile</c>, streams paged without NextToken, exit
/// codes decided by the project's one error vocabulary, and KMS in explicit-endpoint mode.
/// </summary>
public sealed class ConnectionTests : IAsyncDisposable
{
    private readonly CliSandbox _sandbox = new();
    private readonly LoopbackKinesisServer _server = new(_ => LoopbackResponse.Error(HttpStatusCode.BadRequest, "UnknownOperationException", "not scripted"));

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _sandbox.Dispose();
    }

    [Fact]
    public async Task Streams_list_returns_every_stream_when_the_service_pages_without_a_NextToken()
    {
        // Another Kinesis implementation: pages of 10 with HasMoreStreams but no NextToken; the client must go on
        // with ExclusiveStartStreamName (the last name seen) to the end. 31 streams, 4 pages.
        var all = Enumerable.Range(0, 31).Select(i => $"stream-{i:D2}").ToList();
        _server.Handler = request =>
        {
            if (request.Operation != "ListStreams")
            {
                return LoopbackResponse.Error(HttpStatusCode.BadRequest, "UnknownOperationException", request.Operation);
            }

            Assert.False(request.Body.TryGetProperty("NextToken", out _), "no NextToken was ever given, so none may be sent");
            var after = request.Body.TryGetProperty("ExclusiveStartStreamName", out var start) ? start.GetString() : null;
            var rest = all.Where(n => after is null || string.CompareOrdinal(n, after) > 0).ToList();
            var page = rest.Take(10).ToList();
            return LoopbackResponse.Ok(JsonSerializer.Serialize(new { StreamNames = page, HasMoreStreams = rest.Count > page.Count }));
        };

        var listed = await _sandbox.RunAsync("streams", "list", "--json", "--endpoint", _server.Endpoint.ToString());

        CliAssert.Succeeded(listed);
        Assert.Equal(all, listed.Json().GetProperty("streams").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(4, _server.RequestsOf("ListStreams").Count);

        var human = await _sandbox.RunAsync("streams", "list", "--endpoint", _server.Endpoint.ToString());
        CliAssert.Succeeded(human);
        Assert.Equal(all, human.StdoutLines);
    }

    [Fact]
    public async Task Explicit_endpoint_signs_with_the_credential_chain_not_dummy_keys()
    {
        _server.Handler = _ => LoopbackResponse.Ok("""{"StreamNames":[],"HasMoreStreams":false}""");
        _sandbox.Cli.SetEnvironment("AWS_ACCESS_KEY_ID", "AKIACHAINEXAMPLE0001");
        _sandbox.Cli.SetEnvironment("AWS_SECRET_ACCESS_KEY", "chain-secret");

        var listed = await _sandbox.RunAsync("streams", "list", "--endpoint", _server.Endpoint.ToString());

        CliAssert.Succeeded(listed);
        Assert.Contains("No streams.", listed.StdoutLines);
        var authorization = Assert.Single(_server.Requests).Authorization;
        Assert.Contains("Credential=AKIACHAINEXAMPLE0001/", authorization, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explicit_endpoint_with_profile_signs_with_the_profile()
    {
        _server.Handler = _ => LoopbackResponse.Ok("""{"StreamNames":["a"],"HasMoreStreams":false}""");
        // CliProcess points AWS_SHARED_CREDENTIALS_FILE at this file of the sandbox.
        _sandbox.WriteFile("no-aws-credentials", "[dev]\naws_access_key_id = AKIAPROFILEEXAMPLE01\naws_secret_access_key = profile-secret\n");

        var listed = await _sandbox.RunAsync("streams", "list", "--profile", "dev", "--endpoint", _server.Endpoint.ToString());

        CliAssert.Succeeded(listed);
        Assert.Equal(["a"], listed.StdoutLines);
        Assert.Contains("Credential=AKIAPROFILEEXAMPLE01/", Assert.Single(_server.Requests).Authorization, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explicit_endpoint_without_any_credentials_says_so()
    {
        _sandbox.Cli.SetEnvironment("AWS_ACCESS_KEY_ID", null);
        _sandbox.Cli.SetEnvironment("AWS_SECRET_ACCESS_KEY", null);

        var listed = await _sandbox.RunAsync("streams", "list", "--endpoint", _server.Endpoint.ToString());

        CliAssert.Failed(listed, ExitCodes.Unreachable, "No AWS credentials found");
        Assert.Empty(_server.Requests);
    }

    [Theory]
    [InlineData("ResourceNotFoundException", HttpStatusCode.BadRequest, ExitCodes.NotFound)]
    [InlineData("InvalidArgumentException", HttpStatusCode.BadRequest, ExitCodes.InvalidInput)]
    [InlineData("UnrecognizedClientException", HttpStatusCode.BadRequest, ExitCodes.Failure)]
    [InlineData("AccessDeniedException", HttpStatusCode.BadRequest, ExitCodes.Failure)]
    public async Task Service_errors_map_to_exit_codes_through_the_error_vocabulary(string code, HttpStatusCode status, int exitCode)
    {
        _server.Handler = _ => LoopbackResponse.Error(status, code, "scripted " + code);

        var described = await _sandbox.RunAsync("streams", "describe", "s1", "--endpoint", _server.Endpoint.ToString());

        CliAssert.Failed(described, exitCode, "scripted " + code);
    }

    [Fact]
    public async Task Kms_key_with_explicit_endpoints_but_no_kms_endpoint_is_a_usage_error()
    {
        // Before: the KMS client went to the region's real endpoint while Kinesis and DynamoDB were local.
        _server.Handler = _ => LoopbackResponse.Ok("""{"StreamDescriptionSummary":{"StreamName":"s1","StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s1","StreamStatus":"ACTIVE","OpenShardCount":1,"RetentionPeriodHours":24,"StreamCreationTimestamp":1700000000,"EnhancedMonitoring":[]}}""");

        var produced = await _sandbox.RunWithInputAsync("{\"userId\":\"u1\",\"email\":\"a@example.com\"}\n",
            "produce", "s1", "--encrypt-fields", "email", "--user-field", "userId", "--kms-key-id", "alias/cloud", "--endpoint", _server.Endpoint.ToString(), "--dynamodb-endpoint", _server.Endpoint.ToString());

        CliAssert.Failed(produced, ExitCodes.Usage, "--kms-endpoint");
        Assert.DoesNotContain(_server.Requests, r => r.Operation != "DescribeStreamSummary");
    }

    [Fact]
    public async Task Kms_endpoint_without_a_kms_key_is_a_usage_error()
    {
        _server.Handler = _ => LoopbackResponse.Ok("""{"StreamDescriptionSummary":{"StreamName":"s1","StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s1","StreamStatus":"ACTIVE","OpenShardCount":1,"RetentionPeriodHours":24,"StreamCreationTimestamp":1700000000,"EnhancedMonitoring":[]}}""");

        var produced = await _sandbox.RunWithInputAsync("{\"userId\":\"u1\",\"email\":\"a@example.com\"}\n",
            "produce", "s1", "--encrypt-fields", "email", "--user-field", "userId", "--kms-endpoint", _server.Endpoint.ToString(), "--endpoint", _server.Endpoint.ToString(), "--dynamodb-endpoint", _server.Endpoint.ToString());

        CliAssert.Failed(produced, ExitCodes.Usage, "--kms-endpoint needs --kms-key-id");
    }

    [Fact]
    public async Task Kms_endpoint_must_be_an_http_url()
    {
        var result = await _sandbox.RunAsync("streams", "list", "--kms-endpoint", "ftp://x", "--endpoint", _server.Endpoint.ToString());

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--kms-endpoint", result.Stderr, StringComparison.Ordinal);
    }
}
