namespace Cloud.Dashboard.Tests;

/// <summary>
/// A fact that needs Debian's headless Chromium. Where no Chromium is installed the test is skipped with a
/// message saying why and how to get it (test.sh installs it when it runs as root), never silently.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (Chromium.ExecutablePath is null)
        {
            Skip = "Chromium not found (looked at $CLOUD_CHROMIUM, /usr/lib/chromium/chromium, /usr/bin/chromium): " +
                "the real-browser dashboard test is skipped. Install it with `apt-get install -y chromium` (test.sh does so as root).";
        }
    }
}

internal static class Chromium
{
    /// <summary>Debian's chromium binary (the /usr/bin/chromium wrapper script also works, the binary starts faster).</summary>
    public static string? ExecutablePath { get; } = Find();

    private static string? Find()
    {
        string? configured = Environment.GetEnvironmentVariable("CLOUD_CHROMIUM");
        foreach (var path in new[] { configured, "/usr/lib/chromium/chromium", "/usr/bin/chromium" })
        {
            if (!string.IsNullOrEmpty(path) && File.Exists(path))
            {
                return path;
            }
        }
        return null;
    }
}
