using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Constructs;
using Cloud.Sizing;

namespace Cloud.Infra;

/// <summary>Lambda event source mapping settings for a Kinesis stream
/// (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html).</summary>
public sealed record EventSourceSettings
{
    /// <summary>Records per invocation (1–10,000). <value>The default value is 100.</value></summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>Seconds to gather a batch (0–300). <value>The default value is 0.</value></summary>
    public int MaxBatchingWindowSeconds { get; init; }

    /// <summary>Split a failing batch in two and retry each half. <value>The default value is true.</value></summary>
    public bool BisectBatchOnError { get; init; } = true;

    /// <summary>Retries before the batch goes to the on-failure queue (−1 = until the record expires; 0–10,000).
    /// <value>The default value is 3.</value></summary>
    public int RetryAttempts { get; init; } = 3;

    /// <summary>Oldest record age sent to the function (−1 = unlimited, or 60–604,800 s). <value>The default value is −1.</value></summary>
    public int MaxRecordAgeSeconds { get; init; } = -1;

    /// <summary>Function returns <c>batchItemFailures</c> (partial batch response). <value>The default value is true.</value></summary>
    public bool ReportBatchItemFailures { get; init; } = true;

    /// <summary>Tumbling window length (0 = none, up to 900 s). <value>The default value is 0.</value></summary>
    public int TumblingWindowSeconds { get; init; }

    /// <summary>Concurrent batches per shard (1–10; must be 1 with KPL aggregation). <value>The default value is 1.</value></summary>
    public int ParallelizationFactor { get; init; } = 1;

    /// <summary>TRIM_HORIZON or LATEST. <value>The default value is TRIM_HORIZON.</value></summary>
    public string StartingPosition { get; init; } = "TRIM_HORIZON";

    /// <summary>Name of an enhanced fan-out consumer the mapping reads through (created with the stack, with the
    /// function's SubscribeToShard grant); null = shared-throughput polling. <value>The default value is null.</value></summary>
    public string? EfoConsumer { get; init; }
}

/// <summary>Lambda function sizing.</summary>
public sealed record FunctionSettings
{
    /// <summary>Memory in MB (128–10,240). <value>The default value is 1024.</value></summary>
    public int MemoryMb { get; init; } = 1024;

    /// <summary>Timeout in seconds (1–900). <value>The default value is 60.</value></summary>
    public int TimeoutSeconds { get; init; } = 60;

    /// <summary>Aggregator only: the JSON field whose value is the aggregation key (the function's <c>KEY_FIELD</c>);
    /// null = the function's default (<c>userId</c>). <value>The default value is null.</value></summary>
    public string? KeyField { get; init; }
}

/// <summary>Key store and erase-deadline settings.</summary>
public sealed record PrivacySettings
{
    /// <summary>Days within which an erase request must take effect everywhere (GDPR: one month). <value>The default value is 30.</value></summary>
    public int EraseDeadlineDays { get; init; } = 30;

    /// <summary>Point-in-time recovery window of the key table in days (0 = off, 1–35). A restore can bring a deleted
    /// key back for this long, so it must end before the erase deadline. <value>The default value is 7.</value></summary>
    public int PointInTimeRecoveryDays { get; init; } = 7;

    /// <summary>How long functions cache a user's data key, in seconds. <value>The default value is 300.</value></summary>
    public int KeyCacheTtlSeconds { get; init; } = 300;
}

/// <summary>Alarm thresholds.</summary>
public sealed record AlarmSettings
{
    /// <summary>Consumer lag (Lambda IteratorAge) alarm, in seconds. <value>The default value is 60.</value></summary>
    public int IteratorAgeSeconds { get; init; } = 60;

    /// <summary>Function errors in 5 minutes that raise the alarm. <value>The default value is 1.</value></summary>
    public int FunctionErrors { get; init; } = 1;

    /// <summary>Throttled requests (write or read throughput exceeded) in 5 minutes that raise the alarm. <value>The default value is 1.</value></summary>
    public int ThroughputExceeded { get; init; } = 1;

    /// <summary>Messages in an on-failure queue that raise the alarm. <value>The default value is 1.</value></summary>
    public int OnFailureQueueDepth { get; init; } = 1;

    /// <summary>An address subscribed (by email) to the alarm topic; null = the topic has no subscription yet.
    /// <value>The default value is null.</value></summary>
    public string? Email { get; init; }
}

