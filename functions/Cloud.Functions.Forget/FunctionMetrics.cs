using System.Diagnostics;
using System.Diagnostics.Metrics;
using Cloud.Telemetry;

namespace Cloud.Functions.Forget;

/// <summary>
/// The function's invocation metrics on the <c>Cloud.Functions</c> meter, and, in Lambda, the CloudWatch Embedded
/// Metric Format writer that turns every project meter's measurements into one set of log lines per invocation
/// (no agent, no API call). Tags: <c>function</c> and <c>outcome</c> only.
/// </summary>
public static class FunctionMetrics
{
    /// <summary>Environment variable naming the CloudWatch namespace (the CDK sets it from cdk.json's <c>cloud:metricsNamespace</c>).</summary>
    public const string NamespaceVariable = "METRICS_NAMESPACE";

    /// <summary>Namespace used when <see cref="NamespaceVariable"/> is not set.</summary>
    public const string DefaultNamespace = "Cloud/Pipeline";

    /// <summary>Invocations; tags <c>function</c>, <c>outcome</c> (ok | error).</summary>
    public const string Invocations = "cloud.functions.invocations";

    /// <summary>Invocation duration in ms; tag <c>function</c>.</summary>
    public const string Duration = "cloud.functions.duration";

    private const string FunctionName = "forget";
    private static readonly Meter Meter = new(TelemetryNames.Functions);
    private static readonly Counter<long> InvocationCounter = Meter.CreateCounter<long>(Invocations, "{invocation}", "Function invocations by outcome");
    private static readonly Histogram<double> DurationHistogram = Meter.CreateHistogram<double>(Duration, "ms", "Function invocation duration");

    /// <summary>The EMF writer for the Lambda runtime: namespace from <see cref="NamespaceVariable"/>, lines on raw standard output.</summary>
    public static EmfMetricsWriter CreateEmfWriter() => new(
        new EmfMetricsOptions { Namespace = Environment.GetEnvironmentVariable(NamespaceVariable) is { Length: > 0 } ns ? ns : DefaultNamespace },
        EmfMetricsWriter.CreateStandardOutput());

    internal static void Invoked(long startedTimestamp, bool failed)
    {
        var function = new KeyValuePair<string, object?>(TelemetryTags.Function, FunctionName);
        InvocationCounter.Add(1, function, new KeyValuePair<string, object?>(TelemetryTags.Outcome, failed ? "error" : "ok"));
        DurationHistogram.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalMilliseconds, function);
    }
}
