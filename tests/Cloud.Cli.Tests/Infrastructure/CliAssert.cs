using System.Text.RegularExpressions;
using Xunit.Sdk;

namespace Cloud.Cli.Tests.Infrastructure;

/// <summary>Assertions on a run: exit code, a clear error line, and never a stack trace or exception dump.</summary>
public static partial class CliAssert
{
    /// <summary>Exit code 0 and no stack trace.</summary>
    public static void Succeeded(CliResult result)
    {
        if (result.ExitCode != 0)
        {
            throw new XunitException($"expected exit code 0\n{result}");
        }

        NoStackTrace(result);
    }

    /// <summary>
    /// Exit code <paramref name="exitCode"/>, an <c>error: …</c> line on stderr containing every fragment
    /// (case-insensitive), and no stack trace on either stream.
    /// </summary>
    public static void Failed(CliResult result, int exitCode, params string[] stderrFragments)
    {
        if (result.ExitCode != exitCode)
        {
            throw new XunitException($"expected exit code {exitCode}\n{result}");
        }

        if (!result.StderrLines.Any(l => l.StartsWith("error: ", StringComparison.Ordinal)))
        {
            throw new XunitException($"expected an 'error: ...' line on stderr\n{result}");
        }

        foreach (var fragment in stderrFragments)
        {
            if (!result.Stderr.Contains(fragment, StringComparison.OrdinalIgnoreCase))
            {
                throw new XunitException($"expected stderr to mention '{fragment}'\n{result}");
            }
        }

        NoStackTrace(result);
    }

    /// <summary>Neither stream holds a stack frame, an exception type dump or an unhandled-exception banner.</summary>
    public static void NoStackTrace(CliResult result)
    {
        foreach (var (name, text) in new[] { ("stdout", result.Stdout), ("stderr", result.Stderr) })
        {
            var match = StackFrame().Match(text) is { Success: true } frame ? frame
                : ExceptionDump().Match(text) is { Success: true } dump ? dump
                : Banner().Match(text);
            if (match.Success)
            {
                throw new XunitException($"{name} holds a stack trace or exception dump ('{match.Value.Trim()}')\n{result}");
            }
        }
    }

    // "   at Cloud.Cli.Foo.Bar(String x) in /path/File.cs:line 12"
    [GeneratedRegex(@"^\s+at [\w.`<>\[\],+]+\(", RegexOptions.Multiline)]
    private static partial Regex StackFrame();

    // "System.InvalidOperationException: ..." or "error: KeyStoreException: ..."
    [GeneratedRegex(@"\b[\w.]*Exception: ")]
    private static partial Regex ExceptionDump();

    [GeneratedRegex(@"Unhandled exception|--- End of (inner exception )?stack trace", RegexOptions.IgnoreCase)]
    private static partial Regex Banner();
}
