using System.Net.Http.Headers;
using System.Security.Cryptography;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Signing;

namespace Cloud.Schemas.Glue;

/// <summary>
/// Signs Glue requests with SigV4 through AWSSDK.Core's public signing API (<see cref="AWSSigV4Signer"/>,
/// <see cref="AWSSigningRequest"/>, <see cref="AWSSigV4Parameters"/>), service name <c>glue</c>. The payload hash is
/// computed here and passed as <c>X-Amz-Content-SHA256</c>.
/// </summary>
internal sealed class GlueSigner : IDisposable
{
    /// <summary>SigV4 service name of AWS Glue.</summary>
    public const string ServiceName = "glue";

    private readonly RegionEndpoint _region;
    private AWSCredentials? _credentials;
    private DefaultAWSCredentialsIdentityResolver? _resolver;

    public GlueSigner(string region, AWSCredentials? credentials)
    {
        _region = RegionEndpoint.GetBySystemName(region);
        _credentials = credentials;
    }

    public static string HashPayload(ReadOnlySpan<byte> payload)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(payload, hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>Adds Authorization, X-Amz-Date, X-Amz-Content-SHA256 (and X-Amz-Security-Token for session credentials).</summary>
    public async ValueTask SignAsync(HttpRequestMessage message, string payloadSha256Hex, DateTimeOffset signedAt, CancellationToken cancellationToken)
    {
        AWSCredentials credentials = _credentials ?? await ResolveDefaultCredentialsAsync(cancellationToken).ConfigureAwait(false);
        var signingRequest = new AWSSigningRequest { HttpMethod = message.Method, RequestUri = message.RequestUri };
        CopyHeaders(message.Headers, signingRequest.Headers);
        if (message.Content is not null)
        {
            CopyHeaders(message.Content.Headers, signingRequest.Headers);
        }

        signingRequest.Headers["X-Amz-Content-SHA256"] = payloadSha256Hex;
        var parameters = new AWSSigV4Parameters
        {
            Credentials = credentials,
            Region = _region,
            Service = ServiceName,
            SignPayload = true,
            SignedAt = signedAt.UtcDateTime,
        };
        var result = await AWSSigV4Signer.SignAsync(signingRequest, parameters, cancellationToken).ConfigureAwait(false);
        foreach (var (name, value) in result.Headers)
        {
            message.Headers.Remove(name);
            message.Headers.TryAddWithoutValidation(name, value);
        }
    }

    private static void CopyHeaders(HttpHeaders from, IDictionary<string, string> to)
    {
        foreach (var header in from)
        {
            to[header.Key] = string.Join(",", header.Value);
        }
    }

    private async ValueTask<AWSCredentials> ResolveDefaultCredentialsAsync(CancellationToken cancellationToken)
    {
        // Resolved lazily so that building a client never probes anything.
        _resolver ??= new DefaultAWSCredentialsIdentityResolver();
        AWSCredentials resolved = await _resolver.ResolveIdentityAsync(null!, cancellationToken).ConfigureAwait(false);
        _credentials = resolved;
        return resolved;
    }

    public void Dispose() => _resolver?.Dispose();
}
