namespace Cloud.EventSourceMapping;

/// <summary>Where a mapping starts reading a shard that has no checkpoint yet.</summary>
public enum StartingPosition
{
    /// <summary>The oldest record still in the shard.</summary>
    TrimHorizon,
    /// <summary>Records that arrive after the mapping first started.</summary>
    Latest,
    /// <summary>Records that arrived at or after <see cref="EventSourceMappingOptions.StartingPositionTimestamp"/>.</summary>
    AtTimestamp,
}

/// <summary>
/// Settings of a <see cref="LocalEventSourceMapping"/>: the parameters of a Lambda Kinesis event source mapping
/// (same names, defaults and ranges as CreateEventSourceMapping) plus what a local runner needs.
/// See https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-parameters.html.
/// </summary>
public sealed class EventSourceMappingOptions
{
    /// <summary>The value of <see cref="FunctionResponseTypes"/> that turns on partial batch responses.</summary>
    public const string ReportBatchItemFailures = "ReportBatchItemFailures";

    /// <summary>Name of the stream to read. Either this or <see cref="StreamArn"/> is required.</summary>
    public string? StreamName { get; set; }

    /// <summary>ARN of the stream to read (the name is taken from it when <see cref="StreamName"/> is empty).</summary>
    /// <value>When null, the ARN reported by DescribeStreamSummary is used in events.</value>
    public string? StreamArn { get; set; }

    /// <summary>Where to start a shard that has no checkpoint.</summary>
    /// <value>The default value is <see cref="StartingPosition.TrimHorizon"/>.</value>
    public StartingPosition StartingPosition { get; set; } = StartingPosition.TrimHorizon;

    /// <summary>Start time for <see cref="StartingPosition.AtTimestamp"/> (required then, refused otherwise).</summary>
    public DateTimeOffset? StartingPositionTimestamp { get; set; }

    /// <summary>Maximum records per invoke (1–10,000).</summary>
    /// <value>The default value is 100.</value>
    public int BatchSize { get; set; } = 100;

    /// <summary>How long to gather records before invoking (0–300 s); a full batch or a closed shard invokes at once.</summary>
    /// <value>The default value is 0 (invoke as soon as records are read).</value>
    public int MaximumBatchingWindowInSeconds { get; set; }

    /// <summary>On a function error, split the batch in two and retry each half (does not use retry attempts).</summary>
    /// <value>The default value is false.</value>
    public bool BisectBatchOnFunctionError { get; set; }

    /// <summary>Retries of a failed batch before it goes to the on-failure destination (−1 = infinite, up to 10,000).</summary>
    /// <value>The default value is −1.</value>
    public int MaximumRetryAttempts { get; set; } = -1;

    /// <summary>Records older than this are not invoked but sent to the on-failure destination (−1 = infinite, or 60–604,800).</summary>
    /// <value>The default value is −1.</value>
    public int MaximumRecordAgeInSeconds { get; set; } = -1;

    /// <summary>Response types the function may return; only <c>ReportBatchItemFailures</c> exists.</summary>
    /// <value>The default value is empty: the function's response body is ignored (except <c>state</c> for windows).</value>
    public IList<string> FunctionResponseTypes { get; } = [];

    /// <summary>Tumbling window length in seconds (0–900; 0 = no windows).</summary>
    /// <value>The default value is 0.</value>
    public int TumblingWindowInSeconds { get; set; }

    /// <summary>How often an idle shard is polled (more often while records keep arriving).</summary>
    /// <value>The default value is 1 second, as Lambda does. Range: 1 ms – 1 minute.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Pause between retries of a failed invoke.</summary>
    /// <value>The default value is 500 ms. Range: 0 – 5 minutes.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long one invoke may run; past it the invoke is cancelled and counted as a function error.</summary>
    /// <value>The default value is 60 seconds. Range: 1 second – 15 minutes (Lambda's limit).</value>
    public TimeSpan FunctionTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the shard list is re-read to find new shards (also re-read whenever a shard is finished).</summary>
    /// <value>The default value is 30 seconds. Range: 1 ms – 1 hour.</value>
    public TimeSpan ShardDiscoveryInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Where batches that failed after retries or aged out are reported; null = they are only logged.</summary>
    public IOnFailureDestination? OnFailureDestination { get; set; }

    /// <summary>ARN of the destination, written nowhere but logs; informational.</summary>
    public string? OnFailureDestinationArn { get; set; }

