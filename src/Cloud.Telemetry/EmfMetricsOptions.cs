namespace Cloud.Telemetry;

/// <summary>Options of an <see cref="EmfMetricsWriter"/>.</summary>
public sealed class EmfMetricsOptions
{
    /// <summary>CloudWatch namespace of every metric (from cdk.json in the functions). Required: 1–255 characters, not starting with <c>AWS/</c>.</summary>
    public string Namespace { get; init; } = string.Empty;

    /// <summary>Names of the meters to export.</summary>
    /// <value>The default value is <see cref="TelemetryNames.All"/>.</value>
    public IReadOnlyCollection<string> Meters { get; init; } = TelemetryNames.All;

    /// <summary>
    /// Dimensions added to every metric (for example <c>function</c> = the function name). They must not carry
    /// personal data; a measurement's own tag of the same key wins.
    /// </summary>
    /// <value>The default value is empty.</value>
    public IReadOnlyDictionary<string, string> DefaultDimensions { get; init; } = new Dictionary<string, string>();

    /// <summary>Clock of the <c>_aws.Timestamp</c> member.</summary>
    /// <value>The default value is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Checks the options, naming every problem in one message.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Namespace))
        {
            problems.Add("Namespace is required");
        }
        else if (Namespace.Length > 255)
        {
            problems.Add($"Namespace has {Namespace.Length} characters; CloudWatch allows at most 255");
        }
        else if (Namespace.StartsWith("AWS/", StringComparison.Ordinal))
        {
            problems.Add("Namespace must not start with \"AWS/\" (reserved for AWS services)");
        }
        if (Meters is null || Meters.Count == 0)
        {
            problems.Add("Meters must name at least one meter");
        }
        if (DefaultDimensions is null)
        {
            problems.Add("DefaultDimensions must not be null");
        }
        else if (DefaultDimensions.Count > EmfMetricsWriter.MaxDimensions)
        {
            problems.Add($"DefaultDimensions has {DefaultDimensions.Count} entries; EMF allows at most {EmfMetricsWriter.MaxDimensions} dimensions");
        }
        if (TimeProvider is null)
        {
            problems.Add("TimeProvider must not be null");
        }
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid EMF metrics options: " + string.Join("; ", problems) + ".");
        }
    }
}
