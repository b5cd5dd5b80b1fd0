using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Cloud.Testing;

namespace Cloud.Cli.Tests.Infrastructure;

/// <summary>What one run of the tool produced.</summary>
public sealed record CliResult(IReadOnlyList<string> Arguments, int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    /// <summary>The non-empty lines of standard output.</summary>
    public IReadOnlyList<string> StdoutLines => Lines(Stdout);

    /// <summary>The non-empty lines of standard error.</summary>
    public IReadOnlyList<string> StderrLines => Lines(Stderr);

    /// <summary>Every stdout line parsed as one JSON document (fails the test on a line that is not JSON).</summary>
    public IReadOnlyList<JsonElement> JsonLines() => StdoutLines.Select(line =>
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new Xunit.Sdk.XunitException($"stdout line is not JSON ({ex.Message}): {line}\n{this}");
        }
    }).ToList();

    /// <summary>The single JSON document on stdout.</summary>
    public JsonElement Json()
    {
        var lines = JsonLines();
        return lines.Count == 1 ? lines[0] : throw new Xunit.Sdk.XunitException($"expected exactly one JSON line on stdout, got {lines.Count}\n{this}");
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"$ cloud {string.Join(' ', Arguments)}\nexit code {ExitCode} after {Elapsed.TotalSeconds:0.0} s\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";

    private static List<string> Lines(string text) => text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
}

/// <summary>
/// Runs the built <c>cloud</c> tool (<c>dotnet cloud.dll</c> from this test's output folder) as a child
/// process with captured stdin/stdout/stderr, a timeout, dummy AWS credentials and its own state file.
/// </summary>
public sealed class CliProcess
{
    /// <summary>The tool's assembly, copied next to the tests by the project reference.</summary>
    public static readonly string ToolPath = typeof(CliApp).Assembly.Location;

    private static readonly string DotnetHost = FindDotnet();

    private readonly string _workingDirectory;
    private readonly Dictionary<string, string?> _environment;

    /// <summary>Creates a runner whose runs use <paramref name="stateFile"/> as <c>CLOUD_STATE_FILE</c>.</summary>
    public CliProcess(string workingDirectory, string stateFile)
    {
        _workingDirectory = workingDirectory;
        _environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            // Never real AWS, never the instance-metadata address: dummy keys, fixed region, no profiles.
            ["AWS_EC2_METADATA_DISABLED"] = "true",
            ["AWS_REGION"] = AwsTestEnvironment.Region,
            ["AWS_DEFAULT_REGION"] = AwsTestEnvironment.Region,
            ["AWS_ACCESS_KEY_ID"] = AwsTestEnvironment.AccessKeyId,
            ["AWS_SECRET_ACCESS_KEY"] = AwsTestEnvironment.SecretAccessKey,
            ["AWS_CONFIG_FILE"] = Path.Combine(workingDirectory, "no-aws-config"),
            ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(workingDirectory, "no-aws-credentials"),
            ["CLOUD_STATE_FILE"] = stateFile,
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
        };
    }

    /// <summary>How long one run may take before it is killed and the test fails.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Sets (or, with null, removes) an environment variable for later runs.</summary>
    public void SetEnvironment(string name, string? value) => _environment[name] = value;

    /// <summary>
    /// Runs <c>cloud ARGS</c>, writing <paramref name="stdin"/> (then closing it) and waiting for the exit;
    /// <paramref name="onStderrLine"/> sees each line of standard error as it is written (e.g. a URL to call while the run goes on).
    /// </summary>
    public async Task<CliResult> RunAsync(IReadOnlyList<string> args, string? stdin = null, Action<string>? onStderrLine = null)
    {
        var start = new ProcessStartInfo(DotnetHost)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = _workingDirectory,
        };
        start.ArgumentList.Add(ToolPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in start.Environment.Keys.ToList())
        {
            if (name.StartsWith("AWS_", StringComparison.Ordinal) || name is "CLOUD_DEBUG" or "CLOUD_KINESIS_ENDPOINT" or "CLOUD_DYNAMODB_ENDPOINT")
            {
                start.Environment.Remove(name);
            }
        }

        foreach (var (name, value) in _environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + DotnetHost);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = onStderrLine is null ? process.StandardError.ReadToEndAsync() : ReadLinesAsync(process.StandardError, onStderrLine);
        try
        {
            if (stdin is not null)
            {
                await process.StandardInput.WriteAsync(stdin);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The tool exited without reading all of stdin (e.g. a usage error): its output says why.
        }

        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            var partial = new CliResult(args, -1, await stdout, await stderr, stopwatch.Elapsed);
            throw new Xunit.Sdk.XunitException($"cloud did not exit within {Timeout.TotalSeconds:0} s; killed.\n{partial}");
        }

        return new CliResult(args, process.ExitCode, await stdout, await stderr, stopwatch.Elapsed);
    }

    private static async Task<string> ReadLinesAsync(StreamReader reader, Action<string> onLine)
    {
        var all = new StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            all.AppendLine(line);
            onLine(line);
        }

        return all.ToString();
    }

    private static string FindDotnet()
    {
        // `dotnet test` tells its children which host runs it; fall back to the one on the PATH.
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        return Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }
}
