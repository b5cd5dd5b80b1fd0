using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Cloud.Emulators;

/// <summary>Which AWS service an endpoint serves.</summary>
internal enum EmulatedService
{
    Kinesis,
    DynamoDb,
}

/// <summary>Sends a real, harmless request (ListStreams / ListTables) to decide whether an endpoint is up.</summary>
internal static class EndpointProbe
{
    // The emulators need an Authorization header that looks like SigV4 but do not verify it.
    private const string FakeSignature = "0000000000000000000000000000000000000000000000000000000000000000";

    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromSeconds(5),
        ConnectTimeout = TimeSpan.FromSeconds(2),
    })
    {
        Timeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>Returns null when the endpoint answered the list call with 200, otherwise what it said.</summary>
    public static async Task<string?> ProbeAsync(Uri endpoint, EmulatedService service, string region, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var (target, contentType, serviceName, expected) = service switch
        {
            EmulatedService.Kinesis => ("Kinesis_20131202.ListStreams", "application/x-amz-json-1.1", "kinesis", "StreamNames"),
            _ => ("DynamoDB_20120810.ListTables", "application/x-amz-json-1.0", "dynamodb", "TableNames"),
        };

        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new StringContent("{}", Encoding.UTF8),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        var date = timeProvider.GetUtcNow().UtcDateTime; // a dummy signature's timestamp; the emulators never verify it
        request.Headers.TryAddWithoutValidation("X-Amz-Target", target);
        request.Headers.TryAddWithoutValidation("X-Amz-Date", date.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation(
            "Authorization",
            $"AWS4-HMAC-SHA256 Credential=test/{date:yyyyMMdd}/{region}/{serviceName}/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={FakeSignature}");

        try
        {
            using var response = await Http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.OK && body.Contains(expected, StringComparison.Ordinal)
                ? null
                : $"HTTP {(int)response.StatusCode}: {Truncate(body)}";
        }
        catch (HttpRequestException ex)
        {
            return ex.Message;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return "request timed out";
        }
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "...";
}
