namespace Cloud.Emulators;

/// <summary>Which Kinesis emulator to run.</summary>
public enum KinesisEngine
{
    /// <summary>kinesis-local (kinesis-mock, the engine LocalStack runs): complete API, ~1.5k records/s.</summary>
    KinesisLocal,

    /// <summary>kinesalite: ~10× faster, but no ON_DEMAND, UpdateShardCount, EFO consumers or encryption.</summary>
    Kinesalite,
}

/// <summary>How <see cref="EmulatorHost"/> starts the local stack.</summary>
public sealed record EmulatorOptions
{
    /// <summary>Environment variable with an existing Kinesis endpoint to use instead of starting one.</summary>
    public const string KinesisEndpointVariable = "CLOUD_KINESIS_ENDPOINT";

    /// <summary>Environment variable with an existing DynamoDB endpoint to use instead of starting one.</summary>
    public const string DynamoDbEndpointVariable = "CLOUD_DYNAMODB_ENDPOINT";

    /// <summary>Whether to provide a Kinesis endpoint. The default value is <see langword="true"/>.</summary>
    public bool StartKinesis { get; init; } = true;

    /// <summary>Whether to provide a DynamoDB endpoint. The default value is <see langword="true"/>.</summary>
    public bool StartDynamoDb { get; init; } = true;

    /// <summary>The Kinesis engine. The default value is <see cref="KinesisEngine.KinesisLocal"/>.</summary>
    public KinesisEngine KinesisEngine { get; init; } = KinesisEngine.KinesisLocal;

    /// <summary>An existing Kinesis endpoint (e.g. LocalStack); when set nothing is started for Kinesis.</summary>
    public Uri? ExternalKinesisEndpoint { get; init; }

    /// <summary>An existing DynamoDB endpoint; when set nothing is started for DynamoDB.</summary>
    public Uri? ExternalDynamoDbEndpoint { get; init; }

    /// <summary>
    /// Whether <c>CLOUD_KINESIS_ENDPOINT</c> / <c>CLOUD_DYNAMODB_ENDPOINT</c> fill the external endpoints
    /// when those are not set. The default value is <see langword="true"/>.
    /// </summary>
    public bool UseEnvironmentOverrides { get; init; } = true;

    /// <summary>Region the emulators report (kinesis-local's AWS_REGION). The default value is us-east-1.</summary>
    public string Region { get; init; } = "us-east-1";

    /// <summary>Open-shard limit per account (SHARD_LIMIT / --shardLimit). The default value is 1000 (tests create many streams).</summary>
    public int ShardLimit { get; init; } = 1000;

    /// <summary>kinesis-local's ON_DEMAND_STREAM_COUNT_LIMIT. The default value is 50.</summary>
    public int OnDemandStreamCountLimit { get; init; } = 50;

    /// <summary>
    /// Delay of every asynchronous Kinesis/DynamoDB state change (CREATE_STREAM_DURATION and the other
    /// *_DURATION variables; dynalite's create/delete/updateTableMs). The default value is zero.
    /// </summary>
    public TimeSpan StateChangeDelay { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// Folder where the emulators persist their data across restarts (kinesis-local PERSIST_*, dynalite
    /// and kinesalite --path). The default is <see langword="null"/>: in memory only.
    /// </summary>
    public string? PersistDirectory { get; init; }

    /// <summary>kinesis-local's LOG_LEVEL (ERROR, WARN, INFO, DEBUG, TRACE). The default value is WARN.</summary>
    public string LogLevel { get; init; } = "WARN";

    /// <summary>Extra environment variables for kinesis-local (they win over the computed ones).</summary>
    public IReadOnlyDictionary<string, string> KinesisLocalEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>How long each emulator may take to answer its first request. The default value is 60 s.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a stopping emulator gets after SIGTERM before SIGKILL. The default value is 3 s.</summary>
    public TimeSpan StopGracePeriod { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The pinned tools to run; the default locates and installs them (<see cref="NodeTools.EnsureAsync"/>).</summary>
    public NodeTools? Tools { get; init; }

    /// <summary>Clock for start/stop deadlines. The default value is <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Throws <see cref="ArgumentException"/> listing every invalid setting.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (ShardLimit < 1)
        {
            problems.Add($"ShardLimit must be at least 1 (was {ShardLimit}).");
        }

        if (OnDemandStreamCountLimit < 0)
        {
            problems.Add($"OnDemandStreamCountLimit must not be negative (was {OnDemandStreamCountLimit}).");
        }

        if (StateChangeDelay < TimeSpan.Zero)
        {
            problems.Add($"StateChangeDelay must not be negative (was {StateChangeDelay}).");
        }

        if (StartTimeout <= TimeSpan.Zero)
        {
            problems.Add($"StartTimeout must be positive (was {StartTimeout}).");
        }

        if (StopGracePeriod < TimeSpan.Zero)
        {
            problems.Add($"StopGracePeriod must not be negative (was {StopGracePeriod}).");
        }

        if (string.IsNullOrWhiteSpace(Region))
        {
            problems.Add("Region must be set.");
        }

        if (LogLevel is not ("ERROR" or "WARN" or "INFO" or "DEBUG" or "TRACE"))
        {
            problems.Add($"LogLevel must be ERROR, WARN, INFO, DEBUG or TRACE (was '{LogLevel}').");
        }

        if (!StartKinesis && !StartDynamoDb)
        {
            problems.Add("At least one of StartKinesis and StartDynamoDb must be true.");
        }

        foreach (var (name, uri) in new[] { ("ExternalKinesisEndpoint", ExternalKinesisEndpoint), ("ExternalDynamoDbEndpoint", ExternalDynamoDbEndpoint) })
        {
            if (uri is not null && (!uri.IsAbsoluteUri || uri.Scheme is not ("http" or "https")))
            {
                problems.Add($"{name} must be an absolute http(s) URI (was '{uri}').");
            }
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid EmulatorOptions: " + string.Join(" ", problems));
        }
    }

    /// <summary>The external endpoints after applying the environment overrides.</summary>
    internal (Uri? Kinesis, Uri? DynamoDb) ResolveExternalEndpoints()
    {
        return (ExternalKinesisEndpoint ?? FromEnvironment(KinesisEndpointVariable), ExternalDynamoDbEndpoint ?? FromEnvironment(DynamoDbEndpointVariable));

        Uri? FromEnvironment(string variable)
        {
            if (!UseEnvironmentOverrides || Environment.GetEnvironmentVariable(variable) is not { Length: > 0 } value)
            {
                return null;
            }

            return Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                ? uri
                : throw new ArgumentException($"{variable}='{value}' is not an absolute http(s) URI.");
        }
    }
}
