using System.Diagnostics;
using System.Text.Json;
using Cloud.Emulators;

namespace Cloud.Benchmarks.Report.Sections;

/// <summary>
/// End to end: the built <c>cloud pipeline</c> (generator → field encryption → producer → kinesis-local → two local
/// event-source mappings → Aggregator → dynalite) run as a user runs it, with and without <c>--enforce-limits</c>,
/// sampled once a second through its own web dashboard (<c>--web 0</c>, <c>GET /snapshot</c>): events/s in and
/// out, consumer lag, throttles; the run's <c>--json</c> summary for the totals.
/// </summary>
internal sealed class PipelineSection : IReportSection
{
    private const double Rate = 2_000;
    private const int Shards = 2;

    public string Id => "pipeline";

    public int Order => 50;

    public string Title => "End to end: cloud pipeline with and without enforced Kinesis limits";

    public async Task<SectionResult> RunAsync(ReportContext context, CancellationToken cancellationToken)
    {
        int seconds = context.Scale(75, 15);
        ReportContext.Log("pipeline: starting kinesis-local and dynalite");
        await using var host = await EmulatorHost.StartAsync(new EmulatorOptions(), cancellationToken);
        string scratch = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "cloud-bench-pipeline-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        try
        {
            // Unreported warm-up: the first run creates the per-user keys of the most active users (dynalite writes);
            // the measured runs then share the key table and master key, as two runs of one deployment would.
            int warmUp = context.Scale(15, 5);
            ReportContext.Log($"pipeline: warm-up, {warmUp} s");
            await RunPipelineAsync("warm-up", [], host, scratch, warmUp, cancellationToken);
            var runs = new List<PipelineRun>();
            foreach (var (label, flags) in new (string, string[])[]
            {
                ("without limits (kinesis-local as it is)", Array.Empty<string>()),
                ("--enforce-limits", ["--enforce-limits"]),
            })
            {
                ReportContext.Log($"pipeline: {label}, {seconds} s at {Rate:N0} events/s");
                runs.Add(await RunPipelineAsync(label, flags, host, scratch, seconds, cancellationToken));
            }

            return Render(context, runs, seconds);
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static SectionResult Render(ReportContext context, List<PipelineRun> runs, int seconds)
    {
        var rows = runs.Select(r => (IReadOnlyList<string>)[
            r.Label,
            r.Summary is null ? "failed: " + r.Failure : Markdown.N(r.Durable / (double)seconds),
            Markdown.N(r.MeanOut),
            Markdown.N(r.MaxRecordsBehind),
            Markdown.N(r.MaxMillisBehind / 1000.0, 1) + " s",
            Markdown.N(r.Produced),
            Markdown.N(r.Durable),
            Markdown.N(r.DeliveryFailures),
            r.ThrottledRecords is { } t ? Markdown.N(t) : "—",
            r.ThrottledReads is { } g ? Markdown.N(g) : "—",
        ]).ToList();

        string inPlot = context.SavePlot("pipeline-events", $"cloud pipeline: events/s made durable ({Rate:N0} offered, {Shards} shards)", plt =>
        {
            foreach (var r in runs.Where(r => r.Samples.Count > 0))
            {
                var line = plt.Add.Scatter(r.Samples.Select(s => s.At).ToArray(), r.Samples.Select(s => s.In).ToArray());
                line.LegendText = r.Label;
                line.MarkerSize = 3;
            }

            plt.ShowLegend(ScottPlot.Alignment.LowerRight);
            plt.XLabel("seconds");
            plt.YLabel("events/s (5 s average)");
            plt.Axes.SetLimitsY(0, Math.Max(1, runs.SelectMany(r => r.Samples).Select(x => x.In).DefaultIfEmpty(1).Max()) * 1.15);
        });
        string lagPlot = context.SavePlot("pipeline-lag", "cloud pipeline: consumer lag (Kinesis records behind, all shards)", plt =>
        {
            foreach (var r in runs.Where(r => r.Samples.Count > 0))
            {
                var line = plt.Add.Scatter(r.Samples.Select(s => s.At).ToArray(), r.Samples.Select(s => (double)s.RecordsBehind).ToArray());
                line.LegendText = r.Label;
                line.MarkerSize = 3;
            }

            plt.ShowLegend(ScottPlot.Alignment.UpperLeft);
            plt.XLabel("seconds");
            plt.YLabel("records behind");
            plt.Axes.SetLimitsY(0, Math.Max(1, runs.SelectMany(r => r.Samples).Select(x => (double)x.RecordsBehind).DefaultIfEmpty(1).Max()) * 1.15);
        });

        string markdown = $"""
            `cloud pipeline --rate {Rate:N0} --shards {Shards} --duration {seconds}` (clickstream, field encryption,
            pseudonymous keys, two local event-source mappings feeding the Aggregator, dynalite tables) run as a process on
            this machine's kinesis-local and dynalite, sampled each second through its own dashboard (`--web 0`,
            `GET /snapshot`); totals from its `--json` summary. With `--enforce-limits` the producer and both mappings go
            through the proxy that enforces 1,000 records/s and 1 MiB/s per shard and 5 GetRecords/s per shard. A short
            warm-up run first (not shown) creates the most active users' keys, which both measured runs then share.

            {Markdown.Table(["run", "durable events/s (total ÷ duration)", "consumer Kinesis records/s", "max records behind", "max lag", "produced", "durable", "delivery failures", "throttled records", "throttled GetRecords"], rows)}

            {inPlot}

            {lagPlot}

            {Narrative(runs, seconds)}
            """;

        var baseline = runs[0];
        var limited = runs[1];
        var headlines = new List<Headline>
        {
            new("End to end: cloud pipeline durable events/s, --enforce-limits ÷ without",
                Markdown.N(limited.Durable / (double)seconds), Markdown.N(baseline.Durable / (double)seconds),
                Markdown.Ratio(limited.Durable / (double)Math.Max(1, baseline.Durable))),
            new("End to end: max consumer lag with --enforce-limits (without)",
                Markdown.N(limited.MaxMillisBehind / 1000.0, 1) + " s", Markdown.N(baseline.MaxMillisBehind / 1000.0, 1) + " s", ""),
        };
        return new SectionResult(markdown, headlines);
    }

    private static async Task<PipelineRun> RunPipelineAsync(string label, string[] flags, EmulatorHost host, string scratch, int seconds, CancellationToken ct)
    {
        string tool = Path.Combine(AppContext.BaseDirectory, "cloud.dll");
        var info = new ProcessStartInfo(Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = scratch,
        };
        string[] args =
        [
            tool, "pipeline", "--stream", "bench-pipeline-" + Guid.NewGuid().ToString("N")[..8], "--rate", Rate.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--shards", Shards.ToString(System.Globalization.CultureInfo.InvariantCulture), "--duration", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--web", "0", "--json", "--master-key-file", Path.Combine(scratch, "master.key"),
            "--endpoint", host.KinesisEndpoint.ToString(), "--dynamodb-endpoint", host.DynamoDbEndpoint.ToString(), .. flags,
        ];
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["AWS_EC2_METADATA_DISABLED"] = "true",
            ["AWS_REGION"] = "us-east-1",
            ["AWS_DEFAULT_REGION"] = "us-east-1",
            ["AWS_ACCESS_KEY_ID"] = "test",
            ["AWS_SECRET_ACCESS_KEY"] = "test",
            ["AWS_CONFIG_FILE"] = Path.Combine(scratch, "no-aws-config"),
            ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(scratch, "no-aws-credentials"),
            ["CLOUD_STATE_FILE"] = Path.Combine(scratch, "state", "local-stack.json"),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        })
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
        process.StandardInput.Close();
        var dashboard = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                dashboard.TrySetCanceled();
                return;
            }

            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }

            if (e.Data.StartsWith("Dashboard: ", StringComparison.Ordinal))
            {
                dashboard.TrySetResult(new Uri(e.Data["Dashboard: ".Length..].Trim()));
            }
        };
        process.BeginErrorReadLine();
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var exited = process.WaitForExitAsync(ct);

        var samples = new List<Sample>();
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(seconds + 180));
        try
        {
            var url = await dashboard.Task.WaitAsync(deadline.Token);
            var clock = (Stopwatch?)null;
            while (!exited.IsCompleted)
            {
                try
                {
                    using var doc = JsonDocument.Parse(await http.GetStringAsync(new Uri(url, "snapshot"), deadline.Token));
                    var s = doc.RootElement;
                    string status = s.TryGetProperty("status", out var st) ? st.GetString() ?? "" : "";
                    if (status.StartsWith("running", StringComparison.Ordinal))
                    {
                        clock ??= Stopwatch.StartNew();
                        long behind = 0, ms = 0;
                        foreach (var shard in s.GetProperty("shards").EnumerateArray())
                        {
                            behind += shard.TryGetProperty("recordsBehind", out var b) && b.ValueKind == JsonValueKind.Number ? b.GetInt64() : 0;
                            ms = Math.Max(ms, shard.GetProperty("millisBehindLatest").GetInt64());
                        }

                        samples.Add(new Sample(clock.Elapsed.TotalSeconds, s.GetProperty("recordsInPerSecond").GetDouble(), s.GetProperty("recordsOutPerSecond").GetDouble(), behind, ms));
                    }
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException) when (!deadline.IsCancellationRequested)
                {
                }

                await Task.WhenAny(exited, Task.Delay(1000, deadline.Token));
            }

            await exited;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            return new PipelineRun(label, samples, null, "did not finish in time; stderr: " + Tail(stderr));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        string output = await stdout;
        string? summaryLine = output.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith('{'));
        if (summaryLine is null)
        {
            return new PipelineRun(label, samples, null, $"exit code {process.ExitCode}, no --json summary; stderr: " + Tail(stderr));
        }

        return new PipelineRun(label, samples, JsonDocument.Parse(summaryLine).RootElement.Clone(), null);
    }

    /// <summary>What the runs showed, from their numbers (the machine decides what bites, not this text).</summary>
    private static string Narrative(List<PipelineRun> runs, int seconds)
    {
        var baseline = runs[0];
        var limited = runs[1];
        if (baseline.Summary is null || limited.Summary is null)
        {
            return "A run failed (see the table); no comparison.";
        }

        double offered = Rate;
        double made = Math.Max(baseline.Durable, limited.Durable) / (double)seconds;
        var text = new System.Text.StringBuilder();
        text.Append(Markdown.F($"With `--enforce-limits` the pipeline made {limited.Durable / (double)seconds:N0} events/s durable, without it {baseline.Durable / (double)seconds:N0} ({Markdown.Ratio(limited.Durable / (double)Math.Max(1, baseline.Durable))}). "));
        text.Append(limited.ThrottledRecords is 0
            ? "The proxy refused no write: aggregated, the producer's Kinesis records stayed under 1,000 records/s and 1 MiB/s per shard. "
            : Markdown.F($"The proxy refused {limited.ThrottledRecords:N0} Kinesis records, which the producer retried ({limited.DeliveryFailures:N0} given up). "));
        if (limited.ThrottledReads is > 0)
        {
            text.Append(Markdown.F($"It refused {limited.ThrottledReads:N0} GetRecords calls: the two event-source mappings share each shard's 5 reads/s, as two Lambda mappings on one stream do, and retry after ProvisionedThroughputExceeded (max lag {limited.MaxMillisBehind / 1000.0:N1} s, {baseline.MaxMillisBehind / 1000.0:N1} s without). "));
        }

        if (baseline.DeliveryFailures > 0 || limited.DeliveryFailures > 0)
        {
            text.Append(Markdown.F($"The producer gave up {baseline.DeliveryFailures:N0} events without limits and {limited.DeliveryFailures:N0} with them after its 30 s record TTL: kinesis-local stored records more slowly than they came"));
            text.Append(limited.ThrottledRecords is 0
                ? " (with no write throttled, the emulator and the shared cores, not the limits, held them back; with the flag the proxy also parses every PutRecords body on the same cores). "
                : ". ");
        }

        if (made < 0.9 * offered)
        {
            text.Append(Markdown.F($"{offered:N0} events/s were asked for; this machine made at most {made:N0}/s (per-user key lookups and field encryption, the Aggregator and both emulators on 2 shared cores), so the machine, not Kinesis, set the pace."));
        }

        return text.ToString();
    }

    private static string Tail(System.Text.StringBuilder text)
    {
        lock (text)
        {
            var s = text.ToString().Trim();
            return s.Length <= 400 ? s : s[^400..];
        }
    }

    private sealed record Sample(double At, double In, double Out, long RecordsBehind, long MillisBehind);

    private sealed record PipelineRun(string Label, List<Sample> Samples, JsonElement? Summary, string? Failure)
    {
        public long Produced => Number("produced");

        public long Durable => Number("durable");

        public long DeliveryFailures => Number("deliveryFailures");

        public long? ThrottledRecords => Summary is { } s && s.TryGetProperty("throttledRecords", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

        public long? ThrottledReads => Summary is { } s && s.TryGetProperty("throttledReads", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

        public double MeanOut => Samples.Count == 0 ? 0 : Samples.Average(s => s.Out);

        public long MaxRecordsBehind => Samples.Count == 0 ? 0 : Samples.Max(s => s.RecordsBehind);

        public long MaxMillisBehind => Samples.Count == 0 ? 0 : Samples.Max(s => s.MillisBehind);

        private long Number(string name) => Summary is { } s && s.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;
    }
}
