using System.Globalization;

namespace Cloud.Functions.Aggregator;

/// <summary>
/// Aggregator settings. In Lambda they come from environment variables (<see cref="FromEnvironment"/>);
/// tests and the local runner build one directly. Validated once, all problems in one message.
/// </summary>
public sealed record AggregatorConfig
{
    /// <summary>DynamoDB table receiving the window results (env <c>AGGREGATES_TABLE</c>).</summary>
    /// <value>The default value is <c>cloud-aggregates</c>.</value>
    public string TableName { get; init; } = "cloud-aggregates";

    /// <summary>Top-level JSON field whose value is the aggregation key (env <c>KEY_FIELD</c>); string or number.</summary>
    /// <value>The default value is <c>userId</c> (a pseudonymous id).</value>
    public string KeyField { get; init; } = "userId";

    /// <summary>Numeric top-level fields summed per key, with min, max and count (env <c>SUM_FIELDS</c>, comma-separated, may be empty).</summary>
    /// <value>The default value is <c>amount</c>.</value>
    public IReadOnlyList<string> SumFields { get; init; } = ["amount"];

    /// <summary>Categorical top-level field whose most frequent values are tracked per key (env <c>TOPK_FIELD</c>; empty = off).</summary>
    /// <value>The default value is <c>page</c>.</value>
    public string? TopKField { get; init; } = "page";

    /// <summary>How many top values are reported (env <c>TOPK_SIZE</c>, 1–100). The state tracks 4× as many (Space-Saving).</summary>
    /// <value>The default value is 5.</value>
    public int TopKSize { get; init; } = 5;

    /// <summary>
    /// Largest serialized window state returned to Lambda (env <c>STATE_BUDGET_BYTES</c>, 16 KiB–960,000; Lambda's
    /// limit is 1 MB per shard). When the state would grow past it, the current partial window is written to
    /// DynamoDB and the window goes on with a fresh state.
    /// </summary>
    /// <value>The default value is 786,432 (768 KiB).</value>
    public int StateBudgetBytes { get; init; } = 786_432;

    /// <summary>DynamoDB endpoint override for the local stack (env <c>DYNAMODB_ENDPOINT</c> or <c>AWS_ENDPOINT_URL_DYNAMODB</c>).</summary>
    /// <value>The default value is null (the SDK's regional endpoint).</value>
    public Uri? DynamoDbEndpoint { get; init; }

    /// <summary>
    /// Fields that hold personal data (env <c>PERSONAL_FIELDS</c>). None of them may be configured as key, sum or
    /// top-K field, so personal data never reaches window state, logs or the aggregates table.
    /// </summary>
    /// <value>The default value is <c>name,email,ip,address</c>.</value>
    public IReadOnlyList<string> PersonalFields { get; init; } = ["name", "email", "ip", "address"];

    /// <summary>Concurrent DynamoDB writes when a window is written out (env <c>WRITE_CONCURRENCY</c>, 1–64).</summary>
    /// <value>The default value is 8.</value>
    public int WriteConcurrency { get; init; } = 8;

    /// <summary>Entries tracked per key for top-K (4 × <see cref="TopKSize"/>).</summary>
    public int TopKCapacity => TopKSize * 4;

    /// <summary>Reads the configuration from environment variables, using the defaults for unset ones, and validates it.</summary>
    /// <param name="getEnvironmentVariable">Variable lookup; defaults to <see cref="Environment.GetEnvironmentVariable(string)"/>.</param>
    /// <exception cref="ArgumentException">Some variable is invalid; the message lists every problem.</exception>
    public static AggregatorConfig FromEnvironment(Func<string, string?>? getEnvironmentVariable = null)
    {
        Func<string, string?> env = getEnvironmentVariable ?? Environment.GetEnvironmentVariable;
        var problems = new List<string>();
        var defaults = new AggregatorConfig();

        string? Get(string name) => env(name) is { } v ? v.Trim() : null;
        int Int(string name, int fallback)
        {
            string? v = Get(name);
            if (string.IsNullOrEmpty(v))
            {
                return fallback;
            }

            if (int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n))
            {
                return n;
            }

            problems.Add($"{name} must be an integer (was '{v}').");
            return fallback;
        }

