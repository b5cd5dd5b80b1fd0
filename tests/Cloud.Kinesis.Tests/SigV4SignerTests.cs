using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Amazon.Runtime;
using Cloud.Kinesis.Internal;

namespace Cloud.Kinesis.Tests;

/// <summary>
/// The signer (AWSSDK.Core's public <c>AWSSigV4Signer</c> behind <see cref="SigV4RequestSigner"/>) against AWS's published
/// SigV4 examples. AWSSDK.Core always signs <c>x-amz-content-sha256</c>, so the examples that match it byte for byte
/// are the ones AWS published with that header: "Signature Calculations for the Authorization Header: Transferring
/// Payload in a Single Chunk", https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
/// (credentials AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, 20130524T000000Z, us-east-1, s3).
/// The classic SigV4 test suite (get-vanilla etc., AKIDEXAMPLE, 20150830T123600Z, service "service") is used to
/// check an independent reference implementation, which then must agree with the SDK on real Kinesis requests.
/// </summary>
public sealed class SigV4SignerTests
{
    private const string S3AccessKey = "AKIAIOSFODNN7EXAMPLE";
    private const string S3SecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private const string SuiteAccessKey = "AKIDEXAMPLE";
    private const string SuiteSecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private static readonly DateTimeOffset S3ExampleTime = new(2013, 5, 24, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset SuiteTime = new(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);

    [Fact]
    public async Task Sdk_signer_reproduces_the_published_S3_GET_Object_example()
    {
        // "Example: GET Object": GET /test.txt, Range: bytes=0-9.
        using var message = new HttpRequestMessage(HttpMethod.Get, "https://examplebucket.s3.amazonaws.com/test.txt");
        message.Headers.Range = new RangeHeaderValue(0, 9);
        await S3Signer().SignAsync(message, EmptySha256, S3ExampleTime, default);

        Assert.Equal(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            Header(message, "Authorization"));
        Assert.Equal("20130524T000000Z", Header(message, "X-Amz-Date"));
        Assert.Equal(EmptySha256, Header(message, "X-Amz-Content-SHA256"));
    }

    [Fact]
    public async Task Sdk_signer_reproduces_the_published_S3_PUT_Object_example()
    {
        // "Example: PUT Object": PUT /test$file.text with body "Welcome to Amazon S3.", a Date and x-amz-storage-class.
        var body = "Welcome to Amazon S3."u8.ToArray();
        var payloadHash = SigV4RequestSigner.HashPayload(body);
        Assert.Equal("44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072", payloadHash);
        using var message = new HttpRequestMessage(HttpMethod.Put, "https://examplebucket.s3.amazonaws.com/test%24file.text");
        message.Headers.Date = new DateTimeOffset(2013, 5, 24, 0, 0, 0, TimeSpan.Zero);
        message.Headers.TryAddWithoutValidation("x-amz-storage-class", "REDUCED_REDUNDANCY");
        await S3Signer().SignAsync(message, payloadHash, S3ExampleTime, default);

        Assert.EndsWith(
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
            Header(message, "Authorization"));
    }

    [Theory]
    [InlineData("https://examplebucket.s3.amazonaws.com/?lifecycle", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")] // "Example: GET Bucket Lifecycle"
    [InlineData("https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")] // "Example: Get Bucket (List Objects)"
    public async Task Sdk_signer_reproduces_the_published_S3_bucket_examples(string url, string signature)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, url);
        await S3Signer().SignAsync(message, EmptySha256, S3ExampleTime, default);
        Assert.EndsWith("SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + signature, Header(message, "Authorization"));
    }

    // AWS SigV4 test suite (aws-sig-v4-test-suite, also quoted in the IAM user guide's "Create a signed AWS API request"):
    // get-vanilla, post-vanilla, get-vanilla-query-order-key-case.
    [Theory]
    [InlineData("GET", "https://example.amazonaws.com/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")]
    [InlineData("POST", "https://example.amazonaws.com/", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")]
    [InlineData("GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")]
    public void Reference_signer_reproduces_the_published_test_suite(string method, string url, string signature)
    {
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["host"] = "example.amazonaws.com", ["x-amz-date"] = "20150830T123600Z" };
        var canonical = ReferenceSigV4.CanonicalRequest(method, new Uri(url), headers, EmptySha256);
        if (url == "https://example.amazonaws.com/" && method == "GET")
        {
            // get-vanilla.sts publishes the canonical request's hash.
            Assert.Equal("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63", ReferenceSigV4.Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))));
        }

        Assert.Equal(signature, ReferenceSigV4.Signature(SuiteSecretKey, SuiteTime, "us-east-1", "service", canonical));
    }