/// <summary>Everything the CDK app reads from context, validated once.</summary>
public sealed partial record InfraConfig
{
    /// <summary>Context key prefix: every setting is <c>cloud:&lt;name&gt;</c>.</summary>
    public const string Prefix = "cloud:";

    /// <summary>Stack and resource name prefix. <value>The default value is "Cloud".</value></summary>
    public string Name { get; init; } = "Cloud";

    /// <summary>Capacity mode of the events stream. <value>The default value is provisioned.</value></summary>
    public CapacityMode StreamMode { get; init; } = CapacityMode.Provisioned;

    /// <summary>Events stream retention in hours (24–8,760). <value>The default value is 24.</value></summary>
    public int RetentionHours { get; init; } = 24;

    /// <summary>Forget control stream retention in hours. <value>The default value is 168 (forget requests survive a week-long outage).</value></summary>
    public int ForgetStreamRetentionHours { get; init; } = 168;

    /// <summary>The workload the events stream is sized for (its <see cref="WorkloadProfile.RetentionHours"/> follows <see cref="RetentionHours"/>).</summary>
    public required WorkloadProfile Workload { get; init; }

    /// <summary>Aggregator event source mapping.</summary>
    public EventSourceSettings AggregatorEventSource { get; init; } = new() { BatchSize = 500, MaxBatchingWindowSeconds = 1, TumblingWindowSeconds = 60 };

    /// <summary>Forget event source mapping.</summary>
    public EventSourceSettings ForgetEventSource { get; init; } = new() { BatchSize = 10, RetryAttempts = 10 };

    /// <summary>Aggregator function sizing.</summary>
    public FunctionSettings AggregatorFunction { get; init; } = new();

    /// <summary>Forget function sizing.</summary>
    public FunctionSettings ForgetFunction { get; init; } = new() { MemoryMb = 512, TimeoutSeconds = 30 };

    /// <summary>Key store settings.</summary>
    public PrivacySettings Privacy { get; init; } = new();

    /// <summary>Alarm thresholds.</summary>
    public AlarmSettings Alarms { get; init; } = new();

    /// <summary>CloudWatch namespace of the functions' Embedded Metric Format metrics (<c>METRICS_NAMESPACE</c>).</summary>
    /// <value>The default value is <c>Cloud/Pipeline</c>.</value>
    public string MetricsNamespace { get; init; } = "Cloud/Pipeline";

    /// <summary>A folder holding ready publish outputs (<c>&lt;dir&gt;/Cloud.Functions.Aggregator</c>, ...) used instead of
    /// running <c>dotnet publish</c>; relative to the repository root. <value>The default value is none (publish).</value></summary>
    public string? FunctionsAssetDir { get; init; }

    /// <summary>The shard count the calculator gives for <see cref="Workload"/>.</summary>
    public ShardEstimate Estimate(PriceTable? prices = null) => new ShardCalculator(prices).Calculate(Workload);

    /// <summary>Reads and validates every <c>cloud:*</c> context value of <paramref name="node"/>.</summary>
    /// <exception cref="InfraConfigException">Some setting is invalid (all are listed).</exception>
    public static InfraConfig FromContext(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var values = new JsonObject();
        foreach (var key in Keys)
        {
            if (ContextValues.Get(node, Prefix + key) is { } v)
            {
                values[key] = v.DeepClone();
            }
        }

        return FromJson(values);
    }

    /// <summary>Setting names (without the <c>cloud:</c> prefix).</summary>
    public static IReadOnlyList<string> Keys { get; } =
    [
        "name", "streamMode", "retentionHours", "forgetStreamRetentionHours", "workload", "aggregatorEventSource",
        "forgetEventSource", "aggregatorFunction", "forgetFunction", "privacy", "alarms", "functionsAssetDir", "metricsNamespace",
    ];

