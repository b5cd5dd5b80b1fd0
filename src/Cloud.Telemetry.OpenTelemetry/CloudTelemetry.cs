using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Cloud.Telemetry.OpenTelemetry;

/// <summary>
/// OpenTelemetry export of the project's meters and activity sources to an OTLP collector, for a process
/// without a generic host (the CLI: <c>--otlp-endpoint</c>). Dispose it to flush and stop.
/// Applications with a container use <see cref="CloudTelemetryServiceCollectionExtensions.AddCloudTelemetry"/>.
/// </summary>
public sealed class CloudTelemetry : IDisposable
{
    private readonly TracerProvider? _tracer;
    private readonly MeterProvider? _meter;
    private readonly ExportFailureMonitor _monitor;

    private CloudTelemetry(TracerProvider? tracer, MeterProvider? meter, ExportFailureMonitor monitor)
    {
        _tracer = tracer;
        _meter = meter;
        _monitor = monitor;
    }

    /// <summary>True once an export failed (and was reported).</summary>
    public bool ExportFailed => _monitor.Reported;

    /// <summary>Starts exporting. An unreachable endpoint does not fail this call: the first failed export is reported once.</summary>
    /// <param name="options">Endpoint, protocol, sources.</param>
    /// <param name="logger">Where the export failure goes when <see cref="CloudTelemetryOptions.ExportFailed"/> is null
    /// (standard error when both are null).</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static CloudTelemetry Start(CloudTelemetryOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var monitor = CreateMonitor(options, logger);
        TracerProvider? tracer = null;
        MeterProvider? meter = null;
        try
        {
            if (options.Traces)
            {
                var builder = Sdk.CreateTracerProviderBuilder();
                ConfigureTracing(builder, options);
                tracer = builder.Build();
            }
            if (options.Metrics)
            {
                var builder = Sdk.CreateMeterProviderBuilder();
                ConfigureMetrics(builder, options);
                meter = builder.Build();
            }
        }
        catch
        {
            tracer?.Dispose();
            meter?.Dispose();
            monitor.Dispose();
            throw;
        }
        return new CloudTelemetry(tracer, meter, monitor);
    }

    /// <summary>Exports what is pending now (metrics and finished spans).</summary>
    /// <param name="timeout">How long to wait for the exporters.</param>
    /// <returns>True when every export succeeded.</returns>
    public bool ForceFlush(TimeSpan timeout)
    {
        int ms = (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue);
        bool ok = _tracer?.ForceFlush(ms) ?? true;
        return (_meter?.ForceFlush(ms) ?? true) && ok;
    }

    /// <summary>Flushes and stops the exporters.</summary>
    public void Dispose()
    {
        _tracer?.Dispose();
        _meter?.Dispose();
        _monitor.Dispose();
    }

    internal static ExportFailureMonitor CreateMonitor(CloudTelemetryOptions options, ILogger? logger)
    {
        var monitor = new ExportFailureMonitor();
        var report = options.ExportFailed ?? (logger is not null
            ? message => logger.LogWarning("{Message}", message)
            : message => Console.Error.WriteLine(message));
        monitor.Start(options.OtlpEndpoint!.ToString(), report);
        return monitor;
    }

    internal static void ConfigureTracing(TracerProviderBuilder builder, CloudTelemetryOptions options)
    {
        builder.ConfigureResource(r => r.AddService(options.ServiceName))
            .AddSource([.. options.Sources])
            .AddOtlpExporter(o => ConfigureExporter(o, options, "/v1/traces"));
    }

    internal static void ConfigureMetrics(MeterProviderBuilder builder, CloudTelemetryOptions options)
    {
        builder.ConfigureResource(r => r.AddService(options.ServiceName))
            .AddMeter([.. options.Sources])
            .AddOtlpExporter((o, reader) =>
            {
                ConfigureExporter(o, options, "/v1/metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)options.MetricExportInterval.TotalMilliseconds;
                reader.PeriodicExportingMetricReaderOptions.ExportTimeoutMilliseconds = (int)options.ExportTimeout.TotalMilliseconds;
            });
    }

    private static void ConfigureExporter(OtlpExporterOptions exporter, CloudTelemetryOptions options, string signalPath)
    {
        exporter.Protocol = options.Protocol;
        exporter.Endpoint = options.SignalEndpoint(signalPath);
        exporter.TimeoutMilliseconds = (int)options.ExportTimeout.TotalMilliseconds;
    }
}
