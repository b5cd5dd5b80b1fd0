using System.Text.Json;

namespace Cloud.EventSourceMapping;

/// <summary>
/// The Aggregator's event-source settings as the CDK app deploys them, read from <c>cdk.json</c>'s context
/// (<c>cloud:aggregatorEventSource</c>, and <c>cloud:aggregatorFunction.keyField</c>), so the local runner and
/// <c>cloud pipeline</c> use the same values as AWS; command-line flags override them. Keys and ranges are those of
/// <c>infra/Cloud.Infra/InfraConfig.cs</c>. A setting that is absent stays null (the runner's default applies).
/// </summary>
public sealed record CdkEventSourceSettings
{
    /// <summary>The context key of the Aggregator's event source mapping.</summary>
    public const string EventSourceKey = "cloud:aggregatorEventSource";

    /// <summary>The context key of the Aggregator function (its <c>keyField</c>).</summary>
    public const string FunctionKey = "cloud:aggregatorFunction";

    /// <summary>The file the settings came from.</summary>
    public required string Path { get; init; }

    /// <summary>batchSize (1–10,000).</summary>
    public int? BatchSize { get; init; }

    /// <summary>maxBatchingWindowSeconds (0–300).</summary>
    public int? MaxBatchingWindowSeconds { get; init; }

    /// <summary>tumblingWindowSeconds (0–900).</summary>
    public int? TumblingWindowSeconds { get; init; }

    /// <summary>retryAttempts (−1–10,000).</summary>
    public int? RetryAttempts { get; init; }

    /// <summary>maxRecordAgeSeconds (−1 or 60–604,800).</summary>
    public int? MaxRecordAgeSeconds { get; init; }

    /// <summary>bisectBatchOnError.</summary>
    public bool? BisectBatchOnError { get; init; }

    /// <summary>reportBatchItemFailures.</summary>
    public bool? ReportBatchItemFailures { get; init; }

    /// <summary>startingPosition (TRIM_HORIZON or LATEST).</summary>
    public string? StartingPosition { get; init; }

    /// <summary>efoConsumer: read through this enhanced fan-out consumer (<see cref="EventSourceMappingOptions.ConsumerName"/>).</summary>
    public string? EfoConsumer { get; init; }

    /// <summary>The aggregation key field (<c>cloud:aggregatorFunction.keyField</c>), or null.</summary>
    public string? KeyField { get; init; }

    /// <summary>The <c>cdk.json</c> in <paramref name="startDirectory"/> or the nearest folder above it, or null.</summary>
    public static string? Find(string startDirectory)
    {
        for (var dir = new DirectoryInfo(startDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "cdk.json");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>Reads and checks the settings of <paramref name="cdkJsonPath"/>.</summary>
    /// <exception cref="CdkContextException">The file is not JSON, or a setting is of the wrong type or out of range (all listed, each by its key).</exception>
    public static CdkEventSourceSettings Load(string cdkJsonPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(cdkJsonPath);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(cdkJsonPath), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new CdkContextException(cdkJsonPath, [$"not valid JSON: {e.Message}"]);
        }
        using (document)
        {
            var problems = new List<string>();
            JsonElement esm = default, function = default;
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("context", out var context) && context.ValueKind == JsonValueKind.Object)
            {
                esm = Section(context, EventSourceKey, problems);
                function = Section(context, FunctionKey, problems);
            }
            var settings = new CdkEventSourceSettings
            {
                Path = cdkJsonPath,
                BatchSize = Int(esm, "batchSize", 1, 10_000, problems),
                MaxBatchingWindowSeconds = Int(esm, "maxBatchingWindowSeconds", 0, 300, problems),
                TumblingWindowSeconds = Int(esm, "tumblingWindowSeconds", 0, 900, problems),
                RetryAttempts = Int(esm, "retryAttempts", -1, 10_000, problems),
                MaxRecordAgeSeconds = Int(esm, "maxRecordAgeSeconds", -1, 604_800, problems),
                BisectBatchOnError = Bool(esm, "bisectBatchOnError", problems),
                ReportBatchItemFailures = Bool(esm, "reportBatchItemFailures", problems),
                StartingPosition = String(esm, EventSourceKey, "startingPosition", problems),
                EfoConsumer = String(esm, EventSourceKey, "efoConsumer", problems),
                KeyField = String(function, FunctionKey, "keyField", problems),
            };
            if (settings.MaxRecordAgeSeconds is > -1 and < 60)
            {
                problems.Add($"{EventSourceKey}.maxRecordAgeSeconds must be -1 (unlimited) or between 60 and 604800, got {settings.MaxRecordAgeSeconds}.");
            }
            if (settings.StartingPosition is not (null or "TRIM_HORIZON" or "LATEST"))
            {
                problems.Add($"{EventSourceKey}.startingPosition must be TRIM_HORIZON or LATEST, got '{settings.StartingPosition}'.");
            }
            if (problems.Count > 0)
            {
                throw new CdkContextException(cdkJsonPath, problems);
            }
            return settings;
        }
    }

