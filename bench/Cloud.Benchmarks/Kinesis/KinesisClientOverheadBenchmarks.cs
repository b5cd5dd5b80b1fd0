using System.Diagnostics;
using System.Globalization;
using System.Text;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Amazon.Runtime;
using BenchmarkDotNet.Attributes;

namespace Cloud.Benchmarks.Kinesis;

/// <summary>
/// AWS's client's own CPU cost (marshal + SHA-256 + SigV4 + send + unmarshal) against an in-memory handler, versus
/// the raw HttpClient cost of posting the same bytes and reading the same answer (the baseline). The difference is
/// what the client adds on top of HTTP; bench/results/client.md relates it to a real round trip and to the retired
/// hand-written client. <see cref="MeasureCpu"/> is the process-CPU-time probe used for the per-call figure.
/// Run: dotnet run -c Release --project bench/Cloud.Benchmarks -- --filter '*KinesisClientOverhead*' --job short --inProcess
/// CPU probe: dotnet run -c Release --project bench/Cloud.Benchmarks -- cpu-probe
/// </summary>
[MemoryDiagnoser]
public class KinesisClientOverheadBenchmarks
{
    private const int Records = 500;
    private HttpClient _raw = null!;
    private AmazonKinesisClient _client = null!;
    private PutRecordsRequest _put = null!;
    private byte[] _putBody = null!;
    private byte[] _getBody = null!;
    private GetRecordsRequest _get = null!;

    [GlobalSetup]
    public void Setup()
    {
        var payload = new byte[200];
        Array.Fill(payload, (byte)'a');
        _put = new PutRecordsRequest
        {
            StreamName = "bench",
            Records = [.. Enumerable.Range(0, Records).Select(i => new PutRecordsRequestEntry { Data = new MemoryStream(payload, writable: false), PartitionKey = $"pk-{i}" })],
        };
        var base64 = Convert.ToBase64String(payload);
        _putBody = Encoding.UTF8.GetBytes("{\"StreamName\":\"bench\",\"Records\":[" + string.Join(',', Enumerable.Range(0, Records).Select(i => $"{{\"Data\":\"{base64}\",\"PartitionKey\":\"pk-{i}\"}}")) + "]}");
        _get = new GetRecordsRequest { ShardIterator = "AAAAAAAAAAETYyAYzd665+8e0X7JTsASDM/Hr2rSwc0X2qz93iuA3udrjTH+ikQvpQk", Limit = Records };
        _getBody = Encoding.UTF8.GetBytes($"{{\"ShardIterator\":\"{_get.ShardIterator}\",\"Limit\":{Records}}}");

        var putAnswer = Encoding.UTF8.GetBytes("{\"FailedRecordCount\":0,\"Records\":[" + string.Join(',', Enumerable.Range(0, Records).Select(i =>
            $"{{\"SequenceNumber\":\"49680494547992972950892070355576425501138339613913{i.ToString("D6", CultureInfo.InvariantCulture)}\",\"ShardId\":\"shardId-000000000001\"}}")) + "]}");
        var getAnswer = Encoding.UTF8.GetBytes($"{{\"NextShardIterator\":\"{_get.ShardIterator}\",\"MillisBehindLatest\":0,\"Records\":[" + string.Join(',', Enumerable.Range(0, Records).Select(i =>
            $"{{\"SequenceNumber\":\"49680494547992972950892070355576425501138339613913{i.ToString("D6", CultureInfo.InvariantCulture)}\",\"ApproximateArrivalTimestamp\":1545084650.987,\"Data\":\"{base64}\",\"PartitionKey\":\"pk-{i}\"}}")) + "]}");

        var handler = new InMemoryKinesisHandler(putAnswer, getAnswer);
        _raw = new HttpClient(handler, disposeHandler: false);
        _client = new AmazonKinesisClient(new BasicAWSCredentials("test", "test"), new AmazonKinesisConfig
        {
            ServiceURL = "http://127.0.0.1:4567/",
            AuthenticationRegion = "us-east-1",
            MaxErrorRetry = 0,
            HttpClientFactory = new HandlerHttpClientFactory(handler),
        });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _raw.Dispose();
    }

    [Benchmark(Baseline = true, Description = "raw HttpClient PutRecords bytes")]
    public Task<byte[]> RawPutRecords() => RawAsync("PutRecords", _putBody);

    [Benchmark(Description = "AmazonKinesisClient.PutRecordsAsync")]
    public async Task<int> ClientPutRecords()
    {
        Rewind();
        return (await _client.PutRecordsAsync(_put)).Records.Count;
    }

    [Benchmark(Description = "raw HttpClient GetRecords bytes")]
    public Task<byte[]> RawGetRecords() => RawAsync("GetRecords", _getBody);

    [Benchmark(Description = "AmazonKinesisClient.GetRecordsAsync")]
    public async Task<int> ClientGetRecords() => (await _client.GetRecordsAsync(_get)).Records.Count;

    /// <summary>
    /// Process CPU time per call (user + system, all threads) over <paramref name="calls"/> calls after a warm-up,
    /// best of <paramref name="rounds"/>: robust on a shared, loaded machine where wall-clock times are inflated.
    /// </summary>
    public static (double PutMicros, double GetMicros, double RawPutMicros, double PutAllocatedKiB) MeasureCpu(int calls = 300, int rounds = 5)
    {
        var bench = new KinesisClientOverheadBenchmarks();
        bench.Setup();
        try
        {
            double Best(Func<Task> call)
            {
                for (var i = 0; i < 30; i++)
                {
                    call().GetAwaiter().GetResult();
                }

                var best = double.MaxValue;
                for (var r = 0; r < rounds; r++)
                {
                    var start = Process.GetCurrentProcess().TotalProcessorTime;
                    for (var i = 0; i < calls; i++)
                    {
                        call().GetAwaiter().GetResult();
                    }

                    best = Math.Min(best, (Process.GetCurrentProcess().TotalProcessorTime - start).TotalMicroseconds / calls);
                }

                return best;
            }

            var put = Best(bench.ClientPutRecords);
            var get = Best(bench.ClientGetRecords);
            var raw = Best(bench.RawPutRecords);
            var before = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < calls; i++)
            {
                bench.ClientPutRecords().GetAwaiter().GetResult();
            }

            var allocated = (GC.GetTotalAllocatedBytes(precise: true) - before) / 1024.0 / calls;
            return (put, get, raw, allocated);
        }
        finally
        {
            bench.Cleanup();
        }
    }

    /// <summary>The SDK reads each entry's MemoryStream: put them back at the start for the next call.</summary>
    private void Rewind()
    {
        foreach (var entry in _put.Records)
        {
            entry.Data.Position = 0;
        }
    }

    private async Task<byte[]> RawAsync(string operation, byte[] body)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1:4567/");
        message.Headers.TryAddWithoutValidation("X-Amz-Target", "Kinesis_20131202." + operation);
        message.Content = new ByteArrayContent(body);
        message.Content.Headers.ContentType = InMemoryKinesisHandler.JsonType;
        using var response = await _raw.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
        return await response.Content.ReadAsByteArrayAsync();
    }
}
