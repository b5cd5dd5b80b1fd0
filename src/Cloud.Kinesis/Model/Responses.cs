namespace Cloud.Kinesis.Model;

/// <summary>DescribeStreamSummary output.</summary>
public sealed record DescribeStreamSummaryResponse
{
    /// <summary>The summary.</summary>
    public required StreamDescriptionSummary StreamDescriptionSummary { get; init; }
}

/// <summary>Stream summary.</summary>
public sealed record StreamDescriptionSummary
{
    /// <summary>Name.</summary>
    public required string StreamName { get; init; }
    /// <summary>ARN.</summary>
    public required string StreamARN { get; init; }
    /// <summary>CREATING | DELETING | ACTIVE | UPDATING.</summary>
    public required string StreamStatus { get; init; }
    /// <summary>Capacity mode.</summary>
    public StreamModeDetails? StreamModeDetails { get; init; }
    /// <summary>Retention.</summary>
    public int RetentionPeriodHours { get; init; }
    /// <summary>Creation time.</summary>
    public DateTimeOffset? StreamCreationTimestamp { get; init; }
    /// <summary>NONE | KMS.</summary>
    public string? EncryptionType { get; init; }
    /// <summary>KMS key.</summary>
    public string? KeyId { get; init; }
    /// <summary>Open shards.</summary>
    public int OpenShardCount { get; init; }
    /// <summary>EFO consumers.</summary>
    public int? ConsumerCount { get; init; }
}

/// <summary>ListStreams output.</summary>
public sealed record ListStreamsResponse
{
    /// <summary>Stream names of this page.</summary>
    public IReadOnlyList<string> StreamNames { get; init; } = [];
    /// <summary>Whether more pages exist.</summary>
    public bool HasMoreStreams { get; init; }
    /// <summary>Paging token.</summary>
    public string? NextToken { get; init; }
}

/// <summary>Inclusive 128-bit hash key range, as decimal strings.</summary>
public sealed record HashKeyRange(string StartingHashKey, string EndingHashKey);

/// <summary>Sequence number range of a shard (EndingSequenceNumber set once closed).</summary>
public sealed record SequenceNumberRange(string StartingSequenceNumber, string? EndingSequenceNumber);

/// <summary>A shard.</summary>
public sealed record Shard
{
    /// <summary>Shard id.</summary>
    public required string ShardId { get; init; }
    /// <summary>Parent after a split or merge.</summary>
    public string? ParentShardId { get; init; }
    /// <summary>Second parent after a merge.</summary>
    public string? AdjacentParentShardId { get; init; }
    /// <summary>Hash key range.</summary>
    public required HashKeyRange HashKeyRange { get; init; }
    /// <summary>Sequence number range.</summary>
    public required SequenceNumberRange SequenceNumberRange { get; init; }
}

/// <summary>ListShards output.</summary>
public sealed record ListShardsResponse
{
    /// <summary>Shards of this page.</summary>
    public IReadOnlyList<Shard> Shards { get; init; } = [];
    /// <summary>Paging token.</summary>
    public string? NextToken { get; init; }
}

/// <summary>PutRecord output.</summary>
public sealed record PutRecordResponse
{
    /// <summary>Shard written to.</summary>
    public required string ShardId { get; init; }
    /// <summary>Assigned sequence number.</summary>
    public required string SequenceNumber { get; init; }
    /// <summary>NONE | KMS.</summary>
    public string? EncryptionType { get; init; }
}

/// <summary>Per-record result of PutRecords: SequenceNumber+ShardId, or ErrorCode+ErrorMessage.</summary>
public sealed record PutRecordsResultEntry
{
    /// <summary>Sequence number when written.</summary>
    public string? SequenceNumber { get; init; }
    /// <summary>Shard when written.</summary>
    public string? ShardId { get; init; }
    /// <summary>ProvisionedThroughputExceededException | InternalFailure when failed.</summary>
    public string? ErrorCode { get; init; }
    /// <summary>Error detail when failed.</summary>
    public string? ErrorMessage { get; init; }
}

