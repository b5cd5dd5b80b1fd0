using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Cloud.Dashboard.Tests;

public class DashboardServerTests
{
    private static readonly DashboardOptions Fast = new() { Interval = TimeSpan.FromMilliseconds(50) };

    private static async Task<List<(string Event, string Data)>> ReadEventsAsync(Uri url, int count, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = url };
        using var response = await http.GetAsync("events", HttpCompletionOption.ResponseHeadersRead, ct);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        var events = new List<(string, string)>();
        string type = "message";
        string? data = null;
        while (events.Count < count)
        {
            var line = await reader.ReadLineAsync(ct) ?? throw new EndOfStreamException("the event stream ended");
            if (line.Length == 0)
            {
                if (data is not null)
                {
                    events.Add((type, data));
                }
                type = "message";
                data = null;
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line[6..];
            }
        }
        return events;
    }

    [Fact]
    public async Task Events_stream_source_snapshots_as_camelCase_JSON()
    {
        var source = new FakeDashboardSource();
        await using var server = await DashboardServer.StartAsync(source, Fast, CancellationToken.None);
        Assert.Equal("127.0.0.1", server.Url.Host);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var events = await ReadEventsAsync(server.Url, 3, cts.Token);

        var numbers = new List<double>();
        foreach (var (type, data) in events)
        {
            Assert.Equal("message", type);
            using var doc = JsonDocument.Parse(data);
            var root = doc.RootElement;
            Assert.Equal("clickstream", root.GetProperty("stream").GetString());
            Assert.Equal(3, root.GetProperty("shards").GetArrayLength());
            Assert.Equal("shardId-000000000000", root.GetProperty("shards")[0].GetProperty("shardId").GetString());
            Assert.Equal(4, root.GetProperty("windows").GetProperty("columns").GetArrayLength());
            Assert.Equal("json", root.GetProperty("schema").GetProperty("format").GetString());
            numbers.Add(root.GetProperty("timestamp").GetDateTimeOffset().ToUnixTimeSeconds());
        }
        // Each event is a fresh sample, in order.
        Assert.Equal(numbers.OrderBy(x => x), numbers);
        Assert.Equal(3, numbers.Distinct().Count());
    }

    [Fact]
    public async Task A_failing_sample_sends_an_error_event_with_the_type_only_and_the_stream_goes_on()
    {
        var source = new FakeDashboardSource(n => n == 2 ? new InvalidOperationException("user-42 secret detail") : null);
        await using var server = await DashboardServer.StartAsync(source, Fast, CancellationToken.None);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var events = await ReadEventsAsync(server.Url, 3, cts.Token);

        Assert.Equal("message", events[0].Event);
        Assert.Equal("error", events[1].Event);
        Assert.Equal("{\"error\":\"InvalidOperationException\"}", events[1].Data);
        Assert.DoesNotContain("user-42", events[1].Data, StringComparison.Ordinal);
        Assert.Equal("message", events[2].Event);
    }

    [Fact]
    public async Task The_page_and_the_vendored_chart_library_are_served_without_any_CDN()
    {
        await using var server = await DashboardServer.StartAsync(new FakeDashboardSource(), Fast, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.Url };

        string page = await http.GetStringAsync("/");
        Assert.Contains("<script src=\"/vendor/uPlot.iife.min.js\">", page, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", page, StringComparison.Ordinal);
        Assert.DoesNotContain("//cdn", page, StringComparison.Ordinal);

        using var library = await http.GetAsync("/vendor/uPlot.iife.min.js");
        library.EnsureSuccessStatusCode();
        Assert.Equal("text/javascript", library.Content.Headers.ContentType?.MediaType);
        string js = await library.Content.ReadAsStringAsync();
        Assert.True(js.Length > 20_000, $"uPlot is {js.Length} characters");
        Assert.Contains("uPlot", js, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/vendor/uPlot.min.css")).StatusCode);
        Assert.Contains("EventSource('/events')", await http.GetStringAsync("/dashboard.js"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/vendor/other.js")).StatusCode);

        using var snapshot = JsonDocument.Parse(await http.GetStringAsync("/snapshot"));
        Assert.Equal("clickstream", snapshot.RootElement.GetProperty("stream").GetString());
    }

    [Fact]
    public async Task A_busy_port_gives_a_typed_error_naming_the_port_and_starts_nothing()
    {
        var blocker = new TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        int port = ((IPEndPoint)blocker.LocalEndpoint).Port;
        var source = new FakeDashboardSource();
        try
        {
            var ex = await Assert.ThrowsAsync<DashboardPortInUseException>(() =>
                DashboardServer.StartAsync(source, new DashboardOptions { Port = port }, CancellationToken.None));
            Assert.Equal(port, ex.Port);
            Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
            Assert.Contains("already in use", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            blocker.Stop();
        }
        Assert.Equal(0, source.Calls);
        // Nothing was left bound: the same port is free for a new dashboard.
        await using var server = await DashboardServer.StartAsync(source, new DashboardOptions { Port = port }, CancellationToken.None);
        Assert.Equal(port, server.Port);
    }

    [Fact]
    public async Task Stopping_the_dashboard_ends_open_streams()
    {
        var server = await DashboardServer.StartAsync(new FakeDashboardSource(), Fast, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.Url };
        using var response = await http.GetAsync("events", HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[4096];
        Assert.True(await stream.ReadAsync(buffer) > 0);

        await server.DisposeAsync();

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            while (await stream.ReadAsync(buffer, cts.Token) > 0)
            {
            }
        }
        catch (HttpIOException)
        {
            // Ended by the server going away: also an end.
        }
        Assert.False(cts.IsCancellationRequested, "the stream did not end when the dashboard stopped");
    }

    [Fact]
    public async Task Requests_for_another_host_name_are_refused()
    {
        await using var server = await DashboardServer.StartAsync(new FakeDashboardSource(), Fast, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.Url };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/snapshot");
        request.Headers.Host = "attacker.example";
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
        using var local = new HttpRequestMessage(HttpMethod.Get, "/snapshot");
        local.Headers.Host = $"localhost:{server.Port}";
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(local)).StatusCode);
    }

    [Theory]
    [InlineData(-1, 1000, "Port -1")]
    [InlineData(70000, 1000, "Port 70000")]
    [InlineData(0, 1, "Interval")]
    public async Task Bad_options_are_refused(int port, int intervalMs, string problem)
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => DashboardServer.StartAsync(
            new FakeDashboardSource(), new DashboardOptions { Port = port, Interval = TimeSpan.FromMilliseconds(intervalMs) }, CancellationToken.None));
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }
}

public class LatestSnapshotSourceTests
{
    [Fact]
    public async Task The_dashboard_shows_the_last_published_snapshot()
    {
        var source = new LatestSnapshotSource(FakeDashboardSource.Make(1));
        await using var server = await DashboardServer.StartAsync(source, new DashboardOptions(), CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.Url };
        source.Publish(FakeDashboardSource.Make(7) with { Status = "published" });
        using var doc = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/snapshot"));
        Assert.Equal("published", doc.RootElement.GetProperty("status").GetString());
    }
}
