using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace Cloud.Functions.Aggregator;

/// <summary>
/// Merges window segments into the aggregates table. Per key: read the item (consistent), skip it when the
/// segment's id is already in <c>contributions</c>, else merge and put with a condition on <c>version</c>
/// (or on absence); a lost race re-reads and retries. So a retried final invoke never double-counts, and
/// segments of several shards (or of one shard's early-ended window) add up in one item per (key, window).
/// </summary>
public sealed class DynamoDbAggregateSink : IAggregateSink
{
    private const int MaxAttempts = 25;
    private readonly IAmazonDynamoDB _dynamoDb;
    private readonly string _table;
    private readonly int _concurrency;

    /// <summary>Creates the sink.</summary>
    public DynamoDbAggregateSink(IAmazonDynamoDB dynamoDb, string tableName, int concurrency = 8)
    {
        ArgumentNullException.ThrowIfNull(dynamoDb);
        ArgumentException.ThrowIfNullOrWhiteSpace(tableName);
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        _dynamoDb = dynamoDb;
        _table = tableName;
        _concurrency = concurrency;
    }

    /// <inheritdoc />
    public async Task WriteAsync(WindowSegment segment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(segment);
        string window = AggregatesTable.FormatWindow(segment.WindowStart);
        var existing = new Dictionary<string, Dictionary<string, AttributeValue>>(StringComparer.Ordinal);
        foreach (string[] chunk in segment.Keys.Keys.Chunk(100))
        {
            await BatchReadAsync(chunk, window, existing, cancellationToken).ConfigureAwait(false);
        }

        await Parallel.ForEachAsync(segment.Keys, new ParallelOptions { MaxDegreeOfParallelism = _concurrency, CancellationToken = cancellationToken },
            async (entry, ct) =>
            {
                existing.TryGetValue(entry.Key, out Dictionary<string, AttributeValue>? current);
                await MergeKeyAsync(segment, window, entry.Key, entry.Value, current, ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
    }

    private async Task BatchReadAsync(string[] keys, string window, Dictionary<string, Dictionary<string, AttributeValue>> into, CancellationToken ct)
    {
        var request = new BatchGetItemRequest
        {
            RequestItems = new Dictionary<string, KeysAndAttributes>
            {
                [_table] = new() { ConsistentRead = true, Keys = keys.Select(k => AggregatesTable.ItemKey(k, window)).ToList() },
            },
        };
        for (int attempt = 0; request.RequestItems.Count > 0; attempt++)
        {
            BatchGetItemResponse r = await _dynamoDb.BatchGetItemAsync(request, ct).ConfigureAwait(false);
            if (r.Responses is { } responses && responses.TryGetValue(_table, out List<Dictionary<string, AttributeValue>>? items))
            {
                foreach (Dictionary<string, AttributeValue> item in items)
                {
                    into[item[AggregatesTable.PartitionKey].S!] = item;
                }
            }

            if (r.UnprocessedKeys is not { Count: > 0 } rest)
            {
                break;
            }

            if (attempt >= MaxAttempts)
            {
                throw new InvalidOperationException($"DynamoDB left keys of table {_table} unprocessed after {MaxAttempts} BatchGetItem attempts.");
            }

            request = new BatchGetItemRequest { RequestItems = rest };
            await Task.Delay(Math.Min(1000, 20 << Math.Min(attempt, 6)), ct).ConfigureAwait(false);
        }
    }

    private async Task MergeKeyAsync(WindowSegment segment, string window, string key, KeyAggregate agg,
        Dictionary<string, AttributeValue>? current, CancellationToken ct)
    {
        for (int attempt = 0; ; attempt++)
        {
            AggregateResult? existing = current is { Count: > 0 } ? AggregateResult.FromItem(current) : null;
            if (existing is not null && existing.Contributions.Contains(segment.ContributionId))
            {
                return; // already merged by an earlier (retried) invoke
            }

            Dictionary<string, AttributeValue> item = BuildItem(segment, window, key, agg, existing);
            var put = new PutItemRequest
            {
                TableName = _table,
                Item = item,
                ExpressionAttributeNames = new Dictionary<string, string> { ["#pk"] = AggregatesTable.PartitionKey },
                ConditionExpression = "attribute_not_exists(#pk)",
            };
            if (existing is not null)
            {
                put.ExpressionAttributeNames = new Dictionary<string, string> { ["#v"] = "version" };
                put.ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":v"] = new() { N = AggregatesTable.Num(existing.Version) } };
                put.ConditionExpression = "#v = :v";
            }

            try
            {
                await _dynamoDb.PutItemAsync(put, ct).ConfigureAwait(false);
                return;
            }
            catch (ConditionalCheckFailedException) when (attempt < MaxAttempts)
            {
                GetItemResponse fresh = await _dynamoDb.GetItemAsync(new GetItemRequest
                {
                    TableName = _table,
                    ConsistentRead = true,
                    Key = AggregatesTable.ItemKey(key, window),
                }, ct).ConfigureAwait(false);
                current = fresh.Item;
            }
        }
    }

    internal static Dictionary<string, AttributeValue> BuildItem(WindowSegment segment, string window, string key, KeyAggregate agg, AggregateResult? existing)
    {
        // Fields: merge by name (the layout of an older segment may differ).
        var fields = new Dictionary<string, FieldStats>(existing?.Fields ?? new Dictionary<string, FieldStats>(), StringComparer.Ordinal);
        for (int i = 0; i < segment.SumFields.Count; i++)
        {
            FieldStats merged = fields.GetValueOrDefault(segment.SumFields[i]);
            merged.Merge(agg.Fields[i]);
            if (merged.Count > 0)
            {
                fields[segment.SumFields[i]] = merged;
            }
        }

        var top = new Dictionary<string, long>(StringComparer.Ordinal);
        bool approximate = agg.TopIsApproximate || (existing?.TopApproximate ?? false);
        string? topField = segment.TopKField ?? existing?.TopKField;
        if (existing is not null && string.Equals(existing.TopKField, topField, StringComparison.Ordinal))
        {
            foreach ((string c, long n) in existing.Top)
            {
                top[c] = n;
            }
        }

        foreach (TopEntry e in agg.Top)
        {
            top[e.Category] = top.GetValueOrDefault(e.Category) + e.Count;
        }

        int capacity = Math.Max(segment.TopKCapacity, 1);
        if (top.Count > capacity)
        {
            approximate = true;
            top = top.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(capacity)
                .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        }

        var contributions = new List<string>(existing?.Contributions ?? []) { segment.ContributionId };
        var item = new Dictionary<string, AttributeValue>
        {
            [AggregatesTable.PartitionKey] = new() { S = key },
            [AggregatesTable.SortKey] = new() { S = window },
            ["windowEnd"] = new() { S = AggregatesTable.FormatWindow(segment.WindowEnd) },
            ["count"] = new() { N = AggregatesTable.Num((existing?.Count ?? 0) + agg.Count) },
            ["contributions"] = new() { SS = contributions },
            ["version"] = new() { N = AggregatesTable.Num((existing?.Version ?? 0) + 1) },
        };
        if (fields.Count > 0)
        {
            item["fields"] = new()
            {
                M = fields.ToDictionary(kv => kv.Key, kv => new AttributeValue
                {
                    M = new Dictionary<string, AttributeValue>
                    {
                        ["sum"] = new() { N = AggregatesTable.Num(kv.Value.Sum) },
                        ["min"] = new() { N = AggregatesTable.Num(kv.Value.Min) },
                        ["max"] = new() { N = AggregatesTable.Num(kv.Value.Max) },
                        ["n"] = new() { N = AggregatesTable.Num(kv.Value.Count) },
                    },
                }, StringComparer.Ordinal),
            };
        }

        if (topField is not null)
        {
            item["topField"] = new() { S = topField };
            item["topApproximate"] = new() { BOOL = approximate };
            if (top.Count > 0)
            {
                item["top"] = new() { M = top.ToDictionary(kv => kv.Key, kv => new AttributeValue { N = AggregatesTable.Num(kv.Value) }, StringComparer.Ordinal) };
            }
        }

        return item;
    }
}
