using System.Diagnostics.Tracing;

namespace Cloud.Telemetry.OpenTelemetry;

/// <summary>
/// Watches the OTLP exporter's EventSource and reports the first export failure once. The exporter itself
/// never throws into the application (it logs to its EventSource and drops the batch), so this is how an
/// unreachable collector becomes visible without stopping or slowing the pipeline.
/// </summary>
internal sealed class ExportFailureMonitor : EventListener
{
    private const string ExporterSourcePrefix = "OpenTelemetry-Exporter-OpenTelemetryProtocol";
    private Action<string>? _report;
    private string? _endpoint;
    private int _reported;

    public void Start(string endpoint, Action<string> report)
    {
        _endpoint = endpoint;
        _report = report;
    }

    /// <summary>True once a failure was reported.</summary>
    public bool Reported => Volatile.Read(ref _reported) != 0;

    private static string FirstLine(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }
        int end = text.IndexOfAny(['\r', '\n']);
        return (end < 0 ? text : text[..end]).Trim();
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        // Runs during the base constructor too: touch no instance field here.
        if (eventSource.Name.StartsWith(ExporterSourcePrefix, StringComparison.Ordinal))
        {
            EnableEvents(eventSource, EventLevel.Warning);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        var report = _report;
        if (report is null || eventData.Level > EventLevel.Warning || Interlocked.Exchange(ref _reported, 1) != 0)
        {
            return;
        }
        string detail = eventData.Payload is { Count: > 0 } payload
            ? string.Join("; ", payload.Select(p => FirstLine(p?.ToString())).Where(p => p.Length > 0)) // no stack traces
            : string.Empty;
        if (detail.Length > 300)
        {
            detail = detail[..300] + "…";
        }
        try
        {
            report($"OTLP export to {_endpoint} failed ({eventData.EventName}{(detail.Length > 0 ? ": " + detail : string.Empty)}). " +
                "Work goes on without exporting; further export failures are not reported.");
        }
        catch
        {
            // A failing report callback must not break the exporter's thread.
        }
    }
}
