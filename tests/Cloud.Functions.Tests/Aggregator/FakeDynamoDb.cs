using System.Collections.Concurrent;
using System.Reflection;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace Cloud.Functions.Tests.Aggregator;

/// <summary>
/// In-memory stand-in for the few IAmazonDynamoDB calls the aggregates sink makes (BatchGetItem, GetItem,
/// PutItem with the two condition forms it uses, Scan). Any other call throws. Counts puts so tests can see
/// that a retried segment writes nothing.
/// </summary>
public class FakeDynamoDb : DispatchProxy
{
    public ConcurrentDictionary<(string Pk, string Sk), Dictionary<string, AttributeValue>> Items { get; } = new();

    private int _puts;

    public int Puts => Volatile.Read(ref _puts);

    public static (IAmazonDynamoDB Client, FakeDynamoDb Fake) Create()
    {
        IAmazonDynamoDB client = Create<IAmazonDynamoDB, FakeDynamoDb>();
        return (client, (FakeDynamoDb)(object)client);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        object? request = args?.FirstOrDefault();
        return (targetMethod?.Name, request) switch
        {
            ("BatchGetItemAsync", BatchGetItemRequest r) => Task.FromResult(BatchGet(r)),
            ("GetItemAsync", GetItemRequest r) => Task.FromResult(Get(r)),
            ("PutItemAsync", PutItemRequest r) => Put(r),
            ("ScanAsync", ScanRequest) => Task.FromResult(new ScanResponse { Items = Items.Values.Select(Copy).ToList() }),
            ("Dispose", _) => null,
            _ => throw new NotSupportedException($"FakeDynamoDb does not implement {targetMethod?.Name}({request?.GetType().Name})"),
        };
    }

    private static (string, string) KeyOf(Dictionary<string, AttributeValue> key) => (key["pk"].S!, key["sk"].S!);

    private static Dictionary<string, AttributeValue> Copy(Dictionary<string, AttributeValue> item) => new(item);

    private BatchGetItemResponse BatchGet(BatchGetItemRequest r)
    {
        var responses = new Dictionary<string, List<Dictionary<string, AttributeValue>>>();
        foreach ((string table, KeysAndAttributes ka) in r.RequestItems)
        {
            responses[table] = ka.Keys.Select(KeyOf).Where(Items.ContainsKey).Select(k => Copy(Items[k])).ToList();
        }

        return new BatchGetItemResponse { Responses = responses, UnprocessedKeys = [] };
    }

    private GetItemResponse Get(GetItemRequest r) =>
        new() { Item = Items.TryGetValue(KeyOf(r.Key), out var item) ? Copy(item) : [] };

    private Task<PutItemResponse> Put(PutItemRequest r)
    {
        var key = KeyOf(r.Item);
        lock (Items)
        {
            Items.TryGetValue(key, out var current);
            bool ok = r.ConditionExpression switch
            {
                null => true,
                "attribute_not_exists(#pk)" => current is null,
                "#v = :v" => current is not null && current["version"].N == r.ExpressionAttributeValues[":v"].N,
                _ => throw new NotSupportedException(r.ConditionExpression),
            };
            if (!ok)
            {
                return Task.FromException<PutItemResponse>(new ConditionalCheckFailedException("The conditional request failed"));
            }

            Items[key] = Copy(r.Item);
            Interlocked.Increment(ref _puts);
        }

        return Task.FromResult(new PutItemResponse());
    }
}