/// <summary>PutRecords output; Records is in request order.</summary>
public sealed record PutRecordsResponse
{
    /// <summary>How many failed.</summary>
    public int FailedRecordCount { get; init; }
    /// <summary>Results, one per request entry, same order.</summary>
    public IReadOnlyList<PutRecordsResultEntry> Records { get; init; } = [];
    /// <summary>NONE | KMS.</summary>
    public string? EncryptionType { get; init; }
}

/// <summary>GetShardIterator output.</summary>
public sealed record GetShardIteratorResponse
{
    /// <summary>The iterator (valid 5 minutes).</summary>
    public required string ShardIterator { get; init; }
}

/// <summary>A record read from a shard.</summary>
public sealed record Record
{
    /// <summary>Sequence number.</summary>
    public required string SequenceNumber { get; init; }
    /// <summary>Arrival time.</summary>
    public DateTimeOffset ApproximateArrivalTimestamp { get; init; }
    /// <summary>Payload.</summary>
    public required ReadOnlyMemory<byte> Data { get; init; }
    /// <summary>Partition key.</summary>
    public required string PartitionKey { get; init; }
    /// <summary>NONE | KMS.</summary>
    public string? EncryptionType { get; init; }
}

/// <summary>A child shard reported when a shard is closed.</summary>
public sealed record ChildShard
{
    /// <summary>Child shard id.</summary>
    public required string ShardId { get; init; }
    /// <summary>Parents.</summary>
    public IReadOnlyList<string> ParentShards { get; init; } = [];
    /// <summary>Hash key range.</summary>
    public required HashKeyRange HashKeyRange { get; init; }
}

/// <summary>GetRecords output. NextShardIterator is null once a closed shard is fully read.</summary>
public sealed record GetRecordsResponse
{
    /// <summary>Records.</summary>
    public IReadOnlyList<Record> Records { get; init; } = [];
    /// <summary>Next iterator, null at the end of a closed shard.</summary>
    public string? NextShardIterator { get; init; }
    /// <summary>Milliseconds behind the tip.</summary>
    public long? MillisBehindLatest { get; init; }
    /// <summary>Children of a closed shard.</summary>
    public IReadOnlyList<ChildShard>? ChildShards { get; init; }
}

/// <summary>UpdateShardCount output.</summary>
public sealed record UpdateShardCountResponse
{
    /// <summary>Stream name.</summary>
    public string? StreamName { get; init; }
    /// <summary>Count before.</summary>
    public int CurrentShardCount { get; init; }
    /// <summary>Count requested.</summary>
    public int TargetShardCount { get; init; }
}

/// <summary>An enhanced fan-out consumer.</summary>
public sealed record Consumer
{
    /// <summary>Name.</summary>
    public required string ConsumerName { get; init; }
    /// <summary>ARN.</summary>
    public required string ConsumerARN { get; init; }
    /// <summary>CREATING | DELETING | ACTIVE.</summary>
    public required string ConsumerStatus { get; init; }
    /// <summary>Creation time.</summary>
    public DateTimeOffset? ConsumerCreationTimestamp { get; init; }
}

/// <summary>RegisterStreamConsumer output.</summary>
public sealed record RegisterStreamConsumerResponse
{
    /// <summary>The consumer.</summary>
    public required Consumer Consumer { get; init; }
}

/// <summary>ListStreamConsumers output.</summary>
public sealed record ListStreamConsumersResponse
{
    /// <summary>Consumers of this page.</summary>
    public IReadOnlyList<Consumer> Consumers { get; init; } = [];
    /// <summary>Paging token.</summary>
    public string? NextToken { get; init; }
}

/// <summary>A stream tag.</summary>
public sealed record Tag(string Key, string? Value);

/// <summary>ListTagsForStream output.</summary>
public sealed record ListTagsForStreamResponse
{
    /// <summary>Tags of this page.</summary>
    public IReadOnlyList<Tag> Tags { get; init; } = [];
    /// <summary>Whether more tags exist.</summary>
    public bool HasMoreTags { get; init; }
}
