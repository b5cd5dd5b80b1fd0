using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Cloud.Consumer.Events;

namespace Cloud.Functions.Aggregator;

/// <summary>
/// The aggregates table: one item per (key, window). Partition key <c>pk</c> (S) = aggregation key, sort key
/// <c>sk</c> (S) = window start (ISO-8601 UTC, e.g. <c>2020-12-09T07:04:00Z</c>). Attributes: <c>windowEnd</c> (S),
/// <c>count</c> (N), <c>fields</c> (M: field → M{sum, min, max, n}), <c>topField</c> (S), <c>top</c>
/// (M: category → N), <c>topApproximate</c> (BOOL), <c>contributions</c> (SS: segment ids merged so far),
/// <c>version</c> (N, optimistic concurrency).
/// </summary>
public static class AggregatesTable
{
    /// <summary>Partition key attribute.</summary>
    public const string PartitionKey = "pk";

    /// <summary>Sort key attribute.</summary>
    public const string SortKey = "sk";

    /// <summary>The CreateTable request for the table (on-demand billing), for the local stack and tests.</summary>
    public static CreateTableRequest CreateTableRequest(string tableName) => new()
    {
        TableName = tableName,
        BillingMode = BillingMode.PAY_PER_REQUEST,
        AttributeDefinitions =
        [
            new AttributeDefinition(PartitionKey, ScalarAttributeType.S),
            new AttributeDefinition(SortKey, ScalarAttributeType.S),
        ],
        KeySchema =
        [
            new KeySchemaElement(PartitionKey, KeyType.HASH),
            new KeySchemaElement(SortKey, KeyType.RANGE),
        ],
    };

    /// <summary>Creates the table when it does not exist and waits until it is ACTIVE.</summary>
    public static async Task EnsureExistsAsync(IAmazonDynamoDB dynamoDb, string tableName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dynamoDb);
        try
        {
            await dynamoDb.CreateTableAsync(CreateTableRequest(tableName), cancellationToken).ConfigureAwait(false);
        }
        catch (ResourceInUseException)
        {
            // Already there.
        }

        for (int attempt = 0; ; attempt++)
        {
            DescribeTableResponse d = await dynamoDb.DescribeTableAsync(tableName, cancellationToken).ConfigureAwait(false);
            if (d.Table.TableStatus == TableStatus.ACTIVE)
            {
                return;
            }

            if (attempt > 300)
            {
                throw new TimeoutException($"Table {tableName} did not become ACTIVE.");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Formats a window start the way it is stored in <see cref="SortKey"/>.</summary>
    public static string FormatWindow(DateTimeOffset windowStart) => IsoUtcTimestampConverter.Format(windowStart);

    /// <summary>Reads the result for one key and window, or null.</summary>
    public static async Task<AggregateResult?> ReadAsync(IAmazonDynamoDB dynamoDb, string tableName, string key, DateTimeOffset windowStart, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dynamoDb);
        GetItemResponse r = await dynamoDb.GetItemAsync(new GetItemRequest
        {
            TableName = tableName,
            ConsistentRead = true,
            Key = ItemKey(key, FormatWindow(windowStart)),
        }, cancellationToken).ConfigureAwait(false);
        return r.Item is { Count: > 0 } item ? AggregateResult.FromItem(item) : null;
    }

    /// <summary>Reads every result in the table (a scan; for tests and small local tables).</summary>
    public static async Task<IReadOnlyList<AggregateResult>> ScanAsync(IAmazonDynamoDB dynamoDb, string tableName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dynamoDb);
        var results = new List<AggregateResult>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            ScanResponse page = await dynamoDb.ScanAsync(new ScanRequest { TableName = tableName, ExclusiveStartKey = start, ConsistentRead = true }, cancellationToken).ConfigureAwait(false);
            foreach (Dictionary<string, AttributeValue> item in page.Items ?? [])
            {
                results.Add(AggregateResult.FromItem(item));
            }

            start = page.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (start is not null);
        return results;
    }

