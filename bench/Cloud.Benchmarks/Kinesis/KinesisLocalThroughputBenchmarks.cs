using System.Diagnostics;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Amazon.Runtime;
using BenchmarkDotNet.Attributes;
using Cloud.Kinesis;

namespace Cloud.Benchmarks.Kinesis;

/// <summary>
/// PutRecords (500 × 200 B) and GetRecords (500 records) against one running kinesis-local, AWS's .NET client
/// (AWSSDK.Kinesis, as the project uses it) versus
/// <c>@aws-sdk/client-kinesis</c> (Node, bench/node/client/kinesis-worker.js) in the same run on the same stream.
/// Needs <c>CLOUD_KINESIS_ENDPOINT</c> (a running emulator) and <c>NODE_PATH</c> (a node_modules holding the pinned
/// @aws-sdk/client-kinesis, e.g. the harness's tools/emulators install). records/s = 500 ÷ mean.
/// Run: dotnet run -c Release --project bench/Cloud.Benchmarks -- --filter '*KinesisLocalThroughput*' --job short
/// </summary>
[MemoryDiagnoser]
public class KinesisLocalThroughputBenchmarks
{
    private const int Records = 500;
    private AmazonKinesisClient _client = null!;
    private Process _node = null!;
    private string _stream = null!;
    private string _readShard = null!;
    private PutRecordsRequest _put = null!;
    private HttpClient _raw = null!;
    private byte[] _rawPutBody = null!;
    private Uri _endpoint = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var endpoint = Environment.GetEnvironmentVariable("CLOUD_KINESIS_ENDPOINT")
            ?? throw new InvalidOperationException("Set CLOUD_KINESIS_ENDPOINT to a running kinesis-local (e.g. http://127.0.0.1:4567).");
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        _client = KinesisClientFactory.Create(new KinesisConnectionOptions
        {
            ServiceUrl = new Uri(endpoint),
            Region = "us-east-1",
            Credentials = new BasicAWSCredentials("test", "test"),
        });
        _stream = "bench-" + Guid.NewGuid().ToString("N")[..10];
        await _client.CreateStreamAsync(new CreateStreamRequest { StreamName = _stream, ShardCount = 4 });
        await _client.WaitForStreamActiveAsync(_stream);
        var payload = new byte[200];
        Array.Fill(payload, (byte)'a');
        _put = new PutRecordsRequest
        {
            StreamName = _stream,
            Records = [.. Enumerable.Range(0, Records).Select(i => new PutRecordsRequestEntry { Data = new MemoryStream(payload, writable: false), PartitionKey = $"pk-{i}" })],
        };

        // A read shard holding at least 500 records: every key to one shard through ExplicitHashKey.
        _readShard = (await _client.ListAllShardsAsync(_stream))[0].ShardId;
        await _client.PutRecordsAsync(new PutRecordsRequest
        {
            StreamName = _stream,
            Records = [.. Enumerable.Range(0, Records).Select(i => new PutRecordsRequestEntry { Data = new MemoryStream(payload, writable: false), PartitionKey = $"pk-{i}", ExplicitHashKey = "0" })],
        });

        // Raw HTTP baseline: the same JSON bytes posted with a fixed (unchecked by the emulator) signature header.
        _endpoint = new Uri(endpoint);
        _raw = new HttpClient();
        var base64 = Convert.ToBase64String(payload);
        _rawPutBody = System.Text.Encoding.UTF8.GetBytes($"{{\"StreamName\":\"{_stream}\",\"Records\":[" + string.Join(',', Enumerable.Range(0, Records).Select(i => $"{{\"Data\":\"{base64}\",\"PartitionKey\":\"pk-{i}\"}}")) + "]}");

        _node = StartNodeWorker(endpoint, _stream);
        await NodeAsync("ping");
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        if (_node is not null)
        {
            _node.StandardInput.Close();
            if (!_node.WaitForExit(5000))
            {
                _node.Kill();
            }

            _node.Dispose();
        }

        await _client.DeleteStreamAsync(new DeleteStreamRequest { StreamName = _stream });
        _client.Dispose();
        _raw.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Node @aws-sdk/client-kinesis PutRecords 500x200B")]
    public Task<string> NodePutRecords() => NodeAsync("put");

    [Benchmark(Description = "AWSSDK.Kinesis PutRecords 500x200B")]
    public async Task<int> CloudPutRecords() => (await _client.PutRecordsAsync(_put)).FailedRecordCount ?? 0;

