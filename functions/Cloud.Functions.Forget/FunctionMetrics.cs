using Cloud.Telemetry;

namespace Cloud.Functions.Forget;

/// <summary>This function's invocation metrics and EMF writer (see <see cref="FunctionInvocationMetrics"/>).</summary>
public static class FunctionMetrics
{
    /// <summary>Environment variable naming the CloudWatch namespace.</summary>
    public const string NamespaceVariable = FunctionInvocationMetrics.NamespaceVariable;

    /// <summary>Namespace used when <see cref="NamespaceVariable"/> is not set.</summary>
    public const string DefaultNamespace = FunctionInvocationMetrics.DefaultNamespace;

    /// <summary>Invocations; tags <c>function</c>, <c>outcome</c> (ok | error).</summary>
    public const string Invocations = FunctionInvocationMetrics.Invocations;

    /// <summary>Invocation duration in ms; tag <c>function</c>.</summary>
    public const string Duration = FunctionInvocationMetrics.Duration;

    private static readonly FunctionInvocationMetrics Metrics = new("forget");

    /// <summary>The EMF writer for the Lambda runtime.</summary>
    public static EmfMetricsWriter CreateEmfWriter() => FunctionInvocationMetrics.CreateEmfWriter();

    internal static void Invoked(long startedTimestamp, bool failed) => Metrics.Invoked(startedTimestamp, failed);
}
