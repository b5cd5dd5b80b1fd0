using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Cloud.Cli.Infrastructure;
using Cloud.Cli.Tests.Infrastructure;
using Cloud.Testing;

namespace Cloud.Cli.Tests;

/// <summary>The web views: <c>cloud pipeline --web</c> and <c>cloud dashboard STREAM</c>, and <c>--otlp-endpoint</c>.</summary>
[Collection(CliCollection.Name)]
public sealed class DashboardTests(EmulatorFixture fixture) : IDisposable
{
    private static readonly string MasterKey = Path.Combine(AppContext.BaseDirectory, "pipeline-tests-master.key");
    private readonly CliSandbox _sandbox = new(fixture);

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Pipeline_with_web_serves_snapshots_while_it_runs_and_keeps_the_json_summary()
    {
        var stream = EmulatorFixture.UniqueName("cli-pipeline-web");
        var url = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);

        var run = _sandbox.OnEmulatorsWatchingAsync(
            line =>
            {
                if (line.StartsWith("Dashboard: ", StringComparison.Ordinal))
                {
                    url.TrySetResult(new Uri(line["Dashboard: ".Length..]));
                }
            },
            "pipeline", "--stream", stream, "--duration", "8", "--rate", "200", "--web", "0", "--json", "--master-key-file", MasterKey);
        var polled = await PollSnapshotsAsync(url.Task, run, s => s.TryGetProperty("totals", out var t) && t.GetProperty("durable").GetInt64() > 0);
        var result = await run;

        CliAssert.Succeeded(result);
        Assert.True(polled.Matched is not null, "no /snapshot answer showed durable records while the pipeline ran; answers: " + polled.Answers + "\n" + result);
        var snapshot = polled.Matched!.Value;
        Assert.Equal(stream, snapshot.GetProperty("stream").GetString());
        Assert.True(snapshot.GetProperty("shards").GetArrayLength() >= 2);
        Assert.Equal("127.0.0.1", (await url.Task).Host);
        // The summary on stdout is unchanged by the web view.
        Assert.True(result.Json().GetProperty("durable").GetInt64() > 0);
    }

    [Fact]
    public async Task Pipeline_with_web_on_a_busy_port_names_the_port_exits_2_and_creates_nothing()
    {
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port;
        var stream = EmulatorFixture.UniqueName("cli-pipeline-busy");

        var result = await _sandbox.OnEmulatorsAsync("pipeline", "--stream", stream, "--duration", "2", "--web", port.ToString(CultureInfo.InvariantCulture), "--json", "--master-key-file", MasterKey);

        CliAssert.Failed(result, ExitCodes.Usage, port.ToString(CultureInfo.InvariantCulture), "in use");
        var described = await _sandbox.OnEmulatorsAsync("streams", "describe", stream, "--json");
        CliAssert.Failed(described, ExitCodes.NotFound);
    }

    [Fact]
    public async Task Dashboard_verb_tails_a_running_stream()
    {
        var stream = await _sandbox.CreateStreamAsync("cli-dashboard", 2);
        var url = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = _sandbox.OnEmulatorsWatchingAsync(
            line =>
            {
                if (line.StartsWith("Dashboard: ", StringComparison.Ordinal))
                {
                    url.TrySetResult(new Uri(line["Dashboard: ".Length..]));
                }
            },
            "dashboard", stream, "--duration", "10", "--json");
        var producing = Task.Run(async () =>
        {
            await url.Task.WaitAsync(TimeSpan.FromSeconds(60));
            for (var round = 0; round < 3 && !run.IsCompleted; round++)
            {
                var lines = Enumerable.Range(0, 50).Select(i => $$"""{"userId":"u{{i}}","n":{{i}}}""");
                CliAssert.Succeeded(await _sandbox.OnEmulatorsWithInputAsync(string.Join('\n', lines) + "\n", "produce", stream, "--key-field", "userId", "--json"));
            }
        });
        var polled = await PollSnapshotsAsync(url.Task, run, s => s.GetProperty("shards").EnumerateArray().Any(x => x.GetProperty("recordsPerSecond").GetDouble() > 0));
        var result = await run;
        await producing;

        CliAssert.Succeeded(result);
        Assert.True(polled.Matched is not null, "the dashboard never showed records/s on a shard; answers: " + polled.Answers + "\n" + result);
        Assert.Equal(stream, polled.Matched!.Value.GetProperty("stream").GetString());
        Assert.Equal(2, polled.Matched!.Value.GetProperty("shards").GetArrayLength());
        Assert.Equal(2, result.Json().GetProperty("shards").GetInt32());
    }

    [Fact]
    public async Task Dashboard_verb_on_a_missing_stream_is_not_found()
    {
        var result = await _sandbox.OnEmulatorsAsync("dashboard", EmulatorFixture.UniqueName("cli-dashboard-missing"), "--duration", "1");

        CliAssert.Failed(result, ExitCodes.NotFound, "does not exist");
    }

    [Fact]
    public async Task Produce_with_an_unreachable_otlp_endpoint_keeps_running_and_says_so_once()
    {
        var stream = await _sandbox.CreateStreamAsync("cli-otlp", 1);
        int closedPort;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var lines = Enumerable.Range(0, 20).Select(i => $$"""{"userId":"u{{i}}","n":{{i}}}""");
        var result = await _sandbox.OnEmulatorsWithInputAsync(string.Join('\n', lines) + "\n", "produce", stream, "--key-field", "userId", "--json", "--otlp-endpoint", $"http://127.0.0.1:{closedPort}");

        CliAssert.Succeeded(result);
        Assert.Equal(20, result.Json().GetProperty("durable").GetInt64());
        var said = result.StderrLines.Count(l => l.Contains("telemetry export failed", StringComparison.Ordinal));
        Assert.True(said == 1, "expected the export failure exactly once on stderr:\n" + result.Stderr);
    }

    [Fact]
    public async Task Otlp_endpoint_that_is_not_a_url_is_a_usage_error()
    {
        var result = await _sandbox.OnEmulatorsAsync("produce", "s", "--otlp-endpoint", "not a url");

        CliAssert.Failed(result, ExitCodes.Usage, "--otlp-endpoint");
    }

    private static async Task<(JsonElement? Matched, string Answers)> PollSnapshotsAsync(Task<Uri> url, Task<CliResult> run, Func<JsonElement, bool> wanted)
    {
        var first = await Task.WhenAny(url, run);
        if (first != url)
        {
            return (null, "the run ended before printing the URL");
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var answers = new List<string>();
        while (!run.IsCompleted)
        {
            try
            {
                var text = await http.GetStringAsync(new Uri(url.Result, "/snapshot"));
                answers.Add(text);
                var snapshot = JsonDocument.Parse(text).RootElement.Clone();
                if (wanted(snapshot))
                {
                    return (snapshot, string.Empty);
                }
            }
            catch (HttpRequestException ex)
            {
                answers.Add(ex.Message);
            }

            await Task.Delay(300);
        }

        return (null, string.Join('\n', answers.TakeLast(3)));
    }
}