    [Benchmark(Description = "raw HttpClient PutRecords 500x200B (pre-serialized, unsigned)")]
    public async Task<int> RawPutRecords()
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, _endpoint);
        message.Headers.TryAddWithoutValidation("X-Amz-Target", "Kinesis_20131202.PutRecords");
        message.Headers.TryAddWithoutValidation("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00");
        message.Headers.TryAddWithoutValidation("X-Amz-Date", "20260101T000000Z");
        message.Content = new ByteArrayContent(_rawPutBody);
        message.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-amz-json-1.1");
        using var response = await _raw.SendAsync(message);
        return (await response.EnsureSuccessStatusCode().Content.ReadAsByteArrayAsync()).Length;
    }

    [Benchmark(Description = "Node @aws-sdk/client-kinesis GetRecords 500")]
    public Task<string> NodeGetRecords() => NodeAsync("get " + _readShard);

    [Benchmark(Description = "AWSSDK.Kinesis GetRecords 500")]
    public async Task<int> CloudGetRecords()
    {
        var iterator = await _client.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = _stream, ShardId = _readShard, ShardIteratorType = ShardIteratorType.TRIM_HORIZON });
        return (await _client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator.ShardIterator, Limit = Records })).Records.Count;
    }

    /// <summary>
    /// The same calls interleaved round by round (Node put, SDK put, raw put, Node get, SDK get), so emulator drift and
    /// machine load hit every client alike; reports the median wall time of each and the CPU time each client's process
    /// spent per PutRecords (this process for the SDK and raw HTTP, the worker's process for Node).
    /// Run: dotnet run -c Release --project bench/Cloud.Benchmarks -- local-probe [rounds]
    /// </summary>
    public static async Task<string> MeasureInterleavedAsync(int rounds)
    {
        var bench = new KinesisLocalThroughputBenchmarks();
        await bench.SetupAsync();
        try
        {
            var wall = new Dictionary<string, List<double>>(StringComparer.Ordinal);
            var cpu = new Dictionary<string, double>(StringComparer.Ordinal);
            async Task TimeAsync(string name, Func<Task> call, Process? cpuOf)
            {
                var process = cpuOf ?? Process.GetCurrentProcess();
                process.Refresh();
                var cpuBefore = process.TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                await call();
                clock.Stop();
                process.Refresh();
                cpu[name] = cpu.GetValueOrDefault(name) + (process.TotalProcessorTime - cpuBefore).TotalMilliseconds;
                (wall.TryGetValue(name, out var list) ? list : wall[name] = []).Add(clock.Elapsed.TotalMilliseconds);
            }

            for (var round = -1; round < rounds; round++)
            {
                if (round == 0)
                {
                    wall.Clear(); // round -1 warms every path up
                    cpu.Clear();
                }

                await TimeAsync("node put", bench.NodePutRecords, bench._node);
                await TimeAsync("sdk put", bench.CloudPutRecords, null);
                await TimeAsync("raw put", bench.RawPutRecords, null);
                await TimeAsync("node get", bench.NodeGetRecords, bench._node);
                await TimeAsync("sdk get", bench.CloudGetRecords, null);
            }

            static double Median(List<double> values)
            {
                var sorted = values.Order().ToList();
                return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
            }

            return string.Join(Environment.NewLine, wall.Select(w => string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{w.Key,-9} median {Median(w.Value),8:F1} ms (min {w.Value.Min(),8:F1}, max {w.Value.Max(),8:F1}) → {Records / Median(w.Value) * 1000,7:F0} records/s; client CPU {cpu[w.Key] / rounds,6:F2} ms/op")));
        }
        finally
        {
            await bench.CleanupAsync();
        }
    }

    private async Task<string> NodeAsync(string command)
    {
        await _node.StandardInput.WriteLineAsync(command);
        await _node.StandardInput.FlushAsync();
        var answer = await _node.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("The Node worker exited.");
        return answer.StartsWith("ok", StringComparison.Ordinal) ? answer : throw new InvalidOperationException("Node worker: " + answer);
    }

    private static Process StartNodeWorker(string endpoint, string stream)
    {
        var script = FindUp(Path.Combine("bench", "node", "client", "kinesis-worker.js"));
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(script);
        info.ArgumentList.Add(endpoint);
        info.ArgumentList.Add(stream);
        info.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        if (Environment.GetEnvironmentVariable("NODE_PATH") is null)
        {
            info.Environment["NODE_PATH"] = Path.Combine(Path.GetDirectoryName(FindUp(Path.Combine("tools", "emulators", "package.json")))!, "node_modules");
        }

        return Process.Start(info) ?? throw new InvalidOperationException("Could not start node.");
    }

    private static string FindUp(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"Could not find {relative} above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}.");
    }
}
