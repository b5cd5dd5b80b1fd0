using System.Globalization;
using System.Text.RegularExpressions;

namespace Cloud.Benchmarks.Report;

/// <summary>
/// <c>openssl speed</c> on this machine: bytes per CPU second for one algorithm and block size (openssl reports user
/// CPU time, as our probes do). Used as the bound for MD5 and the peer for AES-256-GCM.
/// </summary>
internal static partial class OpenSslSpeed
{
    /// <summary>Bytes per second, or null when openssl is not installed or its output cannot be read.</summary>
    public static async Task<double?> MeasureAsync(string algorithm, int blockBytes, int seconds, CancellationToken cancellationToken)
    {
        var arguments = new List<string> { "speed", "-seconds", seconds.ToString(CultureInfo.InvariantCulture), "-bytes", blockBytes.ToString(CultureInfo.InvariantCulture) };
        if (algorithm.Contains('-', StringComparison.Ordinal))
        {
            arguments.Add("-evp");
        }

        arguments.Add(algorithm);
        var run = await ReportContext.RunToolAsync("openssl", arguments, TimeSpan.FromSeconds(seconds * 4 + 30), cancellationToken);
        if (!run.Succeeded)
        {
            return null;
        }

        // The last line: "<name>   1622056.96k" (1000s of bytes per second).
        var match = ResultLine().Matches(run.StandardOutput).LastOrDefault();
        return match is null ? null : double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) * 1000;
    }

    [GeneratedRegex(@"^\S+\s+([0-9.]+)k\s*$", RegexOptions.Multiline)]
    private static partial Regex ResultLine();
}