    /// <summary>Reads and validates settings from a JSON object keyed like the context without the <c>cloud:</c> prefix.</summary>
    /// <exception cref="InfraConfigException">Some setting is invalid (all are listed).</exception>
    public static InfraConfig FromJson(JsonObject values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var r = new ConfigReader();
        var root = r.Object(values, "cloud", Keys.ToArray());
        var defaults = new InfraConfig { Workload = new WorkloadProfile { AverageRecordsPerSecond = 1, PeakRecordsPerSecond = 1, AverageRecordBytes = 1 } };

        var name = r.StringValue(root["name"], P("name"), defaults.Name);
        if (!Regex.IsMatch(name, "^[A-Za-z][A-Za-z0-9-]{0,24}$", RegexOptions.None, TimeSpan.FromSeconds(1)))
        {
            r.Add(P("name"), $"must start with a letter and have 1–25 letters, digits or hyphens, got '{name}'.");
        }

        var mode = r.StringValue(root["streamMode"], P("streamMode"), "PROVISIONED", "PROVISIONED", "ON_DEMAND") == "ON_DEMAND"
            ? CapacityMode.OnDemand
            : CapacityMode.Provisioned;
        var retention = r.IntValue(root["retentionHours"], P("retentionHours"), 24, 24, 8760);
        var forgetRetention = r.IntValue(root["forgetStreamRetentionHours"], P("forgetStreamRetentionHours"), defaults.ForgetStreamRetentionHours, 24, 8760);

        var workload = ReadWorkload(r, root["workload"], retention);
        var aggEsm = ReadEventSource(r, root["aggregatorEventSource"], P("aggregatorEventSource"), defaults.AggregatorEventSource);
        var forgetEsm = ReadEventSource(r, root["forgetEventSource"], P("forgetEventSource"), defaults.ForgetEventSource);
        if (workload is not null && workload.AggregationRatio > 1 && aggEsm.ParallelizationFactor > 1)
        {
            r.Add(P("aggregatorEventSource.parallelizationFactor"), "must be 1 when records are KPL-aggregated (workload.aggregationRatio > 1).");
        }

        var aggFn = ReadFunction(r, root["aggregatorFunction"], P("aggregatorFunction"), defaults.AggregatorFunction, withKeyField: true);
        var forgetFn = ReadFunction(r, root["forgetFunction"], P("forgetFunction"), defaults.ForgetFunction, withKeyField: false);
        var privacy = ReadPrivacy(r, root["privacy"]);
        var alarms = ReadAlarms(r, root["alarms"]);
        var metricsNamespace = r.StringValue(root["metricsNamespace"], P("metricsNamespace"), defaults.MetricsNamespace);
        if (!Regex.IsMatch(metricsNamespace, "^[A-Za-z0-9 ._/#:-]{1,255}$", RegexOptions.None, TimeSpan.FromSeconds(1)) || metricsNamespace.StartsWith("AWS/", StringComparison.Ordinal))
        {
            r.Add(P("metricsNamespace"), $"must be a CloudWatch namespace: 1–255 letters, digits or . - _ / # : and spaces, not starting with 'AWS/', got '{metricsNamespace}'.");
        }

        var assetDir = root["functionsAssetDir"] is { } dirNode ? r.StringValue(dirNode, P("functionsAssetDir"), "") : null;
        if (assetDir is { Length: 0 })
        {
            assetDir = null;
        }

        if (aggEsm.TumblingWindowSeconds > 0 && aggEsm.TumblingWindowSeconds < aggEsm.MaxBatchingWindowSeconds)
        {
            r.Add(P("aggregatorEventSource.tumblingWindowSeconds"), "must not be shorter than maxBatchingWindowSeconds.");
        }

        r.ThrowIfAny();
        return new InfraConfig
        {
            Name = name,
            StreamMode = mode,
            RetentionHours = retention,
            ForgetStreamRetentionHours = forgetRetention,
            Workload = workload!,
            AggregatorEventSource = aggEsm,
            ForgetEventSource = forgetEsm,
            AggregatorFunction = aggFn,
            ForgetFunction = forgetFn,
            Privacy = privacy,
            Alarms = alarms,
            FunctionsAssetDir = assetDir,
            MetricsNamespace = metricsNamespace,
        };
    }

    private static string P(string key) => Prefix + key;