    /// <summary>Function ARN reported in on-failure records.</summary>
    /// <value>The default value is <c>arn:aws:lambda:us-east-1:000000000000:function:local</c>.</value>
    public string FunctionArn { get; set; } = "arn:aws:lambda:us-east-1:000000000000:function:local";

    /// <summary>Region written to <c>awsRegion</c> of each record.</summary>
    /// <value>The default value is us-east-1.</value>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Role written to <c>invokeIdentityArn</c> of each record.</summary>
    /// <value>The default value is <c>arn:aws:iam::000000000000:role/lambda-role</c>.</value>
    public string InvokeIdentityArn { get; set; } = "arn:aws:iam::000000000000:role/lambda-role";

    /// <summary>DynamoDB table that holds checkpoints (used by <see cref="DynamoDbCheckpointStore"/>).</summary>
    /// <value>The default value is <c>cloud-esm-checkpoints</c>.</value>
    public string CheckpointTableName { get; set; } = DynamoDbCheckpointStore.DefaultTableName;

    /// <summary>Identifies this mapping's checkpoints; two runners with the same id must not run at once.</summary>
    /// <value>The default value is <c>esm-</c> + the stream name (see <see cref="EffectiveMappingId"/>).</value>
    public string? MappingId { get; set; }

    /// <summary>
    /// Enhanced fan-out: read through this registered stream consumer (SubscribeToShard, 2 MB/s per shard of its own)
    /// instead of polling GetRecords. The consumer is registered when missing. Checkpoints, batching, bisect,
    /// retries, windows and resharding work as with polling.
    /// </summary>
    /// <value>The default value is null (shared-throughput polling).</value>
    public string? ConsumerName { get; set; }

    /// <summary>How long one SubscribeToShard subscription is read before a new one starts from the last record
    /// (Kinesis ends a subscription after 5 minutes).</summary>
    /// <value>The default value is 5 minutes. Range: 1 second – 5 minutes.</value>
    public TimeSpan SubscriptionLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Whether <see cref="FunctionResponseTypes"/> contains ReportBatchItemFailures.</summary>
    public bool ReportsBatchItemFailures => FunctionResponseTypes.Contains(ReportBatchItemFailures);

    /// <summary>The stream name: <see cref="StreamName"/> or the name part of <see cref="StreamArn"/>.</summary>
    public string EffectiveStreamName => !string.IsNullOrEmpty(StreamName) ? StreamName : StreamNameFromArn(StreamArn) ?? "";

    /// <summary>The mapping id: <see cref="MappingId"/> or <c>esm-{stream name}</c>.</summary>
    public string EffectiveMappingId => !string.IsNullOrEmpty(MappingId) ? MappingId : DefaultMappingId(EffectiveStreamName);

    /// <summary>The default mapping id for a stream (what the runner and <c>cloud lag</c> use when none is given).</summary>
    public static string DefaultMappingId(string streamName) => "esm-" + streamName;

