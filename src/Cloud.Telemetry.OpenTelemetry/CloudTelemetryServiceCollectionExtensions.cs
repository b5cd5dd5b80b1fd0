using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Cloud.Telemetry.OpenTelemetry;

/// <summary>Registers OpenTelemetry export of the project's telemetry in a service container.</summary>
public static class CloudTelemetryServiceCollectionExtensions
{
    /// <summary>
    /// Adds OpenTelemetry (1.21, OTLP) exporting the <c>Cloud.*</c> meters and activity sources to
    /// <see cref="CloudTelemetryOptions.OtlpEndpoint"/>. With a generic host the exporters start with the host;
    /// without one, resolve <see cref="MeterProvider"/> / <see cref="TracerProvider"/> to start them. The first
    /// failed export is reported once (<see cref="CloudTelemetryOptions.ExportFailed"/>, else a logged warning).
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static IServiceCollection AddCloudTelemetry(this IServiceCollection services, CloudTelemetryOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        services.AddSingleton(sp => CloudTelemetry.CreateMonitor(
            options, sp.GetService<ILoggerFactory>()?.CreateLogger("Cloud.Telemetry")));
        services.AddHostedService<MonitorStarter>();
        var otel = services.AddOpenTelemetry();
        if (options.Traces)
        {
            otel.WithTracing(b =>
            {
                CloudTelemetry.ConfigureTracing(b, options);
                b.AddInstrumentation(sp => sp.GetRequiredService<ExportFailureMonitor>());
            });
        }
        if (options.Metrics)
        {
            otel.WithMetrics(b =>
            {
                CloudTelemetry.ConfigureMetrics(b, options);
                b.AddInstrumentation(sp => sp.GetRequiredService<ExportFailureMonitor>());
            });
        }
        return services;
    }

    /// <summary>Creates the failure monitor with the host, before the first export.</summary>
    private sealed class MonitorStarter(ExportFailureMonitor monitor) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            GC.KeepAlive(monitor);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