    private static WorkloadProfile? ReadWorkload(ConfigReader r, JsonNode? node, int retention)
    {
        var path = P("workload");
        if (node is null)
        {
            r.Add(path, "is required: the events stream's shard count comes from it.");
            return null;
        }

        var o = r.Object(node, path, "averageRecordsPerSecond", "peakRecordsPerSecond", "averageRecordBytes", "surgeRecordsPerSecond",
            "surgeDurationSeconds", "aggregationRatio", "compressionRatio", "consumers");
        var consumers = new List<ConsumerProfile>();
        if (o["consumers"] is JsonArray arr)
        {
            for (var i = 0; i < arr.Count; i++)
            {
                var cp = $"{path}.consumers[{i}]";
                var c = r.Object(arr[i] ?? new JsonObject(), cp, "name", "mode", "processingRecordsPerSecondPerShard", "maxLatencySeconds");
                consumers.Add(new ConsumerProfile(
                    r.String(c, cp, "name", $"consumer{i}"),
                    r.String(c, cp, "mode", "SharedThroughput", "SharedThroughput", "EnhancedFanOut") == "EnhancedFanOut" ? ConsumerMode.EnhancedFanOut : ConsumerMode.SharedThroughput,
                    r.Number(c, cp, "processingRecordsPerSecondPerShard", null, double.Epsilon, double.MaxValue),
                    r.Number(c, cp, "maxLatencySeconds", null, double.Epsilon, double.MaxValue)));
            }
        }
        else if (o["consumers"] is not null)
        {
            r.Add(path + ".consumers", "must be an array of consumer objects.");
        }

        var w = new WorkloadProfile
        {
            AverageRecordsPerSecond = r.Number(o, path, "averageRecordsPerSecond", null, double.MinValue, double.MaxValue),
            PeakRecordsPerSecond = r.Number(o, path, "peakRecordsPerSecond", null, double.MinValue, double.MaxValue),
            AverageRecordBytes = r.Number(o, path, "averageRecordBytes", null, double.MinValue, double.MaxValue),
            SurgeRecordsPerSecond = r.Number(o, path, "surgeRecordsPerSecond", 0, double.MinValue, double.MaxValue),
            SurgeDurationSeconds = r.Number(o, path, "surgeDurationSeconds", 0, double.MinValue, double.MaxValue),
            AggregationRatio = r.Number(o, path, "aggregationRatio", 1, double.MinValue, double.MaxValue),
            CompressionRatio = r.Number(o, path, "compressionRatio", 1, double.MinValue, double.MaxValue),
            Consumers = consumers,
            RetentionHours = retention,
        };

        // The calculator's own validation names each field; report them under the context key.
        try
        {
            w.Validate();
        }
        catch (SizingValidationException ex)
        {
            foreach (var p in ex.Problems)
            {
                var field = p.Field == nameof(WorkloadProfile.RetentionHours) ? P("retentionHours") : path + "." + Camel(p.Field);
                var line = $"{field}: {p.Message}";
                if (!r.Problems.Any(x => x.StartsWith(field + ":", StringComparison.Ordinal)))
                {
                    r.Problems.Add(line);
                }
            }
        }

        return w;
    }

