using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Cloud.Kinesis.Tests;

/// <summary>An in-memory HTTP endpoint: records every request and answers from a script.</summary>
internal sealed class FakeKinesisHandler : HttpMessageHandler
{
    private readonly Func<RecordedRequest, int, CancellationToken, Task<HttpResponseMessage>> _respond;

    public FakeKinesisHandler(Func<RecordedRequest, int, CancellationToken, Task<HttpResponseMessage>> respond) => _respond = respond;

    public FakeKinesisHandler(params HttpResponseMessage[] responses)
        : this((_, i, _) => Task.FromResult(responses[Math.Min(i, responses.Length - 1)]))
    {
    }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public int Calls => Requests.Count;

    public static HttpResponseMessage Json(HttpStatusCode status, string json, string? requestId = null)
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, "application/x-amz-json-1.1") };
        if (requestId is not null)
        {
            response.Headers.TryAddWithoutValidation("x-amzn-RequestId", requestId);
        }

        return response;
    }

    public static HttpResponseMessage Ok(string json = "") => Json(HttpStatusCode.OK, json);

    public static HttpResponseMessage Error(string type, string message = "boom", HttpStatusCode status = HttpStatusCode.BadRequest) =>
        Json(status, $$"""{"__type":"{{type}}","message":"{{message}}"}""", "req-1");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        var recorded = new RecordedRequest(
            request.Method,
            request.RequestUri!,
            request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase),
            request.Content?.Headers.ContentType?.ToString(),
            body);
        var index = Requests.Count;
        Requests.Enqueue(recorded);
        return await _respond(recorded, index, cancellationToken);
    }
}

internal sealed record RecordedRequest(HttpMethod Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, string? ContentType, string Body)
{
    public string Target => Headers["X-Amz-Target"];
}
