using System.Net;
using Cloud.Kinesis.Internal;
using Cloud.Kinesis.Model;
using CsCheck;
using Microsoft.Extensions.Time.Testing;
using static Cloud.Kinesis.Tests.ClientTestSupport;

namespace Cloud.Kinesis.Tests;

public sealed class ErrorAndRetryTests
{
    private static readonly DescribeStreamSummaryRequest Describe = new() { StreamName = "s" };

    // Every error code of the Kinesis API reference (CommonErrors + each operation's Errors section).
    [Theory]
    [InlineData("ResourceNotFoundException", typeof(ResourceNotFoundException))]
    [InlineData("ResourceInUseException", typeof(ResourceInUseException))]
    [InlineData("InvalidArgumentException", typeof(InvalidArgumentException))]
    [InlineData("ExpiredIteratorException", typeof(ExpiredIteratorException))]
    [InlineData("ExpiredNextTokenException", typeof(ExpiredNextTokenException))]
    [InlineData("KMSAccessDeniedException", typeof(KMSAccessDeniedException))]
    [InlineData("KMSDisabledException", typeof(KMSDisabledException))]
    [InlineData("KMSInvalidStateException", typeof(KMSInvalidStateException))]
    [InlineData("KMSNotFoundException", typeof(KMSNotFoundException))]
    [InlineData("KMSOptInRequired", typeof(KMSOptInRequiredException))]
    [InlineData("AccessDeniedException", typeof(AccessDeniedException))]
    [InlineData("ValidationException", typeof(ValidationException))]
    [InlineData("UnrecognizedClientException", typeof(KinesisAuthenticationException))]
    [InlineData("InvalidSignatureException", typeof(KinesisAuthenticationException))]
    [InlineData("IncompleteSignature", typeof(KinesisAuthenticationException))]
    [InlineData("MissingAuthenticationToken", typeof(KinesisAuthenticationException))]
    [InlineData("ExpiredTokenException", typeof(KinesisAuthenticationException))]
    [InlineData("InvalidClientTokenId", typeof(KinesisAuthenticationException))]
    [InlineData("NotAuthorized", typeof(AccessDeniedException))]
    [InlineData("OptInRequired", typeof(AccessDeniedException))]
    [InlineData("RequestExpired", typeof(RequestExpiredException))]
    [InlineData("InvalidAction", typeof(KinesisInvalidRequestException))]
    [InlineData("InvalidParameterCombination", typeof(KinesisInvalidRequestException))]
    [InlineData("InvalidParameterValue", typeof(KinesisInvalidRequestException))]
    [InlineData("InvalidQueryParameter", typeof(KinesisInvalidRequestException))]
    [InlineData("MalformedQueryString", typeof(KinesisInvalidRequestException))]
    [InlineData("MissingAction", typeof(KinesisInvalidRequestException))]
    [InlineData("MissingParameter", typeof(KinesisInvalidRequestException))]
    [InlineData("SomethingNewException", typeof(KinesisServiceException))]
    public async Task Client_errors_map_to_typed_exceptions_and_are_not_retried(string code, Type expected)
    {
        var handler = new FakeKinesisHandler((_, _, _) => Task.FromResult(FakeKinesisHandler.Error("com.amazonaws.kinesis.v20131202#" + code, "what went wrong")));
        using var client = Client(handler, o => o.MaxRetries = 3);

        var ex = await Assert.ThrowsAnyAsync<KinesisServiceException>(() => client.DescribeStreamSummaryAsync(Describe));

        Assert.IsType(expected, ex);
        Assert.Equal(code, ex.ErrorCode);
        Assert.Equal("what went wrong", ex.ServiceMessage);
        Assert.Equal("req-1", ex.RequestId);
        Assert.Equal("DescribeStreamSummary", ex.Operation);
        Assert.Equal(HttpStatusCode.BadRequest, ex.StatusCode);
        Assert.Equal(1, handler.Calls);
    }

    [Theory]
    [InlineData("ProvisionedThroughputExceededException", typeof(ProvisionedThroughputExceededException), HttpStatusCode.BadRequest)]
    [InlineData("LimitExceededException", typeof(LimitExceededException), HttpStatusCode.BadRequest)]
    [InlineData("ThrottlingException", typeof(ThrottlingException), HttpStatusCode.BadRequest)]
    [InlineData("KMSThrottlingException", typeof(KMSThrottlingException), HttpStatusCode.BadRequest)]
    [InlineData("InternalFailure", typeof(InternalFailureException), HttpStatusCode.InternalServerError)]
    [InlineData("ServiceUnavailable", typeof(ServiceUnavailableException), HttpStatusCode.ServiceUnavailable)]
    public async Task Throttling_and_server_errors_are_retried_then_surface_typed(string code, Type expected, HttpStatusCode status)
    {
        var handler = new FakeKinesisHandler((_, _, _) => Task.FromResult(FakeKinesisHandler.Error(code, "slow down", status)));
        using var client = Client(handler, o => o.MaxRetries = 3);

        var ex = await Assert.ThrowsAnyAsync<KinesisServiceException>(() => client.DescribeStreamSummaryAsync(Describe));

        Assert.IsType(expected, ex);
        Assert.Equal(4, handler.Calls); // first attempt + MaxRetries
    }

