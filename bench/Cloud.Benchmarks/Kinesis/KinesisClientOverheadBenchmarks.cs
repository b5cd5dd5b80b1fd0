using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Amazon.Runtime;
using BenchmarkDotNet.Attributes;
using Cloud.Kinesis;
using Cloud.Kinesis.Internal;
using Cloud.Kinesis.Model;

namespace Cloud.Benchmarks.Kinesis;

/// <summary>
/// The client's own CPU cost (validate + serialize + hash + SigV4 + send + parse) against an in-memory handler,
/// versus the raw HttpClient cost of posting the same bytes and reading the same answer (the baseline).
/// The difference is what the client adds on top of HTTP; bench/results/client.md relates it to a real round trip.
/// Run: dotnet run -c Release --project bench/Cloud.Benchmarks -- --filter '*KinesisClientOverhead*' --job short
/// </summary>
[MemoryDiagnoser]
public class KinesisClientOverheadBenchmarks
{
    private static readonly MediaTypeHeaderValue JsonType = new("application/x-amz-json-1.1");
    private HttpClient _raw = null!;
    private KinesisClient _client = null!;
    private PutRecordsRequest _put = null!;
    private byte[] _putBody = null!;
    private byte[] _getBody = null!;
    private GetRecordsRequest _get = null!;
    private SigV4RequestSigner _signer = null!;

    [GlobalSetup]
    public void Setup()
    {
        var payload = new byte[200];
        Array.Fill(payload, (byte)'a');
        _put = new PutRecordsRequest
        {
            StreamName = "bench",
            Records = [.. Enumerable.Range(0, 500).Select(i => new PutRecordsRequestEntry { Data = payload, PartitionKey = $"pk-{i}" })],
        };
        _putBody = JsonSerializer.SerializeToUtf8Bytes(_put, KinesisJsonContext.Default.PutRecordsRequest);
        _get = new GetRecordsRequest { ShardIterator = "AAAAAAAAAAETYyAYzd665+8e0X7JTsASDM/Hr2rSwc0X2qz93iuA3udrjTH+ikQvpQk", Limit = 500 };
        _getBody = JsonSerializer.SerializeToUtf8Bytes(_get, KinesisJsonContext.Default.GetRecordsRequest);

        var putAnswer = JsonSerializer.SerializeToUtf8Bytes(new PutRecordsResponse
        {
            FailedRecordCount = 0,
            Records = [.. Enumerable.Range(0, 500).Select(i => new PutRecordsResultEntry { SequenceNumber = "49680494547992972950892070355576425501138339613913" + i.ToString("D6"), ShardId = "shardId-000000000001" })],
        }, KinesisJsonContext.Default.PutRecordsResponse);
        var getAnswer = JsonSerializer.SerializeToUtf8Bytes(new GetRecordsResponse
        {
            NextShardIterator = _get.ShardIterator,
            MillisBehindLatest = 0,
            Records = [.. Enumerable.Range(0, 500).Select(i => new Record
            {
                SequenceNumber = "49680494547992972950892070355576425501138339613913" + i.ToString("D6"),
                ApproximateArrivalTimestamp = DateTimeOffset.FromUnixTimeMilliseconds(1_545_084_650_987),
                Data = payload,
                PartitionKey = $"pk-{i}",
            })],
        }, KinesisJsonContext.Default.GetRecordsResponse);

        var handler = new InMemoryKinesis(putAnswer, getAnswer);
        _raw = new HttpClient(handler, disposeHandler: false);
        _client = new KinesisClient(new KinesisClientOptions
        {
            ServiceUrl = new Uri("http://127.0.0.1:4567/"),
            Region = "us-east-1",
            Credentials = new BasicAWSCredentials("test", "test"),
            HttpMessageHandler = handler,
        });
        _signer = new SigV4RequestSigner("us-east-1", new BasicAWSCredentials("test", "test"));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _raw.Dispose();
        _signer.Dispose();
    }

    [Benchmark(Baseline = true, Description = "raw HttpClient PutRecords bytes")]
    public Task<byte[]> RawPutRecords() => RawAsync("PutRecords", _putBody);

    [Benchmark(Description = "KinesisClient.PutRecordsAsync")]
    public async Task<int> ClientPutRecords() => (await _client.PutRecordsAsync(_put)).Records.Count;

    [Benchmark(Description = "raw HttpClient GetRecords bytes")]
    public Task<byte[]> RawGetRecords() => RawAsync("GetRecords", _getBody);

    [Benchmark(Description = "KinesisClient.GetRecordsAsync")]
    public async Task<int> ClientGetRecords() => (await _client.GetRecordsAsync(_get)).Records.Count;

    [Benchmark(Description = "serialize PutRecords: SerializeToUtf8Bytes")]
    public int SerializeToBytes() => JsonSerializer.SerializeToUtf8Bytes(_put, KinesisJsonContext.Default.PutRecordsRequest).Length;

    [Benchmark(Description = "serialize PutRecords: pooled Utf8JsonWriter")]
    public int SerializePooled()
    {
        using var buffer = new PooledBufferWriter(64 * 1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
            JsonSerializer.Serialize(writer, _put, KinesisJsonContext.Default.PutRecordsRequest);
        }

        return buffer.WrittenCount;
    }

    [Benchmark(Description = "SHA-256 + SigV4 sign of a PutRecords body")]
    public async Task<int> HashAndSign()
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1:4567/");
        message.Headers.TryAddWithoutValidation("X-Amz-Target", "Kinesis_20131202.PutRecords");
        await _signer.SignAsync(message, SigV4RequestSigner.HashPayload(_putBody), DateTimeOffset.UtcNow, default);
        return message.Headers.Count();
    }

    private async Task<byte[]> RawAsync(string operation, byte[] body)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1:4567/");
        message.Headers.TryAddWithoutValidation("X-Amz-Target", "Kinesis_20131202." + operation);
        message.Content = new ByteArrayContent(body);
        message.Content.Headers.ContentType = JsonType;
        using var response = await _raw.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
        return await response.Content.ReadAsByteArrayAsync();
    }

    /// <summary>Answers PutRecords/GetRecords with canned bytes after draining the request body.</summary>
    private sealed class InMemoryKinesis(byte[] putAnswer, byte[] getAnswer) : HttpMessageHandler
    {
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
}