    [Fact]
    public void Reference_signer_reproduces_the_published_S3_GET_Object_example()
    {
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = "examplebucket.s3.amazonaws.com", ["range"] = "bytes=0-9", ["x-amz-content-sha256"] = EmptySha256, ["x-amz-date"] = "20130524T000000Z",
        };
        var canonical = ReferenceSigV4.CanonicalRequest("GET", new Uri("https://examplebucket.s3.amazonaws.com/test.txt"), headers, EmptySha256);
        Assert.Equal("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41", ReferenceSigV4.Signature(S3SecretKey, S3ExampleTime, "us-east-1", "s3", canonical));
    }

    [Theory]
    [InlineData("http://127.0.0.1:4567/", null)]
    [InlineData("https://kinesis.eu-west-1.amazonaws.com/", null)]
    [InlineData("https://kinesis.eu-west-1.amazonaws.com/", "session-token-value")]
    public async Task Kinesis_request_signature_matches_the_reference_signer(string endpoint, string? sessionToken)
    {
        // A real PutRecords request as the client builds it: both Kinesis headers must be under the signature.
        var body = """{"StreamName":"orders","Records":[{"Data":"AQID","PartitionKey":"k"}]}"""u8.ToArray();
        var hash = SigV4RequestSigner.HashPayload(body);
        AWSCredentials credentials = sessionToken is null
            ? new BasicAWSCredentials(SuiteAccessKey, SuiteSecretKey)
            : new SessionAWSCredentials(SuiteAccessKey, SuiteSecretKey, sessionToken);
        using var signer = new SigV4RequestSigner("eu-west-1", credentials);
        using var message = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(body) };
        message.Headers.TryAddWithoutValidation("X-Amz-Target", "Kinesis_20131202.PutRecords");
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
        await signer.SignAsync(message, hash, SuiteTime, default);

        var uri = new Uri(endpoint);
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["content-type"] = "application/x-amz-json-1.1",
            ["host"] = uri.IsDefaultPort ? uri.Host : uri.Authority,
            ["x-amz-content-sha256"] = hash,
            ["x-amz-date"] = "20150830T123600Z",
            ["x-amz-target"] = "Kinesis_20131202.PutRecords",
        };
        if (sessionToken is not null)
        {
            headers["x-amz-security-token"] = sessionToken;
            Assert.Equal(sessionToken, Header(message, "X-Amz-Security-Token"));
        }

        var canonical = ReferenceSigV4.CanonicalRequest("POST", uri, headers, hash);
        var expected = $"AWS4-HMAC-SHA256 Credential={SuiteAccessKey}/20150830/eu-west-1/kinesis/aws4_request, SignedHeaders={string.Join(';', headers.Keys)}, Signature="
            + ReferenceSigV4.Signature(SuiteSecretKey, SuiteTime, "eu-west-1", "kinesis", canonical);
        Assert.Equal(expected, Header(message, "Authorization"));
    }

    [Fact]
    public async Task Signature_changes_with_the_body_hash()
    {
        using var signer = new SigV4RequestSigner("us-east-1", new BasicAWSCredentials(SuiteAccessKey, SuiteSecretKey));
        using var a = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1:4567/");
        using var b = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1:4567/");
        await signer.SignAsync(a, SigV4RequestSigner.HashPayload("{}"u8), SuiteTime, default);
        await signer.SignAsync(b, SigV4RequestSigner.HashPayload("{ }"u8), SuiteTime, default);
        Assert.NotEqual(Header(a, "Authorization"), Header(b, "Authorization"));
    }

    private static SigV4RequestSigner S3Signer() => new("us-east-1", new BasicAWSCredentials(S3AccessKey, S3SecretKey), "s3");

    private static string Header(HttpRequestMessage message, string name) => string.Join(",", message.Headers.GetValues(name));

    /// <summary>The documented algorithm, written out independently of the SDK (single-encoded paths, sorted query).</summary>
    private static class ReferenceSigV4
    {
        public static string CanonicalRequest(string method, Uri uri, SortedDictionary<string, string> headers, string payloadHash)
        {
            var query = uri.Query.TrimStart('?');
            var canonicalQuery = string.Join("&", (query.Length == 0 ? Array.Empty<string>() : query.Split("&"))
                .Select(p => p.Contains('=') ? p : p + "=")
                .Order(StringComparer.Ordinal));
            return string.Join('\n',
                method,
                uri.AbsolutePath,
                canonicalQuery,
                string.Concat(headers.Select(h => $"{h.Key}:{h.Value.Trim()}\n")),
                string.Join(';', headers.Keys),
                payloadHash);
        }

        public static string Signature(string secret, DateTimeOffset at, string region, string service, string canonicalRequest)
        {
            var date = at.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture);
            var scope = $"{date}/{region}/{service}/aws4_request";
            var stringToSign = string.Join('\n', "AWS4-HMAC-SHA256", at.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture), scope,
                Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest))));
            var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secret), date);
            key = Hmac(key, region);
            key = Hmac(key, service);
            key = Hmac(key, "aws4_request");
            return Hex(Hmac(key, stringToSign));
        }

        public static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

        private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));
    }
}