    [Fact]
    public async Task A_throttled_call_that_later_succeeds_returns_the_result()
    {
        var handler = new FakeKinesisHandler((_, i, _) => Task.FromResult(i < 2
            ? FakeKinesisHandler.Error("ProvisionedThroughputExceededException")
            : FakeKinesisHandler.Ok("""{"ShardId":"shardId-000000000000","SequenceNumber":"1"}""")));
        using var client = Client(handler);

        var response = await client.PutRecordAsync(new PutRecordRequest { StreamName = "s", Data = new byte[] { 1 }, PartitionKey = "k" });

        Assert.Equal("1", response.SequenceNumber);
        Assert.Equal(3, handler.Calls);
        // Each attempt is signed afresh over the same body.
        Assert.Single(handler.Requests.Select(r => r.Body).Distinct());
    }

    [Fact]
    public async Task Error_code_comes_from_the_header_when_the_body_has_none_and_message_may_be_capitalised()
    {
        var handler = new FakeKinesisHandler((_, _, _) =>
        {
            var response = FakeKinesisHandler.Json(HttpStatusCode.BadRequest, """{"Message":"Stream s under account 1 not found."}""", "rid-9");
            response.Headers.TryAddWithoutValidation("x-amzn-ErrorType", "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.kinesis/");
            return Task.FromResult(response);
        });
        using var client = Client(handler);

        var ex = await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.DescribeStreamSummaryAsync(Describe));
        Assert.Equal("Stream s under account 1 not found.", ex.ServiceMessage);
        Assert.Equal("rid-9", ex.RequestId);
        Assert.Contains("rid-9", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_non_json_5xx_keeps_an_excerpt_and_is_retried()
    {
        var handler = new FakeKinesisHandler((_, _, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = new StringContent("<html>bad gateway</html>") }));
        using var client = Client(handler, o => o.MaxRetries = 2);

        var ex = await Assert.ThrowsAsync<KinesisServiceException>(() => client.DescribeStreamSummaryAsync(Describe));
        Assert.Equal("Http502", ex.ErrorCode);
        Assert.Contains("bad gateway", ex.ServiceMessage, StringComparison.Ordinal);
        Assert.Equal(3, handler.Calls);
    }

