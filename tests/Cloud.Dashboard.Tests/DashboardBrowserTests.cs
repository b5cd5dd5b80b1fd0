using Microsoft.Playwright;

namespace Cloud.Dashboard.Tests;

/// <summary>
/// The page in a real browser: headless Chromium (Debian's package, driven by Microsoft.Playwright through its
/// executable path) loads the dashboard while a fake pipeline emits snapshots, and the charts receive the data.
/// Every request that is not to the dashboard on 127.0.0.1 is blocked, so the page is proven to work offline.
/// </summary>
public class DashboardBrowserTests
{
    [ChromiumFact]
    public async Task Chromium_renders_live_snapshots_into_the_charts_and_tables()
    {
        var source = new FakeDashboardSource();
        await using var server = await DashboardServer.StartAsync(source, new DashboardOptions { Interval = TimeSpan.FromMilliseconds(100) }, CancellationToken.None);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium.ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
        var problems = new List<string>();
        var offSite = new List<string>();
        page.PageError += (_, e) => problems.Add("page error: " + e);
        page.Console += (_, m) => { if (m.Type == "error") { problems.Add("console error: " + m.Text); } };
        await page.RouteAsync("**/*", async route =>
        {
            var url = new Uri(route.Request.Url);
            if (url.Host == "127.0.0.1" && url.Port == server.Port)
            {
                await route.ContinueAsync();
            }
            else
            {
                offSite.Add(url.GetLeftPart(UriPartial.Path));
                await route.AbortAsync();
            }
        });

        await page.GotoAsync(server.Url.ToString());
        await page.WaitForFunctionAsync("() => window.cloudDashboard && window.cloudDashboard.updates >= 20", null,
            new PageWaitForFunctionOptions { Timeout = 60_000 });

        // The charts hold the streamed samples (read in one evaluation: events keep arriving meanwhile).
        string json = await page.EvaluateAsync<string>("""
            () => JSON.stringify({
              ratePoints: cloudDashboard.charts.rates.data[1].length,
              errorPoints: cloudDashboard.charts.errors.data[2].length,
              chartIn: cloudDashboard.charts.rates.data[1].at(-1),
              lastIn: cloudDashboard.last.recordsInPerSecond,
              shardBars: Array.from(cloudDashboard.charts.shards.data[1]),
            })
            """);
        using var state = System.Text.Json.JsonDocument.Parse(json);
        var root = state.RootElement;
        int ratePoints = root.GetProperty("ratePoints").GetInt32();
        Assert.True(ratePoints >= 20, $"rates chart has {ratePoints} points");
        Assert.Equal(ratePoints, root.GetProperty("errorPoints").GetInt32());
        Assert.Equal(root.GetProperty("lastIn").GetDouble(), root.GetProperty("chartIn").GetDouble());
        var shardBars = root.GetProperty("shardBars").EnumerateArray().Select(e => e.GetDouble()).ToList();
        Assert.Equal(3, shardBars.Count);
        Assert.All(shardBars, v => Assert.True(v > 0));

        // And draws them: the rates canvas has ink.
        bool inked = await page.EvaluateAsync<bool>("""
            () => {
              const c = document.querySelector('#chart-rates canvas');
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
              for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) return true; }
              return false;
            }
            """);
        Assert.True(inked, "the rates chart canvas is blank");

        Assert.Contains("03:00:00–03:01:00", await page.TextContentAsync("#windows tbody"), StringComparison.Ordinal);
        Assert.Equal("forgotten", await page.TextContentAsync("#forget-state"));
        Assert.Equal("clickstream.v1 (json)", await page.TextContentAsync("#schema-name"));
        Assert.Equal("live", await page.TextContentAsync("#connection"));
        Assert.Empty(problems);
        Assert.Empty(offSite);

        string screenshot = Environment.GetEnvironmentVariable("CLOUD_DASHBOARD_SCREENSHOT")
            ?? Path.Combine(AppContext.BaseDirectory, "dashboard.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 10_000);
    }
}