    /// <summary>Sets every value present here on <paramref name="options"/> (apply flags afterwards: they override).</summary>
    public void ApplyTo(EventSourceMappingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (BatchSize is { } batch)
        {
            options.BatchSize = batch;
        }
        if (MaxBatchingWindowSeconds is { } batching)
        {
            options.MaximumBatchingWindowInSeconds = batching;
        }
        if (TumblingWindowSeconds is { } window)
        {
            options.TumblingWindowInSeconds = window;
        }
        if (RetryAttempts is { } retries)
        {
            options.MaximumRetryAttempts = retries;
        }
        if (MaxRecordAgeSeconds is { } age)
        {
            options.MaximumRecordAgeInSeconds = age;
        }
        if (BisectBatchOnError is { } bisect)
        {
            options.BisectBatchOnFunctionError = bisect;
        }
        if (ReportBatchItemFailures is { } report)
        {
            options.FunctionResponseTypes.Remove(EventSourceMappingOptions.ReportBatchItemFailures);
            if (report)
            {
                options.FunctionResponseTypes.Add(EventSourceMappingOptions.ReportBatchItemFailures);
            }
        }
        if (EfoConsumer is { } consumer)
        {
            options.ConsumerName = consumer;
        }
        if (StartingPosition is { } start)
        {
            options.StartingPosition = start == "LATEST" ? EventSourceMapping.StartingPosition.Latest : EventSourceMapping.StartingPosition.TrimHorizon;
        }
    }

    private static JsonElement Section(JsonElement context, string key, List<string> problems)
    {
        if (!context.TryGetProperty(key, out var section) || section.ValueKind == JsonValueKind.Null)
        {
            return default;
        }
        if (section.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{key} must be an object.");
            return default;
        }
        return section;
    }

    private static int? Int(JsonElement section, string name, int min, int max, List<string> problems)
    {
        if (section.ValueKind != JsonValueKind.Object || !section.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int n) || n < min || n > max)
        {
            problems.Add($"{EventSourceKey}.{name} must be an integer between {min} and {max}, got {value.GetRawText()}.");
            return null;
        }
        return n;
    }

    private static bool? Bool(JsonElement section, string name, List<string> problems)
    {
        if (section.ValueKind != JsonValueKind.Object || !section.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            problems.Add($"{EventSourceKey}.{name} must be true or false, got {value.GetRawText()}.");
            return null;
        }
        return value.GetBoolean();
    }

    private static string? String(JsonElement section, string key, string name, List<string> problems)
    {
        if (section.ValueKind != JsonValueKind.Object || !section.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
        {
            problems.Add($"{key}.{name} must be a non-empty string, got {value.GetRawText()}.");
            return null;
        }
        return value.GetString();
    }
}

/// <summary>A <c>cdk.json</c> context value cannot be used; <see cref="Exception.Message"/> names the file and every key.</summary>
public sealed class CdkContextException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CdkContextException(string path, IReadOnlyList<string> problems)
        : base($"{path}: " + string.Join(" ", problems))
    {
        Problems = problems;
    }

    /// <summary>Each problem, starting with its context key.</summary>
    public IReadOnlyList<string> Problems { get; }
}
