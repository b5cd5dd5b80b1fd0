using Cloud.Records;

namespace Cloud.Producer;

/// <summary>How the producer sizes aggregated records.</summary>
public enum AggregationSizeMode
{
    /// <summary>Aggregates grow up to <see cref="KinesisProducerOptions.AggregationMaxSize"/> bytes of data (KPL behaviour).</summary>
    MaxSize,

    /// <summary>
    /// Aggregates are cut so that data plus partition key fill whole 25 KiB PUT payload units (the billing unit),
    /// using as many units as <see cref="KinesisProducerOptions.AggregationMaxSize"/> allows (at least one).
    /// </summary>
    FillPayloadUnits,
}

/// <summary>
/// Options of <see cref="KinesisProducer"/>. Defaults follow the KPL where it has one
/// (https://github.com/awslabs/amazon-kinesis-producer/blob/master/java/amazon-kinesis-producer-sample/default_config.properties).
/// Validated once when the producer is built; every problem is reported in one <see cref="ProducerOptionsValidationException"/>.
/// </summary>
public sealed class KinesisProducerOptions
{
    /// <summary>Kinesis limit of records per PutRecords request.</summary>
    public const int PutRecordsMaxCount = 500;

    /// <summary>Kinesis limit of data + partition keys per PutRecords request (10 MiB).</summary>
    public const long PutRecordsMaxBytes = 10L * 1024 * 1024;

    /// <summary>Size of a PUT payload unit, the provisioned-mode billing unit (25 KiB).</summary>
    public const int PayloadUnitSize = KplFormat.PutPayloadUnitSize;

    /// <summary>Stream to write to. Required.</summary>
    public string StreamName { get; set; } = "";

    /// <summary>Pack user records bound for the same shard into KPL aggregated records.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool AggregationEnabled { get; set; } = true;

    /// <summary>
    /// Writes the current <see cref="System.Diagnostics.Activity"/>'s trace context (the record's <c>produce</c> span)
    /// into the record's KPL per-record tags (<see cref="Cloud.Records.KplTraceTags"/>), which KPL deaggregators skip,
    /// so a consumer can continue the trace. Only aggregates carry tags: a traced lone record goes out as a
    /// one-record aggregate, and nothing is written with <see cref="AggregationEnabled"/> off.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool PropagateTraceContext { get; set; }

    /// <summary>Maximum size in bytes of an aggregated record's data.</summary>
    /// <value>The default value is 51,200 (two PUT payload units).</value>
    public int AggregationMaxSize { get; set; } = 51_200;

    /// <summary>How aggregates are sized.</summary>
    /// <value>The default value is <see cref="AggregationSizeMode.MaxSize"/>.</value>
    public AggregationSizeMode AggregationMode { get; set; } = AggregationSizeMode.MaxSize;

    /// <summary>
    /// Compresses each Kinesis record (the whole aggregate, or a lone record) into this project's self-describing frame.
    /// Opt-in: KPL/KCL consumers cannot read compressed records; this project's <c>RecordDecoder</c> detects them.
    /// A record that would not shrink is sent uncompressed.
    /// </summary>
    /// <value>The default value is <see cref="CompressionCodec.None"/> (no frame at all).</value>
    public CompressionCodec Compression { get; set; } = CompressionCodec.None;

    /// <summary>Maximum Kinesis records per PutRecords request (1–500).</summary>
    /// <value>The default value is 500.</value>
    public int CollectionMaxCount { get; set; } = PutRecordsMaxCount;

    /// <summary>Maximum bytes (data + partition keys) per PutRecords request; at most the 10 MiB request limit.</summary>
    /// <value>The default value is 5 MiB.</value>
    public long CollectionMaxSize { get; set; } = 5L * 1024 * 1024;

