using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;

namespace Cloud.Privacy;

/// <summary>
/// <see cref="IKeyStore"/> on a DynamoDB table (partition key <c>userId</c>, string). Item attributes: <c>status</c>
/// (Active | Forgotten), <c>keyVersion</c> (N), <c>wrappedKey</c> (B, removed by forget), <c>masterKeyId</c>,
/// <c>createdAt</c>, <c>forgottenAt</c> (ISO-8601). Uses only conditional PutItem / UpdateItem (no transactions), so it
/// runs on dynalite as on DynamoDB. Reads are strongly consistent.
/// </summary>
public sealed class DynamoDbKeyStore : IKeyStore
{
    /// <summary>Default table name.</summary>
    public const string DefaultTableName = "cloud-privacy-keys";

    /// <summary>Name of the partition key attribute.</summary>
    public const string PartitionKey = "userId";

    private readonly IAmazonDynamoDB _dynamo;

    /// <summary>Creates the store over an existing (or to-be-ensured) table.</summary>
    public DynamoDbKeyStore(IAmazonDynamoDB dynamo, string tableName = DefaultTableName)
    {
        ArgumentNullException.ThrowIfNull(dynamo);
        ArgumentException.ThrowIfNullOrWhiteSpace(tableName);
        _dynamo = dynamo;
        TableName = tableName;
    }

    /// <summary>The DynamoDB table.</summary>
    public string TableName { get; }

