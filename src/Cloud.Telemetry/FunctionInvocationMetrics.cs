using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Cloud.Telemetry;

/// <summary>
/// A Lambda function's invocation metrics on the <c>Cloud.Functions</c> meter, and the CloudWatch Embedded Metric Format
/// writer that turns every project meter's measurements into log lines once per invocation (no agent, no API call).
/// One instance per function; tags <c>function</c> and <c>outcome</c> only.
/// </summary>
public sealed class FunctionInvocationMetrics
{
    /// <summary>Environment variable naming the CloudWatch namespace (the CDK sets it from cdk.json's <c>cloud:metricsNamespace</c>).</summary>
    public const string NamespaceVariable = "METRICS_NAMESPACE";

    /// <summary>Namespace used when <see cref="NamespaceVariable"/> is not set.</summary>
    public const string DefaultNamespace = "Cloud/Pipeline";

    /// <summary>Invocations; tags <c>function</c>, <c>outcome</c> (ok | error).</summary>
    public const string Invocations = "cloud.functions.invocations";

    /// <summary>Invocation duration in ms; tag <c>function</c>.</summary>
    public const string Duration = "cloud.functions.duration";

    private readonly KeyValuePair<string, object?> _function;
    private readonly Counter<long> _invocations;
    private readonly Histogram<double> _duration;

    /// <summary>Creates the instruments of the named function (e.g. <c>aggregator</c>).</summary>
    public FunctionInvocationMetrics(string functionName)
    {
        ArgumentException.ThrowIfNullOrEmpty(functionName);
        var meter = new Meter(TelemetryNames.Functions);
        _function = new KeyValuePair<string, object?>(TelemetryTags.Function, functionName);
        _invocations = meter.CreateCounter<long>(Invocations, "{invocation}", "Function invocations by outcome");
        _duration = meter.CreateHistogram<double>(Duration, "ms", "Function invocation duration");
    }

    /// <summary>The EMF writer for the Lambda runtime: namespace from <see cref="NamespaceVariable"/>, lines on raw standard output.</summary>
    public static EmfMetricsWriter CreateEmfWriter() => new(
        new EmfMetricsOptions { Namespace = Environment.GetEnvironmentVariable(NamespaceVariable) is { Length: > 0 } ns ? ns : DefaultNamespace },
        EmfMetricsWriter.CreateStandardOutput());

    /// <summary>Records one invocation that started at <paramref name="startedTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public void Invoked(long startedTimestamp, bool failed)
    {
        _invocations.Add(1, _function, new KeyValuePair<string, object?>(TelemetryTags.Outcome, failed ? "error" : "ok"));
        _duration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalMilliseconds, _function);
    }
}
