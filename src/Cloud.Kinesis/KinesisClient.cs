using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Cloud.Kinesis.Internal;
using Cloud.Kinesis.Model;

namespace Cloud.Kinesis;

/// <summary>
/// Kinesis Data Streams client over the JSON 1.1 protocol (POST /, <c>X-Amz-Target: Kinesis_20131202.&lt;Op&gt;</c>),
/// signed with SigV4 by AWSSDK.Core. Thread-safe; create one per endpoint and reuse it (it owns one HTTP connection pool).
/// </summary>
/// <remarks>
/// Requests are validated before sending (<see cref="KinesisValidationException"/>); error answers become subclasses of
/// <see cref="KinesisServiceException"/>; throttling, 5xx, network faults and attempt timeouts are retried with
/// full-jitter exponential backoff; a call that cannot reach the endpoint ends in <see cref="KinesisTransportException"/>.
/// </remarks>
public sealed class KinesisClient : IKinesisClient, IDisposable
{
    private const string TargetPrefix = "Kinesis_20131202.";
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/x-amz-json-1.1");

    private readonly KinesisClientOptions _options;
    private readonly HttpClient _http;
    private readonly SigV4RequestSigner _signer;
    private readonly RequestValidator _validator;
    private readonly TimeProvider _time;
    private volatile bool _disposed;

