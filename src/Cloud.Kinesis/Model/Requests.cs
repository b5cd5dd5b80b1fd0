namespace Cloud.Kinesis.Model;

// Request shapes, named and typed as in the Kinesis API reference (JSON 1.1, PascalCase members).
// Blobs (Data) are base64 strings on the wire; timestamps are epoch seconds (number).

/// <summary>StreamMode of a stream: PROVISIONED or ON_DEMAND.</summary>
public sealed record StreamModeDetails(string StreamMode)
{
    /// <summary>Provisioned capacity (ShardCount).</summary>
    public static StreamModeDetails Provisioned { get; } = new("PROVISIONED");
    /// <summary>On-demand capacity.</summary>
    public static StreamModeDetails OnDemand { get; } = new("ON_DEMAND");
}

/// <summary>CreateStream input.</summary>
public sealed record CreateStreamRequest
{
    /// <summary>Stream name (1–128 chars, [a-zA-Z0-9_.-]).</summary>
    public required string StreamName { get; init; }
    /// <summary>Shard count for a provisioned stream; null for ON_DEMAND.</summary>
    public int? ShardCount { get; init; }
    /// <summary>Capacity mode; null means provisioned.</summary>
    public StreamModeDetails? StreamModeDetails { get; init; }
}

/// <summary>DescribeStreamSummary input (name or ARN).</summary>
public sealed record DescribeStreamSummaryRequest
{
    /// <summary>Stream name.</summary>
    public string? StreamName { get; init; }
    /// <summary>Stream ARN.</summary>
    public string? StreamARN { get; init; }
}

/// <summary>ListStreams input.</summary>
public sealed record ListStreamsRequest
{
    /// <summary>Maximum names to return (1–10,000).</summary>
    public int? Limit { get; init; }
    /// <summary>Start after this stream name.</summary>
    public string? ExclusiveStartStreamName { get; init; }
    /// <summary>Paging token.</summary>
    public string? NextToken { get; init; }
}

/// <summary>ShardFilter of ListShards.</summary>
public sealed record ShardFilter
{
    /// <summary>AFTER_SHARD_ID | AT_TRIM_HORIZON | FROM_TRIM_HORIZON | AT_LATEST | AT_TIMESTAMP | FROM_TIMESTAMP.</summary>
    public required string Type { get; init; }
    /// <summary>For AFTER_SHARD_ID.</summary>
    public string? ShardId { get; init; }
    /// <summary>For AT_TIMESTAMP / FROM_TIMESTAMP.</summary>
    public DateTimeOffset? Timestamp { get; init; }
}

/// <summary>ListShards input. With NextToken, StreamName must be absent (the client handles that).</summary>
public sealed record ListShardsRequest
{
    /// <summary>Stream name.</summary>
    public string? StreamName { get; init; }
    /// <summary>Stream ARN.</summary>
    public string? StreamARN { get; init; }
    /// <summary>Paging token.</summary>
    public string? NextToken { get; init; }
    /// <summary>Start after this shard id.</summary>
    public string? ExclusiveStartShardId { get; init; }
    /// <summary>Page size (1–10,000).</summary>
    public int? MaxResults { get; init; }
    /// <summary>Shard filter.</summary>
    public ShardFilter? ShardFilter { get; init; }
}

/// <summary>PutRecord input.</summary>
public sealed record PutRecordRequest
{
    /// <summary>Stream name.</summary>
    public required string StreamName { get; init; }
    /// <summary>Record payload.</summary>
    public required ReadOnlyMemory<byte> Data { get; init; }
    /// <summary>Partition key (1–256 Unicode chars).</summary>
    public required string PartitionKey { get; init; }
    /// <summary>Decimal 128-bit hash key overriding the partition key hash.</summary>
    public string? ExplicitHashKey { get; init; }
    /// <summary>Strict ordering within a partition key.</summary>
    public string? SequenceNumberForOrdering { get; init; }
}

/// <summary>One entry of PutRecords.</summary>
public sealed record PutRecordsRequestEntry
{
    /// <summary>Record payload.</summary>
    public required ReadOnlyMemory<byte> Data { get; init; }
    /// <summary>Partition key (1–256 Unicode chars).</summary>
    public required string PartitionKey { get; init; }
    /// <summary>Decimal 128-bit hash key overriding the partition key hash.</summary>
    public string? ExplicitHashKey { get; init; }
}

/// <summary>PutRecords input (≤500 records, ≤10 MiB).</summary>
public sealed record PutRecordsRequest
{
    /// <summary>Stream name.</summary>
    public required string StreamName { get; init; }
    /// <summary>Records to write.</summary>
    public required IReadOnlyList<PutRecordsRequestEntry> Records { get; init; }
}

/// <summary>ShardIteratorType values.</summary>
public static class ShardIteratorType
{
    /// <summary>Oldest record.</summary>
    public const string TrimHorizon = "TRIM_HORIZON";
    /// <summary>Just after the newest record.</summary>
    public const string Latest = "LATEST";
    /// <summary>At a sequence number.</summary>
    public const string AtSequenceNumber = "AT_SEQUENCE_NUMBER";
    /// <summary>After a sequence number.</summary>
    public const string AfterSequenceNumber = "AFTER_SEQUENCE_NUMBER";
    /// <summary>At an arrival timestamp.</summary>
    public const string AtTimestamp = "AT_TIMESTAMP";
}

