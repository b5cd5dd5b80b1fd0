using System.Diagnostics;
using System.Globalization;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Amazon.Runtime;
using Cloud.Emulators;
using Cloud.Kinesis;

namespace Cloud.Benchmarks.Report.Sections;

/// <summary>
/// AWSSDK.Kinesis (as the project uses it) vs Node's <c>@aws-sdk/client-kinesis</c>: the same PutRecords (500 × 200 B)
/// and GetShardIterator + GetRecords (500) against one canned loopback endpoint in a third process
/// (bench/node/client/canned-kinesis.js), rounds interleaved, CPU of each client's own process per call.
/// </summary>
internal sealed class KinesisClientSection : IReportSection
{
    private const int Records = 500;

    public string Id => "client";

    public int Order => 46;

    public string Title => "Kinesis client: AWSSDK.Kinesis vs @aws-sdk/client-kinesis";

    public async Task<SectionResult> RunAsync(ReportContext context, CancellationToken cancellationToken)
    {
        var tools = await NodeTools.EnsureAsync(cancellationToken);
        using var server = StartNode(tools, context.PathOf("bench", "node", "client", "canned-kinesis.js"));
        string listening = await server.StandardOutput.ReadLineAsync(cancellationToken) ?? throw new InvalidOperationException("canned-kinesis.js exited before listening.");
        string endpoint = "http://127.0.0.1:" + listening.Split(' ')[1];
        using var worker = StartNode(tools, context.PathOf("bench", "node", "client", "kinesis-worker.js"), endpoint, "bench");
        try
        {
            using var client = KinesisClientFactory.Create(new KinesisConnectionOptions
            {
                ServiceUrl = new Uri(endpoint),
                Region = "us-east-1",
                Credentials = new BasicAWSCredentials("test", "test"),
                MaxErrorRetry = 0,
            });
            var payload = new byte[200];
            Array.Fill(payload, (byte)'a');
            var put = new PutRecordsRequest
            {
                StreamName = "bench",
                Records = [.. Enumerable.Range(0, Records).Select(i => new PutRecordsRequestEntry { Data = new MemoryStream(payload, writable: false), PartitionKey = $"pk-{i}" })],
            };

            async Task SdkPut()
            {
                foreach (var entry in put.Records)
                {
                    entry.Data.Position = 0;
                }

                var response = await client.PutRecordsAsync(put, cancellationToken);
                if (response.Records.Count != Records)
                {
                    throw new InvalidOperationException("PutRecords answer with the wrong number of entries.");
                }
            }

            async Task SdkGet()
            {
                var iterator = await client.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = "bench", ShardId = "shardId-000000000001", ShardIteratorType = ShardIteratorType.TRIM_HORIZON }, cancellationToken);
                var records = await client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator.ShardIterator, Limit = Records }, cancellationToken);
                if (records.Records.Count != Records)
                {
                    throw new InvalidOperationException("GetRecords answer with the wrong number of records.");
                }
            }

            int rounds = context.Scale(9, 3);
            int calls = context.Scale(200, 40);
            var samples = new Dictionary<string, List<(double WallUs, double CpuUs)>>(StringComparer.Ordinal);
            void Add(string name, double wallUs, double cpuUs) => (samples.TryGetValue(name, out var list) ? list : samples[name] = []).Add((wallUs, cpuUs));

            await Ask(worker, "ping", cancellationToken);
            for (int round = -1; round < rounds; round++)
            {
                foreach (var (what, sdk) in new[] { ("put", (Func<Task>)SdkPut), ("get", SdkGet) })
                {
                    var node = (await Ask(worker, $"loop {what} {calls} shardId-000000000001", cancellationToken)).Split(' ');
                    var (wall, cpu) = await TimeSdkAsync(sdk, calls);
                    if (round >= 0)
                    {
                        Add("node " + what, double.Parse(node[1], CultureInfo.InvariantCulture) * 1000 / calls, double.Parse(node[2], CultureInfo.InvariantCulture) * 1000 / calls);
                        Add("sdk " + what, wall, cpu);
                    }
                }
            }

            static double Median(IEnumerable<double> values)
            {
                var sorted = values.Order().ToArray();
                return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
            }

            double Cpu(string name) => Median(samples[name].Select(s => s.CpuUs));
            double Wall(string name) => Median(samples[name].Select(s => s.WallUs));
            var rows = new List<IReadOnlyList<string>>();
            foreach (var (what, label) in new[] { ("put", "PutRecords 500 × 200 B"), ("get", "GetShardIterator + GetRecords 500") })
            {
                rows.Add([label, Markdown.N(Cpu("sdk " + what)) + " µs", Markdown.N(Cpu("node " + what)) + " µs", Markdown.Ratio(Cpu("node " + what) / Cpu("sdk " + what)),
                    Markdown.N(Wall("sdk " + what)) + " µs", Markdown.N(Wall("node " + what)) + " µs", Markdown.Ratio(Wall("node " + what) / Wall("sdk " + what))]);
            }

            string plot = context.SavePlot("client-cpu", "Client CPU per call (µs, lower is better)", plt =>
            {
                var bars = new List<ScottPlot.Bar>();
                string[] ops = ["put", "get"];
                for (int i = 0; i < ops.Length; i++)
                {
                    bars.Add(new ScottPlot.Bar { Position = i * 3, Value = Cpu("sdk " + ops[i]), FillColor = ScottPlot.Colors.SteelBlue, Label = "AWSSDK.Kinesis" });
                    bars.Add(new ScottPlot.Bar { Position = i * 3 + 1, Value = Cpu("node " + ops[i]), FillColor = ScottPlot.Colors.Gray, Label = "Node" });
                }

                plt.Add.Bars(bars);
                plt.Axes.Bottom.SetTicks([0.5, 3.5], ["PutRecords 500", "GetShardIterator + GetRecords 500"]);
                plt.YLabel("CPU µs per call (blue: AWSSDK.Kinesis, gray: Node SDK)");
                plt.Axes.Margins(bottom: 0);
            });

            double putRatio = Cpu("node put") / Cpu("sdk put");
            double getRatio = Cpu("node get") / Cpu("sdk get");
            string markdown = $"""
                Both clients make the same calls against one canned Kinesis endpoint on loopback (`bench/node/client/canned-kinesis.js`,
                its own process: valid JSON 1.1 answers, 500 records of 200 bytes), so everything measured is client work:
                marshal, SHA-256 payload hash + SigV4, HTTP/1.1 keep-alive, parse. The Node side is `@aws-sdk/client-kinesis`
                (pinned in `tools/emulators`) in a long-lived worker (`bench/node/client/kinesis-worker.js`, `loop` command);
                the .NET side is `AmazonKinesisClient` from `KinesisClientFactory` (single attempt). {rounds} interleaved rounds
                of {calls} sequential calls per client; medians of the per-round means. CPU = the client process's user +
                system time per call (`process.cpuUsage()` for Node, `Process.TotalProcessorTime` for .NET, both include their
                runtimes' GC and I/O threads). Ratios are Node ÷ .NET (above 1: the .NET client is cheaper or faster).

                {Markdown.Table(["call", ".NET CPU / call", "Node CPU / call", "CPU ratio", ".NET wall / call", "Node wall / call", "wall ratio"], rows)}
                {plot}

                Against kinesis-local itself the two clients are within the emulator's noise (it takes 0.1–5 s per PutRecords
                here; see `bench/results/client.md`): the emulator, not the client, is the bottleneck there.
                """;
            return new SectionResult(markdown,
            [
                new Headline("PutRecords 500 × 200 B, client CPU per call vs Node SDK", Markdown.N(Cpu("sdk put")) + " µs", Markdown.N(Cpu("node put")) + " µs", Markdown.Ratio(putRatio), "≥1.0×", putRatio >= 1 ? "met" : "missed"),
                new Headline("GetRecords 500, client CPU per call vs Node SDK", Markdown.N(Cpu("sdk get")) + " µs", Markdown.N(Cpu("node get")) + " µs", Markdown.Ratio(getRatio), "≥1.0×", getRatio >= 1 ? "met" : "missed"),
            ]);
        }
        finally
        {
            worker.StandardInput.Close();
            server.StandardInput.Close();
            if (!worker.WaitForExit(5000))
            {
                worker.Kill(entireProcessTree: true);
            }

            if (!server.WaitForExit(5000))
            {
                server.Kill(entireProcessTree: true);
            }
        }
    }

    private static async Task<(double WallUs, double CpuUs)> TimeSdkAsync(Func<Task> call, int calls)
    {
        using var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < calls; i++)
        {
            await call();
        }

        clock.Stop();
        self.Refresh();
        return (clock.Elapsed.TotalMicroseconds / calls, (self.TotalProcessorTime - cpu).TotalMicroseconds / calls);
    }

    private static async Task<string> Ask(Process worker, string command, CancellationToken cancellationToken)
    {
        await worker.StandardInput.WriteLineAsync(command.AsMemory(), cancellationToken);
        await worker.StandardInput.FlushAsync(cancellationToken);
        string answer = await worker.StandardOutput.ReadLineAsync(cancellationToken) ?? throw new InvalidOperationException("The Node worker exited.");
        return answer.StartsWith("ok", StringComparison.Ordinal) ? answer : throw new InvalidOperationException("Node worker: " + answer);
    }

    private static Process StartNode(NodeTools tools, string script, params string[] arguments)
    {
        var info = new ProcessStartInfo(tools.NodeExecutable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["NODE_PATH"] = tools.NodeModulesPath;
        info.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        info.Environment["NODE_NO_WARNINGS"] = "1"; // the SDK's "Node 20" notice is not a result
        return Process.Start(info) ?? throw new InvalidOperationException("Could not start node.");
    }
}
