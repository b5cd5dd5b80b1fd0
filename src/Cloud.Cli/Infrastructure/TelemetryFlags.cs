using System.CommandLine;
using Cloud.Telemetry.OpenTelemetry;

namespace Cloud.Cli.Infrastructure;

/// <summary><c>--otlp-endpoint URL</c> on the verbs that run work: export the project's metrics and traces over OTLP.</summary>
public static partial class TelemetryFlags
{
    [System.Text.RegularExpressions.GeneratedRegex(@"\b(?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*Exception: ")]
    private static partial System.Text.RegularExpressions.Regex ExceptionTypeName();

    /// <summary>The option (one instance per verb: System.CommandLine options belong to one command).</summary>
    public static Option<string?> OtlpEndpoint => new("--otlp-endpoint")
    {
        Description = "Export metrics and traces to this OTLP collector (gRPC, e.g. http://127.0.0.1:4317); an unreachable one is reported once and never stops the run",
    };

    /// <summary>The endpoint given on the command line, or null.</summary>
    /// <exception cref="CliException">It is not an absolute http(s) URL (exit code 2).</exception>
    public static Uri? Parse(ParseResult parse)
    {
        var text = parse.CommandResult.Command.Options.FirstOrDefault(o => o.Name == "--otlp-endpoint") is Option<string?> option ? parse.GetValue(option) : null;
        if (text is null)
        {
            return null;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw CliException.Usage($"--otlp-endpoint must be an absolute http:// or https:// URL (was '{text}').");
        }

        return uri;
    }

    /// <summary>Starts the export when an endpoint was given; the first failed export is said once on standard error.</summary>
    public static CloudTelemetry? Start(CliConsole console, Uri? endpoint, string serviceName)
    {
        if (endpoint is null)
        {
            return null;
        }

        var said = 0;
        return CloudTelemetry.Start(new CloudTelemetryOptions
        {
            OtlpEndpoint = endpoint,
            ServiceName = serviceName,
            ExportFailed = message =>
            {
                if (Interlocked.Exchange(ref said, 1) == 0)
                {
                    // The exporter's reason names exception types ("System.Net.Http.HttpRequestException: Connection refused"):
                    // keep the reason, not the type, so the line reads as a warning and not as a crash.
                    console.Error.WriteLine("warning: telemetry export failed (the run goes on, without export): " + ExceptionTypeName().Replace(message, string.Empty));
                }
            },
        });
    }
}