/// <summary>GetShardIterator input.</summary>
public sealed record GetShardIteratorRequest
{
    /// <summary>Stream name.</summary>
    public required string StreamName { get; init; }
    /// <summary>Shard id.</summary>
    public required string ShardId { get; init; }
    /// <summary>One of <see cref="Model.ShardIteratorType"/>.</summary>
    public required string ShardIteratorType { get; init; }
    /// <summary>For AT/AFTER_SEQUENCE_NUMBER.</summary>
    public string? StartingSequenceNumber { get; init; }
    /// <summary>For AT_TIMESTAMP.</summary>
    public DateTimeOffset? Timestamp { get; init; }
}

/// <summary>GetRecords input.</summary>
public sealed record GetRecordsRequest
{
    /// <summary>Shard iterator.</summary>
    public required string ShardIterator { get; init; }
    /// <summary>Maximum records (1–10,000).</summary>
    public int? Limit { get; init; }
}

/// <summary>UpdateShardCount input.</summary>
public sealed record UpdateShardCountRequest
{
    /// <summary>Stream name.</summary>
    public required string StreamName { get; init; }
    /// <summary>Target shard count.</summary>
    public required int TargetShardCount { get; init; }
    /// <summary>Only UNIFORM_SCALING exists.</summary>
    public string ScalingType { get; init; } = "UNIFORM_SCALING";
}

/// <summary>SplitShard input.</summary>
public sealed record SplitShardRequest
{
    /// <summary>Stream name.</summary>
    public required string StreamName { get; init; }
    /// <summary>Shard to split.</summary>
    public required string ShardToSplit { get; init; }
    /// <summary>Decimal hash key where the second child starts.</summary>
    public required string NewStartingHashKey { get; init; }
}

/// <summary>MergeShards input.</summary>
public sealed record MergeShardsRequest
{
    /// <summary>Stream name.</summary>
    public required string StreamName { get; init; }
    /// <summary>First shard.</summary>
    public required string ShardToMerge { get; init; }
    /// <summary>Adjacent shard.</summary>
    public required string AdjacentShardToMerge { get; init; }
}

/// <summary>Increase/DecreaseStreamRetentionPeriod input.</summary>
public sealed record StreamRetentionPeriodRequest
{
    /// <summary>Stream name.</summary>
    public required string StreamName { get; init; }
    /// <summary>Retention in hours (24–8760).</summary>
    public required int RetentionPeriodHours { get; init; }
}

/// <summary>StartStreamEncryption input.</summary>
public sealed record StartStreamEncryptionRequest
{
    /// <summary>Stream name.</summary>
    public required string StreamName { get; init; }
    /// <summary>Only KMS exists.</summary>
    public string EncryptionType { get; init; } = "KMS";
    /// <summary>KMS key id, ARN or alias (alias/aws/kinesis for the AWS managed key).</summary>
    public required string KeyId { get; init; }
}

/// <summary>AddTagsToStream input.</summary>
public sealed record AddTagsToStreamRequest
{
    /// <summary>Stream name.</summary>
    public required string StreamName { get; init; }
    /// <summary>Tags to add or overwrite.</summary>
    public required IReadOnlyDictionary<string, string> Tags { get; init; }
}

/// <summary>DeleteStream input.</summary>
public sealed record DeleteStreamRequest
{
    /// <summary>Stream name.</summary>
    public required string StreamName { get; init; }
    /// <summary>Delete even if EFO consumers are registered.</summary>
    public bool? EnforceConsumerDeletion { get; init; }
}

/// <summary>RegisterStreamConsumer input.</summary>
public sealed record RegisterStreamConsumerRequest
{
    /// <summary>Stream ARN.</summary>
    public required string StreamARN { get; init; }
    /// <summary>Consumer name.</summary>
    public required string ConsumerName { get; init; }
}

/// <summary>ListStreamConsumers input.</summary>
public sealed record ListStreamConsumersRequest
{
    /// <summary>Stream ARN.</summary>
    public required string StreamARN { get; init; }
    /// <summary>Paging token.</summary>
    public string? NextToken { get; init; }
    /// <summary>Page size.</summary>
    public int? MaxResults { get; init; }
}

/// <summary>DeregisterStreamConsumer input (ARN+name or consumer ARN).</summary>
public sealed record DeregisterStreamConsumerRequest
{
    /// <summary>Stream ARN.</summary>
    public string? StreamARN { get; init; }
    /// <summary>Consumer name.</summary>
    public string? ConsumerName { get; init; }
    /// <summary>Consumer ARN.</summary>
    public string? ConsumerARN { get; init; }
}

/// <summary>ListTagsForStream input (used to verify AddTagsToStream; not part of <see cref="IKinesisClient"/>).</summary>
public sealed record ListTagsForStreamRequest
{
    /// <summary>Stream name.</summary>
    public required string StreamName { get; init; }
    /// <summary>Start after this tag key.</summary>
    public string? ExclusiveStartTagKey { get; init; }
    /// <summary>Maximum tags (1–50).</summary>
    public int? Limit { get; init; }
}
