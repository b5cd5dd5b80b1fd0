using System.Net;
using System.Net.Http.Headers;
using Amazon.Runtime;

namespace Cloud.Benchmarks.Kinesis;

/// <summary>Answers PutRecords/GetRecords with canned JSON 1.1 bytes after draining the request body: HTTP at near-zero cost.</summary>
internal sealed class InMemoryKinesisHandler(byte[] putAnswer, byte[] getAnswer) : HttpMessageHandler
{
    public static readonly MediaTypeHeaderValue JsonType = new("application/x-amz-json-1.1");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        await request.Content!.CopyToAsync(Stream.Null, cancellationToken);
        var target = request.Headers.GetValues("X-Amz-Target").First();
        var answer = target.EndsWith("PutRecords", StringComparison.Ordinal) ? putAnswer : getAnswer;
        var content = new ByteArrayContent(answer);
        content.Headers.ContentType = JsonType;
        content.Headers.ContentLength = answer.Length;
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
    }
}

/// <summary>Gives AWS's client an HttpClient over a given handler (the SDK's documented extension point).</summary>
internal sealed class HandlerHttpClientFactory(HttpMessageHandler handler) : HttpClientFactory
{
    public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(handler, disposeHandler: false);

    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

    public override string GetConfigUniqueString(IClientConfig clientConfig) => "in-memory";
}
