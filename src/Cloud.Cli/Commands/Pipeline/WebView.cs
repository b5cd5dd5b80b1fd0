using System.CommandLine;
using Cloud.Cli.Infrastructure;
using Cloud.Dashboard;

namespace Cloud.Cli.Commands.Pipeline;

/// <summary>
/// The web view of the pipeline: the dashboard page on 127.0.0.1, fed the sampler's snapshot once per tick
/// (a reference swap: the page never slows the pipeline). Started before anything else so a busy port
/// fails the run with nothing half-started.
/// </summary>
internal sealed class WebView : IAsyncDisposable
{
    private readonly DashboardServer _server;
    private readonly LatestSnapshotSource? _source;

    private WebView(DashboardServer server, LatestSnapshotSource? source)
    {
        _server = server;
        _source = source;
    }

    /// <summary>The page's address.</summary>
    public Uri Url => _server.Url;

    /// <summary><c>--web [PORT]</c>: serve the dashboard (no port or 0: any free one).</summary>
    public static Option<int?> WebOption() => new("--web")
    {
        Description = "Serve the live dashboard on http://127.0.0.1:PORT/ (no PORT or 0: any free port); prints the URL",
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>The port asked for: null when <c>--web</c> is absent, 0 when given without a port.</summary>
    public static int? Port(ParseResult parse, Option<int?> web) =>
        parse.GetResult(web) is null ? null : parse.GetValue(web) ?? 0;

    /// <summary>
    /// Starts the server and prints its URL on standard error (standard output stays the summary). Without
    /// <paramref name="feed"/> the page shows what <see cref="Publish"/> is given.
    /// </summary>
    /// <exception cref="CliException">The port is taken (exit code 2, naming the port).</exception>
    public static async Task<WebView> StartAsync(CliConsole console, string? stream, int port, CancellationToken ct, IDashboardSource? feed = null)
    {
        var latest = feed is null ? new LatestSnapshotSource(new DashboardSnapshot { Timestamp = DateTimeOffset.UtcNow, Stream = stream, Status = "starting" }) : null;
        IDashboardSource source = feed ?? latest!;
        DashboardServer server;
        try
        {
            server = await DashboardServer.StartAsync(source, new DashboardOptions { Port = port }, ct).ConfigureAwait(false);
        }
        catch (DashboardPortInUseException ex)
        {
            throw new CliException(ExitCodes.Usage, $"--web: port {ex.Port} on 127.0.0.1 is already in use; nothing was started. Pick another port (or 0 for any free one).", ex);
        }

        console.Error.WriteLine($"Dashboard: {server.Url}");
        console.Error.Flush();
        return new WebView(server, latest);
    }

    /// <summary>Shows <paramref name="snapshot"/> on the page from the next interval on.</summary>
    public void Publish(DashboardSnapshot snapshot) => _source?.Publish(snapshot);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