    /// <summary>Longest time a record waits in the buffer for others to batch with (linger).</summary>
    /// <value>The default value is 100 ms.</value>
    public TimeSpan RecordMaxBufferedTime { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Time after which a record that could not be delivered fails with <see cref="DeliveryFailureReason.TtlExpired"/>.</summary>
    /// <value>The default value is 30 s.</value>
    public TimeSpan RecordTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Per-shard rate limit as a percentage of the shard limits (1,000 records/s and 1 MiB/s).</summary>
    /// <value>The default value is 150.</value>
    public int RateLimit { get; set; } = 150;

    /// <summary>Largest record (data + partition key) the stream accepts; Kinesis allows 1 MiB unless raised (≤10 MiB).</summary>
    /// <value>The default value is 1 MiB.</value>
    public int MaxRecordSize { get; set; } = 1024 * 1024;

    /// <summary>Records accepted but not yet completed above which <see cref="IKinesisProducer.SendAsync"/> waits.</summary>
    /// <value>The default value is 100,000.</value>
    public int MaxBufferedRecords { get; set; } = 100_000;

    /// <summary>Bytes (data + partition keys) accepted but not yet completed above which senders wait.</summary>
    /// <value>The default value is 64 MiB.</value>
    public long MaxBufferedBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Keep the order of each shard's records across retries: one request in flight per shard and one Kinesis record
    /// per shard per request, so a failed record blocks its shard until it is written (like Kafka's idempotent producer
    /// with max.in.flight = 1). Off: higher throughput without aggregation, but a retried record may land after later ones.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool PreserveOrdering { get; set; } = true;

    /// <summary>Upper bound of PutRecords requests in flight at once.</summary>
    /// <value>The default value is 16.</value>
    public int MaxConcurrentRequests { get; set; } = 16;

    /// <summary>Smallest retry backoff (before jitter); the backoff doubles per attempt.</summary>
    /// <value>The default value is 100 ms.</value>
    public TimeSpan RetryMinBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Largest retry backoff.</summary>
    /// <value>The default value is 5 s.</value>
    public TimeSpan RetryMaxBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Number of hot partition keys reported by the <c>cloud.producer.hot_key.records</c> metric; 0 turns tracking off.</summary>
    /// <value>The default value is 10.</value>
    public int HotKeyCount { get; set; } = 10;

    /// <summary>
    /// Called with every record that fails (the same exception its <see cref="IKinesisProducer.SendAsync"/> task faults with).
    /// Runs on the producer's loop: keep it short and non-blocking; exceptions it throws are swallowed and counted.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public Action<RecordDeliveryException>? FailureHandler { get; set; }

    /// <summary>Seed of the retry jitter; <see langword="null"/> seeds from the system (tests pass a value to be reproducible).</summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public int? RandomSeed { get; set; }

    /// <summary>Returns every problem of these options (empty when valid).</summary>
    public IReadOnlyList<string> GetValidationErrors()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(StreamName))
        {
            errors.Add("StreamName is required.");
        }
        else if (StreamName.Length > 128 || !StreamName.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
        {
            errors.Add($"StreamName '{StreamName}' must be 1–128 characters of [a-zA-Z0-9_.-].");
        }
        if (MaxRecordSize is < 1024 * 1024 or > 10 * 1024 * 1024)
        {
            errors.Add($"MaxRecordSize is {MaxRecordSize}; it must be between 1 MiB (1048576) and 10 MiB (10485760).");
        }
        if (AggregationMaxSize < 512 || AggregationMaxSize > MaxRecordSize)
        {
            errors.Add($"AggregationMaxSize is {AggregationMaxSize}; it must be between 512 and MaxRecordSize ({MaxRecordSize}).");
        }
        if (!Enum.IsDefined(AggregationMode))
        {
            errors.Add($"AggregationMode {(int)AggregationMode} is not a defined value.");
        }
        if (!Enum.IsDefined(Compression))
        {
            errors.Add($"Compression {(int)Compression} is not a defined codec.");
        }
        if (CollectionMaxCount is < 1 or > PutRecordsMaxCount)
        {
            errors.Add($"CollectionMaxCount is {CollectionMaxCount}; it must be between 1 and {PutRecordsMaxCount}.");
        }
        if (CollectionMaxSize < MaxRecordSize || CollectionMaxSize > PutRecordsMaxBytes)
        {
            errors.Add($"CollectionMaxSize is {CollectionMaxSize}; it must be between MaxRecordSize ({MaxRecordSize}) and the 10 MiB request limit ({PutRecordsMaxBytes}).");
        }
        if (RecordMaxBufferedTime < TimeSpan.Zero || RecordMaxBufferedTime > TimeSpan.FromMinutes(1))
        {
            errors.Add($"RecordMaxBufferedTime is {RecordMaxBufferedTime}; it must be between 0 and 1 minute.");
        }
        if (RecordTtl <= TimeSpan.Zero)
        {
            errors.Add($"RecordTtl is {RecordTtl}; it must be positive.");
        }
        else if (RecordTtl <= RecordMaxBufferedTime)
        {
            errors.Add($"RecordTtl ({RecordTtl}) must be longer than RecordMaxBufferedTime ({RecordMaxBufferedTime}).");
        }
        if (RateLimit is < 1 or > 10_000)
        {
            errors.Add($"RateLimit is {RateLimit}%; it must be between 1 and 10000.");
        }
        if (MaxBufferedRecords < 1)
        {
            errors.Add($"MaxBufferedRecords is {MaxBufferedRecords}; it must be at least 1.");
        }
        if (MaxBufferedBytes < MaxRecordSize)
        {
            errors.Add($"MaxBufferedBytes is {MaxBufferedBytes}; it must be at least MaxRecordSize ({MaxRecordSize}) so any valid record fits.");
        }
        if (MaxConcurrentRequests is < 1 or > 1024)
        {
            errors.Add($"MaxConcurrentRequests is {MaxConcurrentRequests}; it must be between 1 and 1024.");
        }
        if (RetryMinBackoff <= TimeSpan.Zero)
        {
            errors.Add($"RetryMinBackoff is {RetryMinBackoff}; it must be positive.");
        }
        if (RetryMaxBackoff < RetryMinBackoff)
        {
            errors.Add($"RetryMaxBackoff ({RetryMaxBackoff}) must not be below RetryMinBackoff ({RetryMinBackoff}).");
        }
        if (HotKeyCount is < 0 or > 1000)
        {
            errors.Add($"HotKeyCount is {HotKeyCount}; it must be between 0 and 1000.");
        }
        return errors;
    }

    /// <summary>Throws <see cref="ProducerOptionsValidationException"/> naming every problem, if any.</summary>
    public void Validate()
    {
        var errors = GetValidationErrors();
        if (errors.Count > 0)
        {
            throw new ProducerOptionsValidationException(errors);
        }
    }

    internal KinesisProducerOptions Clone() => (KinesisProducerOptions)MemberwiseClone();
}
