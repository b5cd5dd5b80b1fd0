using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;

namespace Cloud.Privacy;

/// <summary>
/// <see cref="IBranchKeyStore"/> in the key table (partition key <c>userId</c>), next to the user keys: one item per
/// version, <c>#branch/ID/vN</c> (<c>status</c> = Branch, <c>keyVersion</c>, <c>wrappedKey</c>, <c>masterKeyId</c>,
/// <c>createdAt</c>), and a pointer item <c>#branch/ID/active</c> (<c>activeVersion</c>). A rotation puts the new version
/// (conditional on its absence), then moves the pointer (conditional on the version it replaces); a loser's version item
/// stays unused. No transactions, so it runs on dynalite as on DynamoDB.
/// </summary>
public sealed class DynamoDbBranchKeyStore : IBranchKeyStore
{
    private readonly IAmazonDynamoDB _dynamo;

    /// <summary>Creates the store over the key table.</summary>
    public DynamoDbBranchKeyStore(IAmazonDynamoDB dynamo, string tableName = DynamoDbKeyStore.DefaultTableName)
    {
        ArgumentNullException.ThrowIfNull(dynamo);
        ArgumentException.ThrowIfNullOrWhiteSpace(tableName);
        _dynamo = dynamo;
        TableName = tableName;
    }

    /// <summary>The key table.</summary>
    public string TableName { get; }

    /// <inheritdoc />
    public async Task<BranchKeyRecord?> GetActiveAsync(string branchKeyId, CancellationToken cancellationToken)
    {
        var pointer = await GetItemAsync(PointerOf(branchKeyId), cancellationToken).ConfigureAwait(false);
        if (pointer is null)
        {
            return null;
        }

        if (!pointer.TryGetValue("activeVersion", out var v) || !int.TryParse(v.N, NumberStyles.None, CultureInfo.InvariantCulture, out int version))
        {
            throw new KeyStoreException("GetBranchKey", null, $"the active pointer of branch key '{branchKeyId}' in table '{TableName}' has no valid activeVersion");
        }

        return await GetVersionAsync(branchKeyId, version, cancellationToken).ConfigureAwait(false)
            ?? throw new KeyStoreException("GetBranchKey", null, $"branch key '{branchKeyId}' points to version {version}, which table '{TableName}' does not hold");
    }

    /// <inheritdoc />
    public async Task<BranchKeyRecord?> GetVersionAsync(string branchKeyId, int version, CancellationToken cancellationToken)
    {
        var item = await GetItemAsync(BranchKeyNames.ContextOf(branchKeyId, version), cancellationToken).ConfigureAwait(false);
        if (item is null)
        {
            return null;
        }

        if (!item.TryGetValue("wrappedKey", out var w) || w.B is null
            || !DateTimeOffset.TryParse(item.TryGetValue("createdAt", out var c) ? c.S : null, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var createdAt))
        {
            throw new KeyStoreException("GetBranchKey", null, $"item of branch key '{branchKeyId}' version {version} in table '{TableName}' is not a valid branch key");
        }

        return new BranchKeyRecord(branchKeyId, version, w.B.ToArray(), item.TryGetValue("masterKeyId", out var m) ? m.S : null, createdAt);
    }

    /// <inheritdoc />
    public async Task<BranchKeyRecord> TryActivateAsync(BranchKeyRecord candidate, int? expectedActiveVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var item = new Dictionary<string, AttributeValue>
        {
            [DynamoDbKeyStore.PartitionKey] = new() { S = BranchKeyNames.ContextOf(candidate.BranchKeyId, candidate.Version) },
            ["status"] = new() { S = "Branch" },
            ["keyVersion"] = new() { N = candidate.Version.ToString(CultureInfo.InvariantCulture) },
            ["wrappedKey"] = new() { B = new MemoryStream(candidate.WrappedKey.ToArray(), writable: false) },
            ["createdAt"] = new() { S = candidate.CreatedAt.ToString("O", CultureInfo.InvariantCulture) },
        };
        if (candidate.MasterKeyId is not null)
        {
            item["masterKeyId"] = new AttributeValue { S = candidate.MasterKeyId };
        }

        try
        {
            try
            {
                await _dynamo.PutItemAsync(new PutItemRequest
                {
                    TableName = TableName,
                    Item = item,
                    ConditionExpression = "attribute_not_exists(#pk)",
                    ExpressionAttributeNames = new Dictionary<string, string> { ["#pk"] = DynamoDbKeyStore.PartitionKey },
                }, cancellationToken).ConfigureAwait(false);
                await _dynamo.PutItemAsync(new PutItemRequest
                {
                    TableName = TableName,
                    Item = new Dictionary<string, AttributeValue>
                    {
                        [DynamoDbKeyStore.PartitionKey] = new() { S = PointerOf(candidate.BranchKeyId) },
                        ["status"] = new() { S = "BranchPointer" },
                        ["activeVersion"] = new() { N = candidate.Version.ToString(CultureInfo.InvariantCulture) },
                    },
                    ConditionExpression = expectedActiveVersion is null ? "attribute_not_exists(#pk)" : "activeVersion = :expected",
                    ExpressionAttributeNames = expectedActiveVersion is null ? new Dictionary<string, string> { ["#pk"] = DynamoDbKeyStore.PartitionKey } : null,
                    ExpressionAttributeValues = expectedActiveVersion is { } e
                        ? new Dictionary<string, AttributeValue> { [":expected"] = new() { N = e.ToString(CultureInfo.InvariantCulture) } }
                        : null,
                }, cancellationToken).ConfigureAwait(false);
                return candidate;
            }
            catch (ConditionalCheckFailedException)
            {
                return await GetActiveAsync(candidate.BranchKeyId, cancellationToken).ConfigureAwait(false)
                    ?? throw new KeyStoreException("ActivateBranchKey", null, $"conditional activation of branch key '{candidate.BranchKeyId}' failed but no version is active");
            }
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException)
        {
            throw new KeyStoreException("ActivateBranchKey", null, $"table '{TableName}': {ex.GetType().Name}: {ex.Message}", ex);
        }
    }

    private static string PointerOf(string branchKeyId) => BranchKeyNames.Prefix + branchKeyId + "/active";

    private async Task<Dictionary<string, AttributeValue>?> GetItemAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _dynamo.GetItemAsync(new GetItemRequest
            {
                TableName = TableName,
                Key = new Dictionary<string, AttributeValue> { [DynamoDbKeyStore.PartitionKey] = new() { S = key } },
                ConsistentRead = true,
            }, cancellationToken).ConfigureAwait(false);
            return response.Item is { Count: > 0 } item ? item : null;
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException)
        {
            throw new KeyStoreException("GetBranchKey", null, $"table '{TableName}': {ex.GetType().Name}: {ex.Message}", ex);
        }
    }
}
