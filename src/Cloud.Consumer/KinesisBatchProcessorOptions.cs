namespace Cloud.Consumer;

/// <summary>Settings of a <see cref="KinesisBatchProcessor"/>. Validated once, when the processor is built.</summary>
public sealed class KinesisBatchProcessorOptions
{
    /// <summary>
    /// How many ordering lanes (distinct keys) run at once. 1 handles the batch strictly in record order.
    /// </summary>
    /// <value>The default value is 4.</value>
    public int MaxDegreeOfParallelism { get; init; } = 4;

    /// <summary>
    /// Longest a handler may run for one user record. On expiry its token is cancelled and the record
    /// fails with <see cref="RecordFailureStage.Timeout"/> even if the handler ignores the token.
    /// </summary>
    /// <value>The default value is null (no per-record limit; the caller's token still applies).</value>
    public TimeSpan? RecordTimeout { get; init; }

    /// <summary>Which key defines an ordering lane.</summary>
    /// <value>The default value is <see cref="OrderingKey.UserRecordPartitionKey"/>.</value>
    public OrderingKey OrderBy { get; init; } = OrderingKey.UserRecordPartitionKey;

    /// <summary>Stages run between decoding and the handler (for example decryption), in order.</summary>
    /// <value>The default value is empty.</value>
    public IReadOnlyList<IUserRecordTransform> Transforms { get; init; } = [];

    /// <summary>Called once for every failed or skipped record (from any lane; must be thread-safe).</summary>
    /// <value>The default value is null.</value>
    public Action<RecordFailure>? OnRecordFailure { get; init; }

    /// <summary>
    /// Decodes each Kinesis record (frames, aggregates) and bounds decompression: per record, and per batch through
    /// one <see cref="Cloud.Records.RecordDecoder.CreateBatchBudget"/> for each <c>ProcessAsync</c> call. A record
    /// over either bound fails at the <see cref="RecordFailureStage.Decode"/> stage; the others go on.
    /// </summary>
    /// <value>The default value is <see cref="Cloud.Records.RecordDecoder.Default"/> (32 MiB per record, 128 MiB per batch).</value>
    public Cloud.Records.RecordDecoder Decoder { get; init; } = Cloud.Records.RecordDecoder.Default;

    /// <summary>
    /// The KCL's shard-range rule, opt-in: given a record's shard id (from its <c>eventID</c>), the shard's hash key range.
    /// An aggregate with any user record hashing outside that range is dropped whole, as the KCL's
    /// <c>AggregatorUtil.deaggregate(records, startingHashKey, endingHashKey)</c> does, and counted in
    /// <see cref="BatchProcessingResult.DroppedByShardRange"/>. Return null for an unknown shard (no check).
    /// </summary>
    /// <value>The default is null: every aggregate is kept.</value>
    public Func<string, (UInt128 Start, UInt128 End)?>? KclShardRange { get; init; }

    /// <summary>Clock for <see cref="RecordTimeout"/>.</summary>
    /// <value>The default value is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Throws one <see cref="ArgumentException"/> listing every invalid setting.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (MaxDegreeOfParallelism is < 1 or > 1024)
        {
            problems.Add($"MaxDegreeOfParallelism must be between 1 and 1024 (was {MaxDegreeOfParallelism}).");
        }

        if (RecordTimeout is { } t && (t <= TimeSpan.Zero || t > TimeSpan.FromMinutes(15)))
        {
            problems.Add($"RecordTimeout must be positive and at most 15 minutes (was {t}).");
        }

        if (!Enum.IsDefined(OrderBy))
        {
            problems.Add($"OrderBy has an unknown value {(int)OrderBy}.");
        }

        if (Transforms is null || Transforms.Any(t => t is null))
        {
            problems.Add("Transforms must not be null or contain null stages.");
        }

        if (Decoder is null)
        {
            problems.Add("Decoder must not be null.");
        }

        if (TimeProvider is null)
        {
            problems.Add("TimeProvider must not be null.");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid KinesisBatchProcessorOptions: " + string.Join(" ", problems));
        }
    }
}

/// <summary>The key whose order a <see cref="KinesisBatchProcessor"/> keeps.</summary>
public enum OrderingKey
{
    /// <summary>The user record's own partition key (sub-records of one aggregate may run on different lanes).</summary>
    UserRecordPartitionKey,

    /// <summary>The Kinesis record's partition key (a whole aggregate stays on one lane).</summary>
    KinesisPartitionKey,
}
