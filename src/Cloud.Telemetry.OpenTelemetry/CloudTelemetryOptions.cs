using OpenTelemetry.Exporter;

namespace Cloud.Telemetry.OpenTelemetry;

/// <summary>Options of <see cref="CloudTelemetry"/> and <c>AddCloudTelemetry</c>.</summary>
public sealed class CloudTelemetryOptions
{
    /// <summary>OTLP collector URL (the CLI's <c>--otlp-endpoint</c>), e.g. <c>http://127.0.0.1:4317</c> for gRPC or
    /// <c>http://127.0.0.1:4318</c> for HTTP/protobuf. Required.</summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>OTLP transport. With <see cref="OtlpExportProtocol.HttpProtobuf"/> the signal paths
    /// <c>/v1/traces</c> and <c>/v1/metrics</c> are appended to <see cref="OtlpEndpoint"/> unless it already names one.</summary>
    /// <value>The default value is <see cref="OtlpExportProtocol.Grpc"/>.</value>
    public OtlpExportProtocol Protocol { get; init; } = OtlpExportProtocol.Grpc;

    /// <summary>The <c>service.name</c> resource attribute.</summary>
    /// <value>The default value is <c>cloud</c>.</value>
    public string ServiceName { get; init; } = "cloud";

    /// <summary>Meters and activity sources to export.</summary>
    /// <value>The default value is <see cref="TelemetryNames.All"/>.</value>
    public IReadOnlyCollection<string> Sources { get; init; } = TelemetryNames.All;

    /// <summary>How often metrics are exported.</summary>
    /// <value>The default value is 10 s.</value>
    public TimeSpan MetricExportInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Deadline of one export call.</summary>
    /// <value>The default value is 10 s.</value>
    public TimeSpan ExportTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Export traces.</summary>
    /// <value>The default value is true.</value>
    public bool Traces { get; init; } = true;

    /// <summary>Export metrics.</summary>
    /// <value>The default value is true.</value>
    public bool Metrics { get; init; } = true;

    /// <summary>
    /// Called once, on the first failed export (the collector is unreachable, refuses, times out), with a message
    /// naming the endpoint. Export failures never stop the application. When null, the failure is logged once as
    /// a warning through the logger given to <see cref="CloudTelemetry.Start"/> or the container's logging
    /// (standard error when there is none).
    /// </summary>
    public Action<string>? ExportFailed { get; init; }

    /// <summary>Checks the options, naming every problem in one message.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (OtlpEndpoint is null)
        {
            problems.Add("OtlpEndpoint is required");
        }
        else if (!OtlpEndpoint.IsAbsoluteUri || (OtlpEndpoint.Scheme != Uri.UriSchemeHttp && OtlpEndpoint.Scheme != Uri.UriSchemeHttps))
        {
            problems.Add($"OtlpEndpoint \"{OtlpEndpoint}\" must be an absolute http:// or https:// URL");
        }
        if (string.IsNullOrWhiteSpace(ServiceName))
        {
            problems.Add("ServiceName is required");
        }
        if (Sources is null || Sources.Count == 0)
        {
            problems.Add("Sources must name at least one meter or activity source");
        }
        if (MetricExportInterval < TimeSpan.FromMilliseconds(100) || MetricExportInterval > TimeSpan.FromDays(1))
        {
            problems.Add($"MetricExportInterval {MetricExportInterval} must be between 100 ms and 1 day");
        }
        if (ExportTimeout < TimeSpan.FromMilliseconds(100) || ExportTimeout > TimeSpan.FromMinutes(10))
        {
            problems.Add($"ExportTimeout {ExportTimeout} must be between 100 ms and 10 min");
        }
        if (!Traces && !Metrics)
        {
            problems.Add("at least one of Traces and Metrics must be on");
        }
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid telemetry options: " + string.Join("; ", problems) + ".");
        }
    }

    internal Uri SignalEndpoint(string signalPath)
    {
        var endpoint = OtlpEndpoint!;
        if (Protocol != OtlpExportProtocol.HttpProtobuf || endpoint.AbsolutePath.EndsWith(signalPath, StringComparison.Ordinal))
        {
            return endpoint;
        }
        return new Uri(endpoint.GetLeftPart(UriPartial.Authority) + endpoint.AbsolutePath.TrimEnd('/') + signalPath);
    }
}
