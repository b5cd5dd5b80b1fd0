using Cloud.Functions.Aggregator;

namespace Cloud.Benchmarks.Consumer;

/// <summary>A window sink that stores nothing: the benchmarks measure the handler, not DynamoDB.</summary>
internal sealed class NullAggregateSink : IAggregateSink
{
    public Task WriteAsync(WindowSegment segment, CancellationToken cancellationToken) => Task.CompletedTask;
}