    /// <summary>Builds a client; <paramref name="options"/> is validated and copied (later changes have no effect).</summary>
    /// <exception cref="ArgumentException">The options are invalid (every problem is listed).</exception>
    public KinesisClient(KinesisClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
        _time = _options.TimeProvider;
        Endpoint = _options.ResolveEndpoint();
        _validator = new RequestValidator(_options.MaxRecordSizeBytes);
        _signer = new SigV4RequestSigner(_options.SigningRegion, _options.Credentials);
        var handler = _options.HttpMessageHandler ?? new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        _http = new HttpClient(handler, disposeHandler: _options.HttpMessageHandler is null)
        {
            // Timeouts are enforced per attempt and per call with the injected TimeProvider.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>The endpoint requests go to.</summary>
    public Uri Endpoint { get; }

    /// <inheritdoc />
    public async Task CreateStreamAsync(CreateStreamRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestValidator.CreateStream(request);
        await SendAsync("CreateStream", request, Json.CreateStreamRequest, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<DescribeStreamSummaryResponse> DescribeStreamSummaryAsync(DescribeStreamSummaryRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestValidator.DescribeStreamSummary(request);
        return InvokeAsync("DescribeStreamSummary", request, Json.DescribeStreamSummaryRequest, Json.DescribeStreamSummaryResponse, cancellationToken);
    }

    /// <inheritdoc />
    public Task<ListStreamsResponse> ListStreamsAsync(ListStreamsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestValidator.ListStreams(request);
        return InvokeAsync("ListStreams", request, Json.ListStreamsRequest, Json.ListStreamsResponse, cancellationToken);
    }

    /// <inheritdoc />
    public Task<ListShardsResponse> ListShardsAsync(ListShardsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestValidator.ListShards(request);
        if (request.NextToken is not null)
        {
            // The token identifies the stream and position; the API rejects StreamName/ExclusiveStartShardId beside it.
            request = request with { StreamName = null, StreamARN = null, ExclusiveStartShardId = null };
        }

        return InvokeAsync("ListShards", request, Json.ListShardsRequest, Json.ListShardsResponse, cancellationToken);
    }

    /// <inheritdoc />
    public Task<PutRecordResponse> PutRecordAsync(PutRecordRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        _validator.PutRecord(request);
        return InvokeAsync("PutRecord", request, Json.PutRecordRequest, Json.PutRecordResponse, cancellationToken);
    }

    /// <inheritdoc />
    public Task<PutRecordsResponse> PutRecordsAsync(PutRecordsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        _validator.PutRecords(request);
        return InvokeAsync("PutRecords", request, Json.PutRecordsRequest, Json.PutRecordsResponse, cancellationToken);
    }

    /// <inheritdoc />
    public Task<GetShardIteratorResponse> GetShardIteratorAsync(GetShardIteratorRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestValidator.GetShardIterator(request);
        return InvokeAsync("GetShardIterator", request, Json.GetShardIteratorRequest, Json.GetShardIteratorResponse, cancellationToken);
    }

    /// <inheritdoc />
    public Task<GetRecordsResponse> GetRecordsAsync(GetRecordsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestValidator.GetRecords(request);
        return InvokeAsync("GetRecords", request, Json.GetRecordsRequest, Json.GetRecordsResponse, cancellationToken);
    }

    /// <inheritdoc />
    public Task<UpdateShardCountResponse> UpdateShardCountAsync(UpdateShardCountRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestValidator.UpdateShardCount(request);
        return InvokeAsync("UpdateShardCount", request, Json.UpdateShardCountRequest, Json.UpdateShardCountResponse, cancellationToken);
    }

    /// <inheritdoc />
    public Task SplitShardAsync(SplitShardRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestValidator.SplitShard(request);
        return SendAsync("SplitShard", request, Json.SplitShardRequest, cancellationToken);
    }

    /// <inheritdoc />
    public Task MergeShardsAsync(MergeShardsRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestValidator.MergeShards(request);
        return SendAsync("MergeShards", request, Json.MergeShardsRequest, cancellationToken);
    }

    /// <inheritdoc />
    public Task IncreaseStreamRetentionPeriodAsync(StreamRetentionPeriodRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestValidator.Retention("IncreaseStreamRetentionPeriod", request);
        return SendAsync("IncreaseStreamRetentionPeriod", request, Json.StreamRetentionPeriodRequest, cancellationToken);
    }

    /// <inheritdoc />
    public Task DecreaseStreamRetentionPeriodAsync(StreamRetentionPeriodRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestValidator.Retention("DecreaseStreamRetentionPeriod", request);
        return SendAsync("DecreaseStreamRetentionPeriod", request, Json.StreamRetentionPeriodRequest, cancellationToken);
    }

    /// <inheritdoc />
    public Task StartStreamEncryptionAsync(StartStreamEncryptionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestValidator.StartStreamEncryption(request);
        return SendAsync("StartStreamEncryption", request, Json.StartStreamEncryptionRequest, cancellationToken);
    }

    /// <inheritdoc />
    public Task AddTagsToStreamAsync(AddTagsToStreamRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestValidator.AddTagsToStream(request);
        return SendAsync("AddTagsToStream", request, Json.AddTagsToStreamRequest, cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteStreamAsync(DeleteStreamRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestValidator.DeleteStream(request);
        return SendAsync("DeleteStream", request, Json.DeleteStreamRequest, cancellationToken);
    }

    /// <inheritdoc />
    public Task<RegisterStreamConsumerResponse> RegisterStreamConsumerAsync(RegisterStreamConsumerRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestValidator.RegisterStreamConsumer(request);
        return InvokeAsync("RegisterStreamConsumer", request, Json.RegisterStreamConsumerRequest, Json.RegisterStreamConsumerResponse, cancellationToken);
    }

    /// <inheritdoc />
    public Task<ListStreamConsumersResponse> ListStreamConsumersAsync(ListStreamConsumersRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestValidator.ListStreamConsumers(request);
        return InvokeAsync("ListStreamConsumers", request, Json.ListStreamConsumersRequest, Json.ListStreamConsumersResponse, cancellationToken);
    }

    /// <inheritdoc />
    public Task DeregisterStreamConsumerAsync(DeregisterStreamConsumerRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestValidator.DeregisterStreamConsumer(request);
        return SendAsync("DeregisterStreamConsumer", request, Json.DeregisterStreamConsumerRequest, cancellationToken);
    }

    /// <summary>Lists a stream's tags (one page). Not on <see cref="IKinesisClient"/>; used to verify <see cref="AddTagsToStreamAsync"/>.</summary>
    public Task<ListTagsForStreamResponse> ListTagsForStreamAsync(ListTagsForStreamRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestValidator.ListTagsForStream(request);
        return InvokeAsync("ListTagsForStream", request, Json.ListTagsForStreamRequest, Json.ListTagsForStreamResponse, cancellationToken);
    }

    /// <summary>Closes the connection pool (and the handler, if the client created it).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _http.Dispose();
        _signer.Dispose();
    }

    private static KinesisJsonContext Json => KinesisJsonContext.Default;

    private async Task SendAsync<TRequest>(string operation, TRequest request, JsonTypeInfo<TRequest> requestInfo, CancellationToken cancellationToken) =>
        await InvokeAsync<TRequest, object>(operation, request, requestInfo, null, cancellationToken).ConfigureAwait(false);

    private async Task<TResponse> InvokeAsync<TRequest, TResponse>(
        string operation, TRequest request, JsonTypeInfo<TRequest> requestInfo, JsonTypeInfo<TResponse>? responseInfo, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();

        using var body = new PooledBufferWriter(operation == "PutRecords" ? 64 * 1024 : 1024);
        using (var writer = new Utf8JsonWriter(body, new JsonWriterOptions { SkipValidation = true }))
        {
            JsonSerializer.Serialize(writer, request, requestInfo);
        }

        var payloadHash = SigV4RequestSigner.HashPayload(body.WrittenSpan);
        using var overall = new TimeoutScope(_options.OverallTimeout, _time, cancellationToken);
        using var responseBody = new PooledBufferWriter(4096);
        Exception? lastFailure = null;
        for (var attempt = 0; ; attempt++)
        {
            using var perAttempt = new TimeoutScope(_options.AttemptTimeout, _time, overall.Token);
            var token = perAttempt.Token;
            try
            {
                using var message = new HttpRequestMessage(HttpMethod.Post, Endpoint);
                message.Headers.TryAddWithoutValidation("X-Amz-Target", TargetPrefix + operation);
                message.Content = new ReadOnlyMemoryContent(body.WrittenMemory);
                message.Content.Headers.ContentType = JsonContentType;
                await _signer.SignAsync(message, payloadHash, _time.GetUtcNow(), token).ConfigureAwait(false);

                using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
                responseBody.Clear();
                await ReadBodyAsync(response.Content, responseBody, token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return Deserialize(operation, responseBody.WrittenSpan, responseInfo);
                }

                var error = KinesisErrors.FromResponse(
                    operation, response.StatusCode, responseBody.WrittenSpan, Header(response, "x-amzn-ErrorType"), Header(response, "x-amzn-RequestId"));
                if (!KinesisErrors.IsRetryable(error) || attempt >= _options.MaxRetries)
                {
                    throw error;
                }

                lastFailure = error;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (OperationCanceledException ex) when (overall.TimedOut)
            {
                throw new KinesisTransportException(operation, Endpoint,
                    $"no answer within the overall timeout of {_options.OverallTimeout} (attempt {attempt + 1})", lastFailure ?? ex);
            }
            catch (OperationCanceledException ex) when (perAttempt.TimedOut)
            {
                lastFailure = new TimeoutException($"attempt {attempt + 1} timed out after {_options.AttemptTimeout}", ex);
            }
            catch (HttpRequestException ex)
            {
                lastFailure = ex;
            }
            catch (IOException ex)
            {
                lastFailure = ex;
            }

            if (attempt >= _options.MaxRetries)
            {
                throw (KinesisException?)(lastFailure as KinesisServiceException)
                    ?? new KinesisTransportException(operation, Endpoint, $"failed after {attempt + 1} attempt(s): {lastFailure!.Message}", lastFailure);
            }

            var delay = Backoff.Delay(attempt, _options.BaseDelay, _options.MaxDelay, _options.Jitter());
            try
            {
                await Task.Delay(delay, _time, overall.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (OperationCanceledException ex)
            {
                // The overall budget ran out while backing off: report the last real failure.
                throw (KinesisException?)(lastFailure as KinesisServiceException)
                    ?? new KinesisTransportException(operation, Endpoint,
                        $"gave up after {attempt + 1} attempt(s) within the overall timeout of {_options.OverallTimeout}: {lastFailure?.Message}", lastFailure ?? ex);
            }
        }
    }

    private TResponse Deserialize<TResponse>(string operation, ReadOnlySpan<byte> json, JsonTypeInfo<TResponse>? info)
    {
        if (info is null)
        {
            return default!;
        }

        try
        {
            return JsonSerializer.Deserialize(json, info)
                ?? throw new JsonException("The response body was null.");
        }
        catch (JsonException ex)
        {
            throw new KinesisTransportException(operation, Endpoint, $"returned a response that is not a valid {typeof(TResponse).Name}: {ex.Message}", ex);
        }
    }

    private static async Task ReadBodyAsync(HttpContent content, PooledBufferWriter into, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is { } length and > 0 and < int.MaxValue)
        {
            into.EnsureFree((int)length);
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            while (true)
            {
                var read = await stream.ReadAsync(into.GetMemory(16 * 1024), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                into.Advance(read);
            }
        }
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    /// <summary>A token cancelled by the caller's token or by a timeout measured on the injected clock.</summary>
    private sealed class TimeoutScope : IDisposable
    {
        private readonly CancellationTokenSource? _timeout;
        private readonly CancellationTokenSource _linked;

        public TimeoutScope(TimeSpan timeout, TimeProvider time, CancellationToken parent)
        {
            if (timeout == Timeout.InfiniteTimeSpan)
            {
                _linked = CancellationTokenSource.CreateLinkedTokenSource(parent);
                return;
            }

            _timeout = new CancellationTokenSource(timeout, time);
            _linked = CancellationTokenSource.CreateLinkedTokenSource(parent, _timeout.Token);
        }

        public CancellationToken Token => _linked.Token;

        public bool TimedOut => _timeout?.IsCancellationRequested == true;

        public void Dispose()
        {
            _linked.Dispose();
            _timeout?.Dispose();
        }
    }
}
