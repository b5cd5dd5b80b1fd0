using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Cloud.Telemetry.OpenTelemetry;
using Microsoft.Extensions.DependencyInjection;
using global::OpenTelemetry.Exporter;
using global::OpenTelemetry.Metrics;

namespace Cloud.Telemetry.Tests;

/// <summary>An unreachable collector (a closed loopback port) neither stops the app nor floods it: one report.</summary>
[Collection("otlp")] // the failure monitor listens process-wide to the exporter's EventSource
public class OtlpExportTests
{
    private static Uri ClosedLoopbackPort(string scheme = "http")
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"{scheme}://127.0.0.1:{port}");
    }

    [Theory]
    [InlineData(OtlpExportProtocol.Grpc)]
    [InlineData(OtlpExportProtocol.HttpProtobuf)]
    public async Task Unreachable_endpoint_is_reported_once_and_work_goes_on(OtlpExportProtocol protocol)
    {
        var endpoint = ClosedLoopbackPort();
        var reports = new List<string>();
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var telemetry = CloudTelemetry.Start(new CloudTelemetryOptions
        {
            OtlpEndpoint = endpoint,
            Protocol = protocol,
            MetricExportInterval = TimeSpan.FromMilliseconds(200),
            ExportTimeout = TimeSpan.FromSeconds(2),
            ExportFailed = m => { lock (reports) { reports.Add(m); } first.TrySetResult(); },
        });
        using var meter = new Meter(TelemetryNames.Consumer);
        var counter = meter.CreateCounter<long>("cloud.consumer.test_records");
        for (int round = 0; round < 5; round++)
        {
            counter.Add(10);
            using (var activity = CloudActivitySources.Consumer.StartActivity(ActivityNames.Poll))
            {
                Assert.NotNull(activity); // the tracer provider listens
            }
            Assert.False(telemetry.ForceFlush(TimeSpan.FromSeconds(5)));
        }
        await first.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(telemetry.ExportFailed);
        var only = Assert.Single(reports);
        Assert.Contains(endpoint.Authority, only, StringComparison.Ordinal);
        Assert.Contains("further export failures are not reported", only, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", only, StringComparison.Ordinal); // one line, no stack trace
    }

    [Fact]
    public async Task AddCloudTelemetry_exports_from_the_container_and_reports_an_unreachable_endpoint_once()
    {
        var endpoint = ClosedLoopbackPort();
        int reports = 0;
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var services = new ServiceCollection();
        services.AddCloudTelemetry(new CloudTelemetryOptions
        {
            OtlpEndpoint = endpoint,
            MetricExportInterval = TimeSpan.FromMilliseconds(200),
            ExportTimeout = TimeSpan.FromSeconds(2),
            ExportFailed = _ => { Interlocked.Increment(ref reports); first.TrySetResult(); },
        });
        await using var provider = services.BuildServiceProvider();
        var meters = provider.GetRequiredService<MeterProvider>();
        using var meter = new Meter(TelemetryNames.Privacy);
        meter.CreateCounter<long>("cloud.privacy.test_calls").Add(1);
        for (int i = 0; i < 3; i++)
        {
            Assert.False(meters.ForceFlush(5_000));
        }
        await first.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(1, Volatile.Read(ref reports));
    }

    [Fact]
    public void Bad_options_name_every_problem()
    {
        var ex = Assert.Throws<ArgumentException>(() => CloudTelemetry.Start(new CloudTelemetryOptions
        {
            OtlpEndpoint = new Uri("ftp://127.0.0.1/"),
            ServiceName = " ",
            MetricExportInterval = TimeSpan.Zero,
        }));
        Assert.Contains("http:// or https://", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ServiceName", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MetricExportInterval", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Http_protobuf_endpoints_get_the_signal_path()
    {
        var options = new CloudTelemetryOptions { OtlpEndpoint = new Uri("http://127.0.0.1:4318"), Protocol = OtlpExportProtocol.HttpProtobuf };
        Assert.Equal("http://127.0.0.1:4318/v1/traces", options.SignalEndpoint("/v1/traces").ToString());
        Assert.Equal("http://127.0.0.1:4317/", new CloudTelemetryOptions { OtlpEndpoint = new Uri("http://127.0.0.1:4317") }.SignalEndpoint("/v1/traces").ToString());
    }
}