        static IReadOnlyList<string> List(string v) =>
            v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        Uri? endpoint = null;
        string? endpointText = Get("DYNAMODB_ENDPOINT") is { Length: > 0 } e ? e : Get("AWS_ENDPOINT_URL_DYNAMODB");
        if (!string.IsNullOrEmpty(endpointText) && !Uri.TryCreate(endpointText, UriKind.Absolute, out endpoint))
        {
            problems.Add($"DYNAMODB_ENDPOINT must be an absolute URL (was '{endpointText}').");
        }

        string? topK = Get("TOPK_FIELD");
        var config = new AggregatorConfig
        {
            TableName = Get("AGGREGATES_TABLE") is { Length: > 0 } t ? t : defaults.TableName,
            KeyField = Get("KEY_FIELD") is { Length: > 0 } k ? k : defaults.KeyField,
            SumFields = Get("SUM_FIELDS") is { } s ? List(s) : defaults.SumFields,
            TopKField = topK is null ? defaults.TopKField : (topK.Length == 0 ? null : topK),
            TopKSize = Int("TOPK_SIZE", defaults.TopKSize),
            StateBudgetBytes = Int("STATE_BUDGET_BYTES", defaults.StateBudgetBytes),
            DynamoDbEndpoint = endpoint,
            PersonalFields = Get("PERSONAL_FIELDS") is { } p ? List(p) : defaults.PersonalFields,
            WriteConcurrency = Int("WRITE_CONCURRENCY", defaults.WriteConcurrency),
        };
        config.Validate(problems);
        return config;
    }

    /// <summary>Throws one <see cref="ArgumentException"/> listing every invalid setting.</summary>
    public void Validate() => Validate([]);

    private void Validate(List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(TableName) || TableName.Length is < 3 or > 255)
        {
            problems.Add($"AGGREGATES_TABLE must be a DynamoDB table name of 3–255 characters (was '{TableName}').");
        }

        CheckField("KEY_FIELD", KeyField);
        if (SumFields is null)
        {
            problems.Add("SUM_FIELDS must not be null.");
        }
        else
        {
            foreach (string f in SumFields)
            {
                CheckField("SUM_FIELDS", f);
            }

            if (SumFields.Distinct(StringComparer.Ordinal).Count() != SumFields.Count)
            {
                problems.Add("SUM_FIELDS lists a field twice.");
            }

            if (SumFields.Contains(KeyField, StringComparer.Ordinal))
            {
                problems.Add($"SUM_FIELDS must not contain the key field '{KeyField}'.");
            }

            if (SumFields.Count > 32)
            {
                problems.Add($"SUM_FIELDS may list at most 32 fields (was {SumFields.Count}).");
            }
        }

        if (TopKField is not null)
        {
            CheckField("TOPK_FIELD", TopKField);
            if (string.Equals(TopKField, KeyField, StringComparison.Ordinal))
            {
                problems.Add("TOPK_FIELD must differ from KEY_FIELD.");
            }
        }

        if (TopKSize is < 1 or > 100)
        {
            problems.Add($"TOPK_SIZE must be between 1 and 100 (was {TopKSize}).");
        }

        if (StateBudgetBytes is < 16_384 or > 960_000)
        {
            problems.Add($"STATE_BUDGET_BYTES must be between 16384 and 960000 (Lambda's state limit is 1 MB) (was {StateBudgetBytes}).");
        }

        if (DynamoDbEndpoint is { } uri && (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            problems.Add($"DYNAMODB_ENDPOINT must be an absolute http(s) URL (was '{uri}').");
        }

        if (WriteConcurrency is < 1 or > 64)
        {
            problems.Add($"WRITE_CONCURRENCY must be between 1 and 64 (was {WriteConcurrency}).");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid Aggregator configuration: " + string.Join(" ", problems));
        }

        void CheckField(string setting, string? field)
        {
            if (string.IsNullOrWhiteSpace(field) || field.Length > 255)
            {
                problems.Add($"{setting} must name a JSON field of 1–255 characters (was '{field}').");
                return;
            }

            if (PersonalFields is not null && PersonalFields.Contains(field, StringComparer.OrdinalIgnoreCase))
            {
                problems.Add($"{setting} names '{field}', a personal-data field (PERSONAL_FIELDS); personal data must not be aggregated.");
            }
        }
    }
}
