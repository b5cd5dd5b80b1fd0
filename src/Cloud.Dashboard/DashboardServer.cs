using System.Net;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cloud.Dashboard;

/// <summary>
/// The live web dashboard: one page (charts from a vendored uPlot, no CDN) and a server-sent-events stream of
/// <see cref="DashboardSnapshot"/>s, served on 127.0.0.1 only. Dispose to stop; open streams end.
/// </summary>
/// <remarks>
/// Endpoints: <c>GET /</c> the page, <c>GET /events</c> SSE (<c>data: {snapshot json}</c> every interval,
/// <c>event: error</c> when the source throws), <c>GET /snapshot</c> one snapshot as JSON,
/// <c>GET /vendor/*</c> the charting library.
/// </remarks>
public sealed class DashboardServer : IAsyncDisposable
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private readonly WebApplication _app;
    private int _stopped;

    private DashboardServer(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    /// <summary>The page's address, <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri Url { get; }

    /// <summary>The port served on.</summary>
    public int Port => Url.Port;

    /// <summary>Starts serving. On failure nothing is left running.</summary>
    /// <exception cref="DashboardPortInUseException">The port is taken.</exception>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static async Task<DashboardServer> StartAsync(IDashboardSource source, DashboardOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(DashboardServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });
        builder.Logging.ClearProviders(); // the CLI owns the console
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, options.Port));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var app = builder.Build();
        Map(app, source, options);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsAddressInUse(ex))
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new DashboardPortInUseException(options.Port, ex);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address).Port;
        return new DashboardServer(app, new Uri($"http://127.0.0.1:{port}/"));
    }

    /// <summary>Stops serving; open event streams end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static bool IsAddressInUse(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is AddressInUseException || e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse })
            {
                return true;
            }
        }
        return false;
    }

    private static void Map(WebApplication app, IDashboardSource source, DashboardOptions options)
    {
        var lifetime = app.Lifetime;
        // Loopback binding keeps other machines out; the Host check keeps out web pages that rebind their own
        // DNS name to 127.0.0.1 to read the dashboard from the user's browser.
        app.Use((context, next) =>
        {
            string host = context.Request.Host.Host;
            if (host is "127.0.0.1" or "localhost" or "[::1]")
            {
                return next(context);
            }
            context.Response.StatusCode = StatusCodes.Status421MisdirectedRequest;
            return Task.CompletedTask;
        });
        app.MapGet("/", () => Resource("wwwroot.index.html", "text/html; charset=utf-8"));
        app.MapGet("/dashboard.js", () => Resource("wwwroot.dashboard.js", "text/javascript; charset=utf-8"));
        app.MapGet("/dashboard.css", () => Resource("wwwroot.dashboard.css", "text/css; charset=utf-8"));
        app.MapGet("/vendor/uPlot.iife.min.js", () => Resource("vendor.uPlot.iife.min.js", "text/javascript; charset=utf-8"));
        app.MapGet("/vendor/uPlot.min.css", () => Resource("vendor.uPlot.min.css", "text/css; charset=utf-8"));
        app.MapGet("/vendor/uPlot.LICENSE.txt", () => Resource("vendor.uPlot.LICENSE.txt", "text/plain; charset=utf-8"));
        app.MapGet("/snapshot", async (CancellationToken ct) =>
            Results.Json(await source.GetSnapshotAsync(ct).ConfigureAwait(false), DashboardJsonContext.Default.DashboardSnapshot));
        app.MapGet("/events", async (HttpContext context) =>
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
            var ct = linked.Token;
            var response = context.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            using var timer = new PeriodicTimer(options.Interval, options.TimeProvider);
            try
            {
                await response.Body.WriteAsync("retry: 1000\n\n"u8.ToArray(), ct).ConfigureAwait(false);
                do
                {
                    await WriteSnapshotAsync(response, source, ct).ConfigureAwait(false);
                }
                while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The page closed or the dashboard is stopping.
            }
        });
    }

    private static async Task WriteSnapshotAsync(HttpResponse response, IDashboardSource source, CancellationToken ct)
    {
        byte[] json;
        bool failed = false;
        try
        {
            var snapshot = await source.GetSnapshotAsync(ct).ConfigureAwait(false);
            json = JsonSerializer.SerializeToUtf8Bytes(snapshot, DashboardJsonContext.Default.DashboardSnapshot);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A failing sample must not end the stream; the page shows the failure's type (never its data).
            json = JsonSerializer.SerializeToUtf8Bytes(new DashboardError(ex.GetType().Name), DashboardJsonContext.Default.DashboardError);
            failed = true;
        }
        if (failed)
        {
            await response.Body.WriteAsync("event: error\n"u8.ToArray(), ct).ConfigureAwait(false);
        }
        await response.Body.WriteAsync(DataPrefix, ct).ConfigureAwait(false);
        await response.Body.WriteAsync(json, ct).ConfigureAwait(false);
        await response.Body.WriteAsync(EventEnd, ct).ConfigureAwait(false);
        await response.Body.FlushAsync(ct).ConfigureAwait(false);
    }

    private static IResult Resource(string name, string contentType)
    {
        var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Cloud.Dashboard." + name);
        return stream is null ? Results.NotFound() : Results.Stream(stream, contentType);
    }
}