    /// <summary>
    /// Checks every setting and throws one <see cref="EventSourceMappingOptionsException"/> naming all problems.
    /// </summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrEmpty(StreamName) && string.IsNullOrEmpty(StreamArn))
        {
            problems.Add("StreamName or StreamArn is required");
        }
        if (ConsumerName is not null && (ConsumerName.Length is < 1 or > 128 || !ConsumerName.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')))
        {
            problems.Add($"ConsumerName '{ConsumerName}' must be 1-128 characters of [a-zA-Z0-9_.-]");
        }
        if (SubscriptionLifetime < TimeSpan.FromSeconds(1) || SubscriptionLifetime > TimeSpan.FromMinutes(5))
        {
            problems.Add($"SubscriptionLifetime must be between 1 second and 5 minutes (was {SubscriptionLifetime})");
        }
        if (!string.IsNullOrEmpty(StreamArn) && StreamNameFromArn(StreamArn) is null)
        {
            problems.Add($"StreamArn '{StreamArn}' is not a Kinesis stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)");
        }
        if (!string.IsNullOrEmpty(StreamName) && !string.IsNullOrEmpty(StreamArn) && StreamNameFromArn(StreamArn) is { } arnName && arnName != StreamName)
        {
            problems.Add($"StreamName '{StreamName}' differs from the name in StreamArn ('{arnName}')");
        }
        if (!Enum.IsDefined(StartingPosition))
        {
            problems.Add($"StartingPosition {(int)StartingPosition} is not TRIM_HORIZON, LATEST or AT_TIMESTAMP");
        }
        if (StartingPosition == StartingPosition.AtTimestamp && StartingPositionTimestamp is null)
        {
            problems.Add("StartingPositionTimestamp is required when StartingPosition is AT_TIMESTAMP");
        }
        if (StartingPosition != StartingPosition.AtTimestamp && StartingPositionTimestamp is not null)
        {
            problems.Add("StartingPositionTimestamp is only valid when StartingPosition is AT_TIMESTAMP");
        }
        Range(problems, nameof(BatchSize), BatchSize, 1, 10_000);
        Range(problems, nameof(MaximumBatchingWindowInSeconds), MaximumBatchingWindowInSeconds, 0, 300);
        Range(problems, nameof(MaximumRetryAttempts), MaximumRetryAttempts, -1, 10_000);
        if (MaximumRecordAgeInSeconds != -1 && (MaximumRecordAgeInSeconds < 60 || MaximumRecordAgeInSeconds > 604_800))
        {
            problems.Add($"MaximumRecordAgeInSeconds must be -1 (infinite) or between 60 and 604800, got {MaximumRecordAgeInSeconds}");
        }
        Range(problems, nameof(TumblingWindowInSeconds), TumblingWindowInSeconds, 0, 900);
        foreach (var type in FunctionResponseTypes)
        {
            if (type != ReportBatchItemFailures)
            {
                problems.Add($"FunctionResponseTypes contains '{type}'; the only valid value is {ReportBatchItemFailures}");
            }
        }
        TimeRange(problems, nameof(PollInterval), PollInterval, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));
        TimeRange(problems, nameof(RetryDelay), RetryDelay, TimeSpan.Zero, TimeSpan.FromMinutes(5));
        TimeRange(problems, nameof(FunctionTimeout), FunctionTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(15));
        TimeRange(problems, nameof(ShardDiscoveryInterval), ShardDiscoveryInterval, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));
        Required(problems, nameof(FunctionArn), FunctionArn);
        Required(problems, nameof(Region), Region);
        Required(problems, nameof(InvokeIdentityArn), InvokeIdentityArn);
        Required(problems, nameof(CheckpointTableName), CheckpointTableName);
        if (!string.IsNullOrEmpty(CheckpointTableName) && (CheckpointTableName.Length is < 3 or > 255))
        {
            problems.Add($"CheckpointTableName must be 3-255 characters, got {CheckpointTableName.Length}");
        }
        if (MappingId is not null && (MappingId.Length == 0 || MappingId.StartsWith('#')))
        {
            problems.Add("MappingId must be non-empty and must not start with '#'");
        }
        if (problems.Count > 0)
        {
            throw new EventSourceMappingOptionsException(problems);
        }
    }

    /// <summary>The stream name in a Kinesis stream ARN, or null when the text is not one.</summary>
    public static string? StreamNameFromArn(string? arn)
    {
        if (string.IsNullOrEmpty(arn))
        {
            return null;
        }
        var parts = arn.Split(':', 6);
        if (parts.Length != 6 || parts[0] != "arn" || parts[2] != "kinesis" || !parts[5].StartsWith("stream/", StringComparison.Ordinal))
        {
            return null;
        }
        var name = parts[5]["stream/".Length..];
        return name.Length == 0 || name.Contains('/') ? null : name;
    }

    private static void Range(List<string> problems, string name, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            problems.Add($"{name} must be between {min} and {max}, got {value}");
        }
    }

    private static void TimeRange(List<string> problems, string name, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            problems.Add($"{name} must be between {min} and {max}, got {value}");
        }
    }

    private static void Required(List<string> problems, string name, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            problems.Add($"{name} is required");
        }
    }
}

/// <summary>Invalid <see cref="EventSourceMappingOptions"/>; <see cref="Problems"/> lists every problem found.</summary>
public sealed class EventSourceMappingOptionsException : ArgumentException
{
    /// <summary>Creates the exception from the list of problems.</summary>
    public EventSourceMappingOptionsException(IReadOnlyList<string> problems)
        : base("Invalid event source mapping options: " + string.Join("; ", problems))
    {
        Problems = problems;
    }

    /// <summary>Each problem, naming the setting and the allowed range.</summary>
    public IReadOnlyList<string> Problems { get; }
}