    [Fact]
    public async Task Network_failure_after_retries_is_a_transport_error_naming_endpoint_and_operation()
    {
        var handler = new FakeKinesisHandler((_, _, _) => throw new HttpRequestException("Connection refused (127.0.0.1:4567)"));
        using var client = Client(handler, o => o.MaxRetries = 2);

        var ex = await Assert.ThrowsAsync<KinesisTransportException>(() => client.ListStreamsAsync(new ListStreamsRequest()));

        Assert.Equal(3, handler.Calls);
        Assert.Equal("ListStreams", ex.Operation);
        Assert.Equal(Endpoint, ex.Endpoint);
        Assert.Contains("ListStreams to http://127.0.0.1:4567/", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Connection refused", ex.Message, StringComparison.Ordinal);
        Assert.IsType<HttpRequestException>(ex.InnerException);
    }

    [Fact]
    public async Task A_malformed_success_body_is_reported_not_retried()
    {
        var handler = new FakeKinesisHandler((_, _, _) => Task.FromResult(FakeKinesisHandler.Ok("""{"StreamNames":"oops"}""")));
        using var client = Client(handler, o => o.MaxRetries = 2);
        var ex = await Assert.ThrowsAsync<KinesisTransportException>(() => client.ListStreamsAsync(new ListStreamsRequest()));
        Assert.Contains("ListStreamsResponse", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public async Task Backoff_waits_follow_the_exponential_ceiling_on_the_injected_clock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var sentAt = new List<DateTimeOffset>();
        var handler = new FakeKinesisHandler((_, i, _) =>
        {
            lock (sentAt)
            {
                sentAt.Add(time.GetUtcNow());
            }

            return Task.FromResult(i < 3 ? FakeKinesisHandler.Error("ThrottlingException") : FakeKinesisHandler.Ok("""{"StreamNames":[],"HasMoreStreams":false}"""));
        });
        using var client = Client(handler, o =>
        {
            o.TimeProvider = time;
            o.BaseDelay = TimeSpan.FromSeconds(1);
            o.MaxDelay = TimeSpan.FromSeconds(3);
            o.Jitter = () => 1.0; // the ceiling itself: 1 s, 2 s, then capped at 3 s
        });

        await DriveAsync(time, client.ListStreamsAsync(new ListStreamsRequest()), TimeSpan.FromMilliseconds(250), TimeSpan.FromMinutes(1));

        var gaps = sentAt.Zip(sentAt.Skip(1), (a, b) => b - a).ToArray();
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3)], gaps);
    }

    [Fact]
    public void Backoff_delay_is_always_within_zero_and_the_bounded_ceiling()
    {
        Gen.Select(Gen.Int[0, 64], Gen.Int[0, 10_000], Gen.Int[0, 60_000], Gen.Double[0, 1])
            .Sample((attempt, baseMs, extraMs, random) =>
            {
                var baseDelay = TimeSpan.FromMilliseconds(baseMs);
                var maxDelay = baseDelay + TimeSpan.FromMilliseconds(extraMs);
                var delay = Backoff.Delay(attempt, baseDelay, maxDelay, random);
                var ceiling = TimeSpan.FromTicks((long)Math.Min(maxDelay.Ticks, baseDelay.Ticks * Math.Pow(2, Math.Min(attempt, 30))));
                return delay >= TimeSpan.Zero && delay <= maxDelay && delay <= ceiling;
            }, iter: 10_000);
    }

    [Fact]
    public async Task A_hung_attempt_times_out_and_the_retry_succeeds()
    {
        var time = new FakeTimeProvider();
        var handler = new FakeKinesisHandler(async (_, i, ct) =>
        {
            if (i == 0)
            {
                await Task.Delay(Timeout.Infinite, ct);
            }

            return FakeKinesisHandler.Ok("""{"StreamNames":["a"],"HasMoreStreams":false}""");
        });
        using var client = Client(handler, o =>
        {
            o.TimeProvider = time;
            o.AttemptTimeout = TimeSpan.FromSeconds(5);
        });

        var result = await DriveAsync(time, client.ListStreamsAsync(new ListStreamsRequest()), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));

        Assert.Equal(["a"], result.StreamNames);
        Assert.Equal(2, handler.Calls);
    }

    [Fact]
    public async Task Attempt_timeouts_on_every_try_end_in_a_transport_error()
    {
        var time = new FakeTimeProvider();
        var handler = new FakeKinesisHandler(async (_, _, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return FakeKinesisHandler.Ok();
        });
        using var client = Client(handler, o =>
        {
            o.TimeProvider = time;
            o.MaxRetries = 2;
            o.AttemptTimeout = TimeSpan.FromSeconds(5);
        });

        var ex = await Assert.ThrowsAsync<KinesisTransportException>(() =>
            DriveAsync(time, client.ListStreamsAsync(new ListStreamsRequest()), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1)));
        Assert.Equal(3, handler.Calls);
        Assert.IsType<TimeoutException>(ex.InnerException);
    }

    [Fact]
    public async Task The_overall_timeout_bounds_the_whole_call()
    {
        var time = new FakeTimeProvider();
        var handler = new FakeKinesisHandler(async (_, _, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return FakeKinesisHandler.Ok();
        });
        using var client = Client(handler, o =>
        {
            o.TimeProvider = time;
            o.AttemptTimeout = Timeout.InfiniteTimeSpan;
            o.OverallTimeout = TimeSpan.FromSeconds(10);
        });

        var ex = await Assert.ThrowsAsync<KinesisTransportException>(() =>
            DriveAsync(time, client.ListStreamsAsync(new ListStreamsRequest()), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1)));
        Assert.Contains("overall timeout", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public async Task Caller_cancellation_is_honoured_and_not_retried()
    {
        var started = new TaskCompletionSource();
        var handler = new FakeKinesisHandler(async (_, _, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return FakeKinesisHandler.Ok();
        });
        using var client = Client(handler);
        using var cts = new CancellationTokenSource();

        var call = client.ListStreamsAsync(new ListStreamsRequest(), cts.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public async Task An_already_cancelled_token_sends_nothing()
    {
        var handler = new FakeKinesisHandler(FakeKinesisHandler.Ok());
        using var client = Client(handler);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ListStreamsAsync(new ListStreamsRequest(), new CancellationToken(true)));
        Assert.Equal(0, handler.Calls);
    }

    [Fact]
    public async Task A_disposed_client_refuses_calls()
    {
        var handler = new FakeKinesisHandler(FakeKinesisHandler.Ok());
        var client = Client(handler);
        client.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.ListStreamsAsync(new ListStreamsRequest()));
    }

    [Theory]
    [InlineData("com.amazonaws.kinesis.v20131202#ResourceNotFoundException", "ResourceNotFoundException")]
    [InlineData("ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.kinesis/", "ResourceNotFoundException")]
    [InlineData(" LimitExceededException ", "LimitExceededException")]
    [InlineData("", null)]
    public void Error_codes_are_normalised(string raw, string? expected) => Assert.Equal(expected, KinesisErrors.NormalizeCode(raw));
}
