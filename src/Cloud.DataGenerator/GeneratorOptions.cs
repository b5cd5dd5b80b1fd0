namespace Cloud.DataGenerator;

/// <summary>The kind of events to generate.</summary>
public enum EventKind
{
    /// <summary>Web clickstream: page views, clicks, carts and purchases.</summary>
    Clickstream,

    /// <summary>Ride-sharing price quotes that react to demand, weather and events.</summary>
    RidePricing,
}

/// <summary>Options of <see cref="EventGenerator"/>; validated by <see cref="Validate"/>.</summary>
public sealed record GeneratorOptions
{
    /// <summary>Event kind. <value>The default value is <see cref="EventKind.Clickstream"/>.</value></summary>
    public EventKind Kind { get; init; } = EventKind.Clickstream;

    /// <summary>Seed: the same seed gives the same events. <value>The default value is 42.</value></summary>
    public int Seed { get; init; } = 42;

    /// <summary>Distinct users. <value>The default value is 10,000.</value></summary>
    public int UserCount { get; init; } = 10_000;

    /// <summary>Zipf exponent of user activity (0 = uniform). <value>The default value is 1.1.</value></summary>
    public double ZipfExponent { get; init; } = 1.1;

    /// <summary>Timestamp of the first event. <value>The default value is 2026-01-01T00:00:00Z.</value></summary>
    public DateTimeOffset StartTime { get; init; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Mean time between events (exponential gaps). <value>The default value is 10 ms.</value></summary>
    public TimeSpan MeanInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Returns every problem with these options, or an empty list.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!Enum.IsDefined(Kind))
        {
            problems.Add($"Kind '{Kind}' is not an event kind (clickstream, ride-pricing).");
        }

        if (UserCount is < 1 or > 10_000_000)
        {
            problems.Add($"UserCount must be between 1 and 10,000,000 (was {UserCount}).");
        }

        if (double.IsNaN(ZipfExponent) || ZipfExponent is < 0 or > 10)
        {
            problems.Add($"ZipfExponent must be between 0 and 10 (was {ZipfExponent}).");
        }

        if (MeanInterval <= TimeSpan.Zero)
        {
            problems.Add($"MeanInterval must be positive (was {MeanInterval}).");
        }

        return problems;
    }
}