    /// <summary>
    /// Creates the table (on-demand billing) if it does not exist and waits until it is ACTIVE — CreateTable answers
    /// CREATING even on dynalite. For the local stack and tests; in AWS the CDK stack owns the table (enable PITR there,
    /// see docs/privacy.md for the restore caveat).
    /// </summary>
    public async Task EnsureTableAsync(TimeProvider? timeProvider = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var time = timeProvider ?? TimeProvider.System;
        var deadline = time.GetUtcNow() + (timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            if (await DescribeStatusAsync(cancellationToken).ConfigureAwait(false) is null)
            {
                try
                {
                    await _dynamo.CreateTableAsync(new CreateTableRequest
                    {
                        TableName = TableName,
                        AttributeDefinitions = [new AttributeDefinition(PartitionKey, ScalarAttributeType.S)],
                        KeySchema = [new KeySchemaElement(PartitionKey, KeyType.HASH)],
                        BillingMode = BillingMode.PAY_PER_REQUEST,
                    }, cancellationToken).ConfigureAwait(false);
                }
                catch (ResourceInUseException)
                {
                    // Created concurrently by another process: wait for it below.
                }
            }

            while (await DescribeStatusAsync(cancellationToken).ConfigureAwait(false) != TableStatus.ACTIVE)
            {
                if (time.GetUtcNow() > deadline)
                {
                    throw new KeyStoreException("EnsureTable", null, $"table '{TableName}' did not become ACTIVE in time");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsStoreError(ex))
        {
            throw Wrap("EnsureTable", null, ex);
        }
    }

    /// <inheritdoc />
    public async Task<KeyRecord?> GetAsync(string userId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        GetItemResponse response;
        try
        {
            response = await _dynamo.GetItemAsync(new GetItemRequest
            {
                TableName = TableName,
                Key = KeyOf(userId),
                ConsistentRead = true,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStoreError(ex))
        {
            throw Wrap("GetKey", userId, ex);
        }

        return response.Item is { Count: > 0 } item ? Parse(userId, item) : null;
    }

    /// <inheritdoc />
    public async Task<KeyRecord> TryCreateAsync(KeyRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Status != KeyStatus.Active || record.WrappedKey.IsEmpty)
        {
            throw new ArgumentException("Only an active record with a wrapped key can be created.", nameof(record));
        }

        var item = new Dictionary<string, AttributeValue>
        {
            [PartitionKey] = new() { S = record.UserId },
            ["status"] = new() { S = nameof(KeyStatus.Active) },
            ["keyVersion"] = new() { N = record.KeyVersion.ToString(CultureInfo.InvariantCulture) },
            ["wrappedKey"] = new() { B = new MemoryStream(record.WrappedKey.ToArray(), writable: false) },
            ["createdAt"] = new() { S = record.CreatedAt.ToString("O", CultureInfo.InvariantCulture) },
        };
        if (record.MasterKeyId is not null)
        {
            item["masterKeyId"] = new AttributeValue { S = record.MasterKeyId };
        }

        try
        {
            await _dynamo.PutItemAsync(new PutItemRequest
            {
                TableName = TableName,
                Item = item,
                // First creator wins; a tombstone is a record too, so a forgotten user is never given a new key.
                ConditionExpression = "attribute_not_exists(#pk)",
                ExpressionAttributeNames = new Dictionary<string, string> { ["#pk"] = PartitionKey },
            }, cancellationToken).ConfigureAwait(false);
            return record;
        }
        catch (ConditionalCheckFailedException)
        {
            return await GetAsync(record.UserId, cancellationToken).ConfigureAwait(false)
                ?? throw new KeyStoreException("CreateKey", record.UserId, "conditional create failed but no record exists");
        }
        catch (Exception ex) when (IsStoreError(ex))
        {
            throw Wrap("CreateKey", record.UserId, ex);
        }
    }

    /// <inheritdoc />
    public async Task<(ForgetOutcome Outcome, DateTimeOffset ForgottenAt)> ForgetAsync(string userId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        var atText = at.ToString("O", CultureInfo.InvariantCulture);
        try
        {
            var response = await _dynamo.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = TableName,
                Key = KeyOf(userId),
                // Destroys the wrapped key and leaves a tombstone; creates the tombstone if the user never had a key.
                UpdateExpression = "SET #s = :forgotten, forgottenAt = :at, createdAt = if_not_exists(createdAt, :at), keyVersion = if_not_exists(keyVersion, :zero) REMOVE wrappedKey",
                // Keeps the first tombstone's time; a concurrent create can't overwrite the tombstone (its put is conditional).
                ConditionExpression = "attribute_not_exists(#pk) OR #s <> :forgotten",
                ExpressionAttributeNames = new Dictionary<string, string> { ["#s"] = "status", ["#pk"] = PartitionKey },
                ExpressionAttributeValues = new Dictionary<string, AttributeValue>
                {
                    [":forgotten"] = new() { S = nameof(KeyStatus.Forgotten) },
                    [":at"] = new() { S = atText },
                    [":zero"] = new() { N = "0" },
                },
                ReturnValues = ReturnValue.ALL_OLD,
            }, cancellationToken).ConfigureAwait(false);
            return (response.Attributes is { Count: > 0 } ? ForgetOutcome.KeyDestroyed : ForgetOutcome.TombstoneCreated, at);
        }
        catch (ConditionalCheckFailedException)
        {
            var existing = await GetAsync(userId, cancellationToken).ConfigureAwait(false);
            return (ForgetOutcome.AlreadyForgotten, existing?.ForgottenAt ?? at);
        }
        catch (Exception ex) when (IsStoreError(ex))
        {
            throw Wrap("Forget", userId, ex);
        }
    }

    private async Task<TableStatus?> DescribeStatusAsync(CancellationToken cancellationToken)
    {
        try
        {
            var d = await _dynamo.DescribeTableAsync(new DescribeTableRequest { TableName = TableName }, cancellationToken).ConfigureAwait(false);
            return d.Table.TableStatus;
        }
        catch (ResourceNotFoundException)
        {
            return null;
        }
    }

    private static Dictionary<string, AttributeValue> KeyOf(string userId) => new() { [PartitionKey] = new AttributeValue { S = userId } };

    private KeyRecord Parse(string userId, Dictionary<string, AttributeValue> item)
    {
        string? S(string name) => item.TryGetValue(name, out var v) ? v.S : null;
        var statusText = S("status");
        if (!Enum.TryParse<KeyStatus>(statusText, ignoreCase: false, out var status)
            || !item.TryGetValue("keyVersion", out var versionValue)
            || !int.TryParse(versionValue.N, NumberStyles.None, CultureInfo.InvariantCulture, out int version)
            || !DateTimeOffset.TryParse(S("createdAt"), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var createdAt))
        {
            throw new KeyStoreException("GetKey", userId, $"item in table '{TableName}' is not a valid key record (status '{statusText}')");
        }

        DateTimeOffset? forgottenAt = DateTimeOffset.TryParse(S("forgottenAt"), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var f) ? f : null;
        var wrapped = item.TryGetValue("wrappedKey", out var w) && w.B is not null ? w.B.ToArray() : [];
        if (status == KeyStatus.Active && wrapped.Length == 0)
        {
            throw new KeyStoreException("GetKey", userId, $"active item in table '{TableName}' has no wrapped key");
        }

        return new KeyRecord(userId, status, version, status == KeyStatus.Forgotten ? ReadOnlyMemory<byte>.Empty : wrapped, S("masterKeyId"), createdAt, forgottenAt);
    }

    private static bool IsStoreError(Exception ex) => ex is AmazonServiceException or AmazonClientException or HttpRequestException;

    private KeyStoreException Wrap(string operation, string? userId, Exception ex)
    {
        var kind = ex is ProvisionedThroughputExceededException or RequestLimitExceededException
            || (ex is AmazonServiceException s && s.ErrorCode is "ThrottlingException")
            ? "throttled" : ex.GetType().Name;
        return new KeyStoreException(operation, userId, $"table '{TableName}': {kind}: {ex.Message}", ex);
    }
}
