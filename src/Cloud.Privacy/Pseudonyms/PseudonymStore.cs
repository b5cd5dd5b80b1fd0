using System.Collections.Concurrent;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;

namespace Cloud.Privacy;

/// <summary>What the key table says about a pseudonym: the key id it belongs to, or that its user was forgotten.</summary>
/// <param name="KeyId">The keyed-hash id of the user's key record; null for a tombstone.</param>
/// <param name="Forgotten">True when the pseudonym's user was forgotten (the link to the key id is gone).</param>
public readonly record struct PseudonymRecord(string? KeyId, bool Forgotten);

/// <summary>
/// Pseudonym → key id map, so a consumer that sees only a record's pseudonym finds the user's key. Forgetting replaces
/// the entry by a tombstone that holds no key id: after it, nothing links the pseudonym to anything computable from the
/// user id. Implementations: <see cref="DynamoDbPseudonymStore"/> (items in the key table) and <see cref="InMemoryPseudonymStore"/>.
/// </summary>
public interface IPseudonymStore
{
    /// <summary>The entry, or null when the pseudonym is unknown.</summary>
    /// <exception cref="KeyStoreException">The store failed.</exception>
    Task<PseudonymRecord?> GetAsync(string pseudonym, CancellationToken cancellationToken);

    /// <summary>Adds the link unless the pseudonym already has an entry (a tombstone is never overwritten).</summary>
    /// <exception cref="KeyStoreException">The store failed.</exception>
    Task AddAsync(string pseudonym, string keyId, CancellationToken cancellationToken);

    /// <summary>Replaces the entry by a tombstone (idempotent).</summary>
    /// <exception cref="KeyStoreException">The store failed.</exception>
    Task ForgetAsync(string pseudonym, DateTimeOffset at, CancellationToken cancellationToken);
}

/// <summary>An in-process <see cref="IPseudonymStore"/> for tests and tools.</summary>
public sealed class InMemoryPseudonymStore : IPseudonymStore
{
    private readonly ConcurrentDictionary<string, PseudonymRecord> _entries = new(StringComparer.Ordinal);

    /// <summary>Every entry (for erasure checks).</summary>
    public IReadOnlyDictionary<string, PseudonymRecord> Entries => _entries;

    /// <inheritdoc />
    public Task<PseudonymRecord?> GetAsync(string pseudonym, CancellationToken cancellationToken) =>
        Task.FromResult(_entries.TryGetValue(pseudonym, out var r) ? r : (PseudonymRecord?)null);

    /// <inheritdoc />
    public Task AddAsync(string pseudonym, string keyId, CancellationToken cancellationToken)
    {
        _entries.TryAdd(pseudonym, new PseudonymRecord(keyId, false));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ForgetAsync(string pseudonym, DateTimeOffset at, CancellationToken cancellationToken)
    {
        _entries[pseudonym] = new PseudonymRecord(null, true);
        return Task.CompletedTask;
    }
}

/// <summary>
/// <see cref="IPseudonymStore"/> in the key table: item <c>userId</c> = the pseudonym, <c>status</c> = Pseudonym with
/// <c>keyId</c>, or Forgotten (no <c>keyId</c>) with <c>forgottenAt</c>.
/// </summary>
public sealed class DynamoDbPseudonymStore : IPseudonymStore
{
    private readonly IAmazonDynamoDB _dynamo;

    /// <summary>Creates the store over the key table.</summary>
    public DynamoDbPseudonymStore(IAmazonDynamoDB dynamo, string tableName = DynamoDbKeyStore.DefaultTableName)
    {
        ArgumentNullException.ThrowIfNull(dynamo);
        ArgumentException.ThrowIfNullOrWhiteSpace(tableName);
        _dynamo = dynamo;
        TableName = tableName;
    }

    /// <summary>The key table.</summary>
    public string TableName { get; }

    /// <inheritdoc />
    public async Task<PseudonymRecord?> GetAsync(string pseudonym, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _dynamo.GetItemAsync(new GetItemRequest { TableName = TableName, Key = KeyOf(pseudonym), ConsistentRead = true }, cancellationToken).ConfigureAwait(false);
            if (response.Item is not { Count: > 0 } item)
            {
                return null;
            }

            var status = item.TryGetValue("status", out var s) ? s.S : null;
            return status switch
            {
                "Forgotten" => new PseudonymRecord(null, true),
                "Pseudonym" when item.TryGetValue("keyId", out var k) && !string.IsNullOrEmpty(k.S) => new PseudonymRecord(k.S, false),
                _ => throw new KeyStoreException("GetPseudonym", null, $"item in table '{TableName}' is not a valid pseudonym entry (status '{status}')"),
            };
        }
        catch (Exception ex) when (IsStoreError(ex))
        {
            throw Wrap("GetPseudonym", ex);
        }
    }

    /// <inheritdoc />
    public async Task AddAsync(string pseudonym, string keyId, CancellationToken cancellationToken)
    {
        try
        {
            await _dynamo.PutItemAsync(new PutItemRequest
            {
                TableName = TableName,
                Item = new Dictionary<string, AttributeValue>
                {
                    [DynamoDbKeyStore.PartitionKey] = new() { S = pseudonym },
                    ["status"] = new() { S = "Pseudonym" },
                    ["keyId"] = new() { S = keyId },
                },
                ConditionExpression = "attribute_not_exists(#pk)",
                ExpressionAttributeNames = new Dictionary<string, string> { ["#pk"] = DynamoDbKeyStore.PartitionKey },
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException)
        {
            // Already linked, or a tombstone: both stay.
        }
        catch (Exception ex) when (IsStoreError(ex))
        {
            throw Wrap("AddPseudonym", ex);
        }
    }

    /// <inheritdoc />
    public async Task ForgetAsync(string pseudonym, DateTimeOffset at, CancellationToken cancellationToken)
    {
        try
        {
            await _dynamo.PutItemAsync(new PutItemRequest
            {
                TableName = TableName,
                Item = new Dictionary<string, AttributeValue>
                {
                    [DynamoDbKeyStore.PartitionKey] = new() { S = pseudonym },
                    ["status"] = new() { S = "Forgotten" },
                    ["forgottenAt"] = new() { S = at.ToString("O", System.Globalization.CultureInfo.InvariantCulture) },
                },
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreError(ex))
        {
            throw Wrap("ForgetPseudonym", ex);
        }
    }

    private static Dictionary<string, AttributeValue> KeyOf(string pseudonym) => new() { [DynamoDbKeyStore.PartitionKey] = new AttributeValue { S = pseudonym } };

    private static bool IsStoreError(Exception ex) => ex is AmazonServiceException or AmazonClientException or HttpRequestException;

    private KeyStoreException Wrap(string operation, Exception ex) => new(operation, null, $"table '{TableName}': {ex.GetType().Name}: {ex.Message}", ex);
}
