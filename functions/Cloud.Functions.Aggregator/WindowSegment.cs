namespace Cloud.Functions.Aggregator;

/// <summary>
/// A part of one shard's window written out at once: the whole window on the final invoke, or the part
/// before an early end (state budget reached, or Lambda's <c>isWindowTerminatedEarly</c>). Its
/// <see cref="ContributionId"/> (<c>shardId/firstSequence/firstSub</c>) is unique and deterministic, so
/// writing the same segment twice (a retried invoke) is detected and counted once.
/// </summary>
public sealed record WindowSegment
{
    /// <summary>Window start.</summary>
    public required DateTimeOffset WindowStart { get; init; }

    /// <summary>Window end.</summary>
    public required DateTimeOffset WindowEnd { get; init; }

    /// <summary><c>shardId/firstSequenceNumber/firstSubSequenceNumber</c> of the segment.</summary>
    public required string ContributionId { get; init; }

    /// <summary>Numeric fields, in <see cref="KeyAggregate.Fields"/> order.</summary>
    public required IReadOnlyList<string> SumFields { get; init; }

    /// <summary>Categorical field, or null.</summary>
    public string? TopKField { get; init; }

    /// <summary>Categories kept per key.</summary>
    public int TopKCapacity { get; init; }

    /// <summary>The aggregates per key.</summary>
    public required IReadOnlyDictionary<string, KeyAggregate> Keys { get; init; }
}

/// <summary>Where window segments go (DynamoDB in production; in-memory in tests).</summary>
public interface IAggregateSink
{
    /// <summary>Merges <paramref name="segment"/> into the stored results, idempotently per <see cref="WindowSegment.ContributionId"/>.</summary>
    Task WriteAsync(WindowSegment segment, CancellationToken cancellationToken);
}
