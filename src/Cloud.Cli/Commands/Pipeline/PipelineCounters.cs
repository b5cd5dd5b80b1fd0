using System.Collections.Concurrent;

namespace Cloud.Cli.Commands.Pipeline;

/// <summary>
/// What the load generator and the producer's callbacks count while the pipeline runs (written from many threads
/// with <see cref="Interlocked"/>); the stats sampler reads it once per tick into a snapshot.
/// </summary>
internal sealed class PipelineCounters
{
    public long Sent;
    public long Durable;
    public long Refused;
    public long DeliveryFailures;
    public string? DemoRecord;
    public SchemaRecords.PipelineSchema? Schema;
    public (string? ShardId, string Sequence, long Sub)? DemoPosition;

    /// <summary>Durable user records per shard.</summary>
    public ConcurrentDictionary<string, long> PerShard { get; } = new(StringComparer.Ordinal);
}
