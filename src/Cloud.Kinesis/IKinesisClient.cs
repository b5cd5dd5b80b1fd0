using Cloud.Kinesis.Model;

namespace Cloud.Kinesis;

/// <summary>
/// The Kinesis Data Streams operations this project uses, over the JSON 1.1 protocol.
/// One interface so that producers, consumers and tests can substitute a fake.
/// See https://docs.aws.amazon.com/kinesis/latest/APIReference/API_Operations.html.
/// </summary>
/// <remarks>
/// Every method validates its request before sending (throwing <see cref="KinesisValidationException"/>
/// naming the field) and maps service errors to subclasses of <see cref="KinesisServiceException"/>.
/// </remarks>
public interface IKinesisClient
{
    /// <summary>Creates a provisioned (ShardCount) or ON_DEMAND stream.</summary>
    Task CreateStreamAsync(CreateStreamRequest request, CancellationToken cancellationToken = default);

    /// <summary>Describes a stream without listing its shards.</summary>
    Task<DescribeStreamSummaryResponse> DescribeStreamSummaryAsync(DescribeStreamSummaryRequest request, CancellationToken cancellationToken = default);

    /// <summary>Lists streams of the account (one page).</summary>
    Task<ListStreamsResponse> ListStreamsAsync(ListStreamsRequest request, CancellationToken cancellationToken = default);

    /// <summary>Lists shards (one page; pass <see cref="ListShardsResponse.NextToken"/> for the next).</summary>
    Task<ListShardsResponse> ListShardsAsync(ListShardsRequest request, CancellationToken cancellationToken = default);

    /// <summary>Writes one record.</summary>
    Task<PutRecordResponse> PutRecordAsync(PutRecordRequest request, CancellationToken cancellationToken = default);

    /// <summary>Writes up to 500 records; failed records are reported per record, not thrown.</summary>
    Task<PutRecordsResponse> PutRecordsAsync(PutRecordsRequest request, CancellationToken cancellationToken = default);

    /// <summary>Gets a shard iterator.</summary>
    Task<GetShardIteratorResponse> GetShardIteratorAsync(GetShardIteratorRequest request, CancellationToken cancellationToken = default);

    /// <summary>Reads records from a shard iterator.</summary>
    Task<GetRecordsResponse> GetRecordsAsync(GetRecordsRequest request, CancellationToken cancellationToken = default);

    /// <summary>Uniformly rescales a provisioned stream.</summary>
    Task<UpdateShardCountResponse> UpdateShardCountAsync(UpdateShardCountRequest request, CancellationToken cancellationToken = default);

    /// <summary>Splits a shard at a new starting hash key.</summary>
    Task SplitShardAsync(SplitShardRequest request, CancellationToken cancellationToken = default);

    /// <summary>Merges two adjacent shards.</summary>
    Task MergeShardsAsync(MergeShardsRequest request, CancellationToken cancellationToken = default);

    /// <summary>Raises the retention period.</summary>
    Task IncreaseStreamRetentionPeriodAsync(StreamRetentionPeriodRequest request, CancellationToken cancellationToken = default);

    /// <summary>Lowers the retention period.</summary>
    Task DecreaseStreamRetentionPeriodAsync(StreamRetentionPeriodRequest request, CancellationToken cancellationToken = default);

    /// <summary>Turns on server-side encryption with a KMS key.</summary>
    Task StartStreamEncryptionAsync(StartStreamEncryptionRequest request, CancellationToken cancellationToken = default);

    /// <summary>Adds or overwrites tags.</summary>
    Task AddTagsToStreamAsync(AddTagsToStreamRequest request, CancellationToken cancellationToken = default);

    /// <summary>Deletes a stream.</summary>
    Task DeleteStreamAsync(DeleteStreamRequest request, CancellationToken cancellationToken = default);

    /// <summary>Registers an enhanced fan-out consumer.</summary>
    Task<RegisterStreamConsumerResponse> RegisterStreamConsumerAsync(RegisterStreamConsumerRequest request, CancellationToken cancellationToken = default);

    /// <summary>Lists enhanced fan-out consumers (one page).</summary>
    Task<ListStreamConsumersResponse> ListStreamConsumersAsync(ListStreamConsumersRequest request, CancellationToken cancellationToken = default);

    /// <summary>Deregisters an enhanced fan-out consumer.</summary>
    Task DeregisterStreamConsumerAsync(DeregisterStreamConsumerRequest request, CancellationToken cancellationToken = default);
}
