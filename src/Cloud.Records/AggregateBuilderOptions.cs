namespace Cloud.Records;

/// <summary>How an <see cref="AggregateBuilder"/> bounds the size of the aggregates it builds.</summary>
public sealed class AggregateBuilderOptions
{
    /// <summary>
    /// Largest aggregate, in bytes (magic + protobuf + MD5). With <see cref="FillPayloadUnits"/> on, the bound is
    /// the largest multiple of 25,600 not above this value and includes the outer partition key.
    /// </summary>
    /// <value>The default value is 51,200 bytes (the KPL's <c>AggregationMaxSize</c>).</value>
    public int MaxAggregateSize { get; init; } = KplFormat.DefaultMaxAggregateSize;

    /// <summary>
    /// Fill PUT payload units exactly: bound the Kinesis record size as Kinesis bills it (aggregate bytes plus the
    /// outer partition key's UTF-8 bytes) to a whole number of 25 KB units, so no record spills a few bytes
    /// into an extra unit.
    /// </summary>
    /// <value>The default value is false (KPL behaviour: only the aggregate bytes are bounded).</value>
    public bool FillPayloadUnits { get; init; }

    /// <summary>The default options (51,200-byte aggregates, KPL-compatible sizing).</summary>
    public static AggregateBuilderOptions Default { get; } = new();

    /// <summary>Throws one <see cref="ArgumentException"/> naming every invalid option.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (MaxAggregateSize < KplFormat.Overhead + 16 || MaxAggregateSize > KplFormat.MaxKinesisRecordSize)
        {
            problems.Add($"MaxAggregateSize must be between {KplFormat.Overhead + 16} and {KplFormat.MaxKinesisRecordSize} bytes; it is {MaxAggregateSize}.");
        }
        if (FillPayloadUnits && MaxAggregateSize < KplFormat.PutPayloadUnitSize)
        {
            problems.Add($"FillPayloadUnits needs MaxAggregateSize of at least one payload unit ({KplFormat.PutPayloadUnitSize} bytes); it is {MaxAggregateSize}.");
        }
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid AggregateBuilderOptions: " + string.Join(" ", problems));
        }
    }
}