    internal static Dictionary<string, AttributeValue> ItemKey(string key, string window) => new()
    {
        [PartitionKey] = new AttributeValue { S = key },
        [SortKey] = new AttributeValue { S = window },
    };

    internal static string Num(decimal d) => d.ToString(CultureInfo.InvariantCulture);

    internal static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One item of the aggregates table.</summary>
public sealed record AggregateResult
{
    /// <summary>The aggregation key.</summary>
    public required string Key { get; init; }

    /// <summary>Window start.</summary>
    public required DateTimeOffset WindowStart { get; init; }

    /// <summary>Window end.</summary>
    public DateTimeOffset WindowEnd { get; init; }

    /// <summary>Events counted.</summary>
    public long Count { get; init; }

    /// <summary>Statistics per numeric field.</summary>
    public IReadOnlyDictionary<string, FieldStats> Fields { get; init; } = new Dictionary<string, FieldStats>();

    /// <summary>The categorical field, or null.</summary>
    public string? TopKField { get; init; }

    /// <summary>Tracked categories with counts, most frequent first (ties by category).</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Top { get; init; } = [];

    /// <summary>True when the top counts are Space-Saving estimates rather than exact counts.</summary>
    public bool TopApproximate { get; init; }

    /// <summary>Segment ids merged into this item.</summary>
    public IReadOnlyCollection<string> Contributions { get; init; } = [];

    /// <summary>Optimistic-concurrency version.</summary>
    public long Version { get; init; }

    /// <summary>Parses a table item.</summary>
    /// <exception cref="FormatException">The item lacks required attributes.</exception>
    public static AggregateResult FromItem(IReadOnlyDictionary<string, AttributeValue> item)
    {
        ArgumentNullException.ThrowIfNull(item);
        string S(string name) => item.TryGetValue(name, out AttributeValue? v) && v.S is { } s ? s : throw new FormatException($"Aggregate item lacks string attribute '{name}'.");
        static long L(AttributeValue? v) => v?.N is { } n ? long.Parse(n, CultureInfo.InvariantCulture) : 0;
        static decimal D(AttributeValue? v) => v?.N is { } n ? decimal.Parse(n, NumberStyles.Float, CultureInfo.InvariantCulture) : 0;

        var fields = new Dictionary<string, FieldStats>(StringComparer.Ordinal);
        if (item.TryGetValue("fields", out AttributeValue? fm) && fm.M is { } fmap)
        {
            foreach ((string name, AttributeValue value) in fmap)
            {
                Dictionary<string, AttributeValue> m = value.M ?? [];
                fields[name] = new FieldStats
                {
                    Sum = D(m.GetValueOrDefault("sum")),
                    Min = D(m.GetValueOrDefault("min")),
                    Max = D(m.GetValueOrDefault("max")),
                    Count = L(m.GetValueOrDefault("n")),
                };
            }
        }

        var top = new List<KeyValuePair<string, long>>();
        if (item.TryGetValue("top", out AttributeValue? tm) && tm.M is { } tmap)
        {
            top.AddRange(tmap.Select(kv => new KeyValuePair<string, long>(kv.Key, L(kv.Value))));
            top.Sort((a, b) => b.Value != a.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(a.Key, b.Key));
        }

        return new AggregateResult
        {
            Key = S(AggregatesTable.PartitionKey),
            WindowStart = DateTimeOffset.Parse(S(AggregatesTable.SortKey), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
            WindowEnd = item.TryGetValue("windowEnd", out AttributeValue? we) && we.S is { } wes
                ? DateTimeOffset.Parse(wes, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal)
                : default,
            Count = L(item.GetValueOrDefault("count")),
            Fields = fields,
            TopKField = item.TryGetValue("topField", out AttributeValue? tf) ? tf.S : null,
            Top = top,
            TopApproximate = item.TryGetValue("topApproximate", out AttributeValue? ta) && ta.BOOL == true,
            Contributions = item.TryGetValue("contributions", out AttributeValue? c) && c.SS is { } ss ? ss : [],
            Version = L(item.GetValueOrDefault("version")),
        };
    }
}
