using System.Net.Http.Headers;
using System.Security.Cryptography;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Signing;

namespace Cloud.Kinesis.Internal;

/// <summary>
/// Signs Kinesis requests with SigV4 through AWSSDK.Core's public signing API
/// (<see cref="AWSSigV4Signer"/>, <see cref="AWSSigningRequest"/>, <see cref="AWSSigV4Parameters"/>).
/// The payload hash is computed here over the pooled body and handed to the signer as
/// <c>X-Amz-Content-SHA256</c>, so the signer never needs a copy of the body.
/// </summary>
internal sealed class SigV4RequestSigner : IDisposable
{
    /// <summary>SigV4 service name of Kinesis Data Streams.</summary>
    public const string ServiceName = "kinesis";

    private readonly RegionEndpoint _region;
    private readonly string _service;
    private AWSCredentials? _credentials;
    private DefaultAWSCredentialsIdentityResolver? _resolver;

    public SigV4RequestSigner(string region, AWSCredentials? credentials, string service = ServiceName)
    {
        _region = RegionEndpoint.GetBySystemName(region);
        _service = service;
        _credentials = credentials;
    }

    /// <summary>Lower-case hex SHA-256 of the payload, as SigV4 wants it.</summary>
    public static string HashPayload(ReadOnlySpan<byte> payload)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(payload, hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>
    /// Computes the signature headers for <paramref name="message"/> (whose headers and content headers must
    /// already be final) and adds them: Authorization, X-Amz-Date, X-Amz-Content-SHA256 and, for session
    /// credentials, X-Amz-Security-Token.
    /// </summary>
    public async ValueTask SignAsync(HttpRequestMessage message, string payloadSha256Hex, DateTimeOffset signedAt, CancellationToken cancellationToken)
    {
        var credentials = _credentials ?? await ResolveDefaultCredentialsAsync(cancellationToken).ConfigureAwait(false);
        var signingRequest = new AWSSigningRequest
        {
            HttpMethod = message.Method,
            RequestUri = message.RequestUri,
        };
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
            Service = _service,
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
        // Resolved lazily so that building a client never probes anything; a benign race resolves twice.
        _resolver ??= new DefaultAWSCredentialsIdentityResolver();
        var resolved = await _resolver.ResolveIdentityAsync(null!, cancellationToken).ConfigureAwait(false);
        _credentials = resolved;
        return resolved;
    }

    /// <summary>Releases the default credentials resolver, if one was created.</summary>
    public void Dispose() => _resolver?.Dispose();
}