    private static EventSourceSettings ReadEventSource(ConfigReader r, JsonNode? node, string path, EventSourceSettings d)
    {
        var o = r.Object(node, path, "batchSize", "maxBatchingWindowSeconds", "bisectBatchOnError", "retryAttempts", "maxRecordAgeSeconds",
            "reportBatchItemFailures", "tumblingWindowSeconds", "parallelizationFactor", "startingPosition", "efoConsumer");
        string? efo = o.ContainsKey("efoConsumer") ? r.String(o, path, "efoConsumer", "") : null;
        if (efo is not null && (efo.Length is < 1 or > 128 || !efo.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')))
        {
            r.Add(path + ".efoConsumer", $"must be 1-128 characters of [a-zA-Z0-9_.-], got '{efo}'.");
            efo = null;
        }
        var s = new EventSourceSettings
        {
            BatchSize = r.Int(o, path, "batchSize", d.BatchSize, 1, 10_000),
            MaxBatchingWindowSeconds = r.Int(o, path, "maxBatchingWindowSeconds", d.MaxBatchingWindowSeconds, 0, 300),
            BisectBatchOnError = r.Bool(o, path, "bisectBatchOnError", d.BisectBatchOnError),
            RetryAttempts = r.Int(o, path, "retryAttempts", d.RetryAttempts, -1, 10_000),
            MaxRecordAgeSeconds = r.Int(o, path, "maxRecordAgeSeconds", d.MaxRecordAgeSeconds, -1, 604_800),
            ReportBatchItemFailures = r.Bool(o, path, "reportBatchItemFailures", d.ReportBatchItemFailures),
            TumblingWindowSeconds = r.Int(o, path, "tumblingWindowSeconds", d.TumblingWindowSeconds, 0, 900),
            ParallelizationFactor = r.Int(o, path, "parallelizationFactor", d.ParallelizationFactor, 1, 10),
            StartingPosition = r.String(o, path, "startingPosition", d.StartingPosition, "TRIM_HORIZON", "LATEST"),
            EfoConsumer = efo,
        };
        if (s.MaxRecordAgeSeconds is > -1 and < 60)
        {
            r.Add(path + ".maxRecordAgeSeconds", $"must be -1 (unlimited) or between 60 and 604800, got {s.MaxRecordAgeSeconds}.");
        }

        if (!s.ReportBatchItemFailures)
        {
            // The functions answer with batchItemFailures; without it Lambda ignores them and retries whole batches.
            r.Add(path + ".reportBatchItemFailures", "must be true: the functions return partial batch responses.");
        }

        return s;
    }

    private static FunctionSettings ReadFunction(ConfigReader r, JsonNode? node, string path, FunctionSettings d, bool withKeyField)
    {
        var o = withKeyField ? r.Object(node, path, "memoryMb", "timeoutSeconds", "keyField") : r.Object(node, path, "memoryMb", "timeoutSeconds");
        string? keyField = withKeyField && o.ContainsKey("keyField") ? r.String(o, path, "keyField", "") : null;
        if (keyField is not null && (keyField.Length is 0 or > 128 || keyField.Any(char.IsWhiteSpace)))
        {
            r.Add(path + ".keyField", $"must be a top-level JSON field name (1-128 characters, no spaces), got '{keyField}'.");
        }

        return new FunctionSettings
        {
            MemoryMb = r.Int(o, path, "memoryMb", d.MemoryMb, 128, 10_240),
            TimeoutSeconds = r.Int(o, path, "timeoutSeconds", d.TimeoutSeconds, 1, 900),
            KeyField = keyField,
        };
    }

    private static PrivacySettings ReadPrivacy(ConfigReader r, JsonNode? node)
    {
        var path = P("privacy");
        var d = new PrivacySettings();
        var o = r.Object(node, path, "eraseDeadlineDays", "pointInTimeRecoveryDays", "keyCacheTtlSeconds");
        var s = new PrivacySettings
        {
            EraseDeadlineDays = r.Int(o, path, "eraseDeadlineDays", d.EraseDeadlineDays, 2, 90),
            PointInTimeRecoveryDays = r.Int(o, path, "pointInTimeRecoveryDays", d.PointInTimeRecoveryDays, 0, 35),
            KeyCacheTtlSeconds = r.Int(o, path, "keyCacheTtlSeconds", d.KeyCacheTtlSeconds, 0, 86_400),
        };

        // A restore to any point in the PITR window brings a forgotten key back; the window must close (with a day
        // left for the forget pipeline itself) before the erase deadline.
        if (s.PointInTimeRecoveryDays > s.EraseDeadlineDays - 1)
        {
            r.Add(path + ".pointInTimeRecoveryDays",
                $"must be at most eraseDeadlineDays - 1 ({s.EraseDeadlineDays - 1}): a restore within the window resurrects forgotten keys, got {s.PointInTimeRecoveryDays}.");
        }

        return s;
    }

    private static AlarmSettings ReadAlarms(ConfigReader r, JsonNode? node)
    {
        var path = P("alarms");
        var d = new AlarmSettings();
        var o = r.Object(node, path, "iteratorAgeSeconds", "functionErrors", "throughputExceeded", "onFailureQueueDepth", "email");
        string? email = o.ContainsKey("email") ? r.String(o, path, "email", "") : null;
        if (email is not null && !EmailShape().IsMatch(email))
        {
            r.Add(path + ".email", $"must be one email address (name@domain), got '{email}'.");
            email = null;
        }

        return new AlarmSettings
        {
            Email = email,
            IteratorAgeSeconds = r.Int(o, path, "iteratorAgeSeconds", d.IteratorAgeSeconds, 1, 604_800),
            FunctionErrors = r.Int(o, path, "functionErrors", d.FunctionErrors, 1, 1_000_000),
            ThroughputExceeded = r.Int(o, path, "throughputExceeded", d.ThroughputExceeded, 1, 1_000_000),
            OnFailureQueueDepth = r.Int(o, path, "onFailureQueueDepth", d.OnFailureQueueDepth, 1, 1_000_000),
        };
    }

    private static string Camel(string field)
    {
        // "Consumers[0].MaxLatencySeconds" → "consumers[0].maxLatencySeconds"
        var parts = field.Split('.');
        return string.Join('.', parts.Select(p => p.Length == 0 ? p : char.ToLowerInvariant(p[0]) + p[1..]));
    }

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex EmailShape();
}
