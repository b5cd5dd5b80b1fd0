using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace Cloud.Schemas;

/// <summary>
/// The embedded registry: Glue's semantics in one DynamoDB table (string keys <c>pk</c>, <c>sk</c>), so it runs on
/// dynalite and on real AWS alike without transactions:
/// <code>
/// pk = "schema#NAME"      sk = "#meta"          format, compatibility
/// pk = "schema#NAME"      sk = "v#0000000001"   one version: id, definition, fingerprint, created
/// pk = "version#UUID"     sk = "#version"       the same version, for lookups by id (the GSR header)
/// </code>
/// A version is added by a conditional put of its <c>v#</c> item (<c>attribute_not_exists</c>), so concurrent
/// registrations get distinct numbers; the loser re-reads the versions, finds an identical definition if the winner
/// registered the same one, and otherwise retries. The by-id item is written first and removed again if the numbered
/// put loses, so an id handed out always resolves.
/// </summary>
public sealed class DynamoDbSchemaRegistry : ISchemaRegistry
{
    private const string MetaKey = "#meta";
    private const string ByIdKey = "#version";
    private const int MaxAttempts = 10;

    private readonly IAmazonDynamoDB _dynamo;
    private readonly string _table;
    private readonly TimeProvider _time;

    /// <summary>Creates the registry over <paramref name="tableName"/> (see <see cref="EnsureTableAsync"/>).</summary>
    public DynamoDbSchemaRegistry(IAmazonDynamoDB dynamo, string tableName, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(dynamo);
        ArgumentException.ThrowIfNullOrWhiteSpace(tableName);
        _dynamo = dynamo;
        _table = tableName;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The default table name of the local stack.</summary>
    public const string DefaultTableName = "cloud-schemas";

    /// <summary>Creates the table (on-demand billing) if it does not exist and waits until it is ACTIVE.</summary>
    /// <exception cref="TimeoutException">The table did not become ACTIVE within 2 minutes.</exception>
    public async Task EnsureTableAsync(CancellationToken cancellationToken = default)
    {
        if (await IsActiveAsync(cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            await _dynamo.CreateTableAsync(new CreateTableRequest
            {
                TableName = _table,
                BillingMode = BillingMode.PAY_PER_REQUEST,
                AttributeDefinitions = [new AttributeDefinition("pk", ScalarAttributeType.S), new AttributeDefinition("sk", ScalarAttributeType.S)],
                KeySchema = [new KeySchemaElement("pk", KeyType.HASH), new KeySchemaElement("sk", KeyType.RANGE)],
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (ResourceInUseException)
        {
            // Created meanwhile by another process: wait for ACTIVE below.
        }

        DateTimeOffset deadline = _time.GetUtcNow() + TimeSpan.FromMinutes(2);
        while (!await IsActiveAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_time.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"DynamoDB table {_table} did not become ACTIVE within 2 minutes.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> IsActiveAsync(CancellationToken cancellationToken)
    {
        try
        {
            DescribeTableResponse response = await _dynamo.DescribeTableAsync(_table, cancellationToken).ConfigureAwait(false);
            return response.Table.TableStatus == TableStatus.ACTIVE;
        }
        catch (ResourceNotFoundException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async Task<RegistrationResult> RegisterAsync(string schemaName, SchemaFormat format, string definition, CompatibilityMode? compatibility = null, CancellationToken cancellationToken = default)
    {
        RegistryRules.ValidateName(schemaName);
        string normalized = SchemaDefinitions.Normalize(format, definition);
        string fingerprint = SchemaDefinitions.Fingerprint(normalized);

        SchemaInfo info = await EnsureSchemaAsync(schemaName, format, compatibility, cancellationToken).ConfigureAwait(false);
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            List<(SchemaVersion Version, string Fingerprint)> versions = await QueryVersionsAsync(schemaName, cancellationToken).ConfigureAwait(false);
            foreach ((SchemaVersion existing, string existingFingerprint) in versions)
            {
                if (existingFingerprint == fingerprint)
                {
                    return new RegistrationResult(existing, Created: false);
                }
            }

            CompatibilityResult check = CompatibilityChecker.Check(info.Compatibility, format, normalized, versions.Select(v => v.Version).ToList());
            if (!check.IsCompatible)
            {
                throw new IncompatibleSchemaException(schemaName, check);
            }

            var version = new SchemaVersion
            {
                VersionId = Guid.NewGuid(),
                SchemaName = schemaName,
                VersionNumber = versions.Count == 0 ? 1 : versions[^1].Version.VersionNumber + 1,
                Format = format,
                Definition = normalized,
                CreatedAt = _time.GetUtcNow(),
            };
            Dictionary<string, AttributeValue> item = VersionItem(version, fingerprint);
            item["pk"] = S("version#" + version.VersionId.ToString("D"));
            item["sk"] = S(ByIdKey);
            await _dynamo.PutItemAsync(new PutItemRequest { TableName = _table, Item = item }, cancellationToken).ConfigureAwait(false);

            Dictionary<string, AttributeValue> numbered = VersionItem(version, fingerprint);
            numbered["pk"] = S(SchemaKey(schemaName));
            numbered["sk"] = S(VersionKey(version.VersionNumber));
            try
            {
                await _dynamo.PutItemAsync(new PutItemRequest
                {
                    TableName = _table,
                    Item = numbered,
                    ConditionExpression = "attribute_not_exists(pk)",
                }, cancellationToken).ConfigureAwait(false);
                return new RegistrationResult(version, Created: true);
            }
            catch (ConditionalCheckFailedException)
            {
                // Another registration took this number: drop our by-id item (never handed out) and look again.
                await _dynamo.DeleteItemAsync(new DeleteItemRequest
                {
                    TableName = _table,
                    Key = new Dictionary<string, AttributeValue> { ["pk"] = item["pk"], ["sk"] = S(ByIdKey) },
                }, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new SchemaRegistryException($"Schema '{schemaName}': {MaxAttempts} concurrent registrations in a row took the next version number; try again.", "ConcurrentModification");
    }

    private async Task<SchemaInfo> EnsureSchemaAsync(string schemaName, SchemaFormat format, CompatibilityMode? compatibility, CancellationToken cancellationToken)
    {
        try
        {
            await _dynamo.PutItemAsync(new PutItemRequest
            {
                TableName = _table,
                Item = new Dictionary<string, AttributeValue>
                {
                    ["pk"] = S(SchemaKey(schemaName)),
                    ["sk"] = S(MetaKey),
                    ["name"] = S(schemaName),
                    ["format"] = S(format.ToGlue()),
                    ["compatibility"] = S((compatibility ?? RegistryRules.DefaultCompatibility).ToGlue()),
                    ["created"] = S(_time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)),
                },
                ConditionExpression = "attribute_not_exists(pk)",
            }, cancellationToken).ConfigureAwait(false);
            return new SchemaInfo { Name = schemaName, Format = format, Compatibility = compatibility ?? RegistryRules.DefaultCompatibility, LatestVersion = 0 };
        }
        catch (ConditionalCheckFailedException)
        {
            // It exists: its format must match; a given mode updates it.
        }

        SchemaInfo info = await DescribeAsync(schemaName, cancellationToken).ConfigureAwait(false);
        if (info.Format != format)
        {
            throw new InvalidSchemaException(format, $"schema '{schemaName}' holds {info.Format.ToGlue()} definitions, not {format.ToGlue()}");
        }

        if (compatibility is { } mode && mode != info.Compatibility)
        {
            await UpdateCompatibilityAsync(schemaName, mode, cancellationToken).ConfigureAwait(false);
            info = info with { Compatibility = mode };
        }

        return info;
    }

    /// <inheritdoc />
    public async Task<CompatibilityResult> CheckAsync(string schemaName, string definition, CancellationToken cancellationToken = default)
    {
        SchemaInfo info = await DescribeAsync(schemaName, cancellationToken).ConfigureAwait(false);
        string normalized = SchemaDefinitions.Normalize(info.Format, definition);
        List<(SchemaVersion Version, string Fingerprint)> versions = await QueryVersionsAsync(schemaName, cancellationToken).ConfigureAwait(false);
        return CompatibilityChecker.Check(info.Compatibility, info.Format, normalized, versions.Select(v => v.Version).ToList());
    }

    /// <inheritdoc />
    public async Task<SchemaVersion> GetVersionAsync(Guid versionId, CancellationToken cancellationToken = default)
    {
        GetItemResponse response = await _dynamo.GetItemAsync(new GetItemRequest
        {
            TableName = _table,
            Key = new Dictionary<string, AttributeValue> { ["pk"] = S("version#" + versionId.ToString("D")), ["sk"] = S(ByIdKey) },
            ConsistentRead = true,
        }, cancellationToken).ConfigureAwait(false);
        return response.IsItemSet && response.Item is { Count: > 0 } item
            ? ReadVersion(item).Version
            : throw new SchemaVersionNotFoundException(versionId);
    }

    /// <inheritdoc />
    public async Task<SchemaVersion> GetVersionAsync(string schemaName, int? versionNumber = null, CancellationToken cancellationToken = default)
    {
        RegistryRules.ValidateName(schemaName);
        if (versionNumber is { } n)
        {
            GetItemResponse response = await _dynamo.GetItemAsync(new GetItemRequest
            {
                TableName = _table,
                Key = new Dictionary<string, AttributeValue> { ["pk"] = S(SchemaKey(schemaName)), ["sk"] = S(VersionKey(n)) },
                ConsistentRead = true,
            }, cancellationToken).ConfigureAwait(false);
            if (response.IsItemSet && response.Item is { Count: > 0 } item)
            {
                return ReadVersion(item).Version;
            }

            await DescribeAsync(schemaName, cancellationToken).ConfigureAwait(false); // SchemaNotFound first
            throw new SchemaVersionNotFoundException(schemaName, n);
        }

        QueryResponse latest = await _dynamo.QueryAsync(new QueryRequest
        {
            TableName = _table,
            KeyConditionExpression = "pk = :pk AND begins_with(sk, :v)",
            ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":pk"] = S(SchemaKey(schemaName)), [":v"] = S("v#") },
            ScanIndexForward = false,
            Limit = 1,
            ConsistentRead = true,
        }, cancellationToken).ConfigureAwait(false);
        if (latest.Items is { Count: > 0 })
        {
            return ReadVersion(latest.Items[0]).Version;
        }

        await DescribeAsync(schemaName, cancellationToken).ConfigureAwait(false);
        throw new SchemaVersionNotFoundException(schemaName, 1);
    }

    /// <inheritdoc />
    public async Task<SchemaInfo> DescribeAsync(string schemaName, CancellationToken cancellationToken = default)
    {
        RegistryRules.ValidateName(schemaName);
        GetItemResponse response = await _dynamo.GetItemAsync(new GetItemRequest
        {
            TableName = _table,
            Key = new Dictionary<string, AttributeValue> { ["pk"] = S(SchemaKey(schemaName)), ["sk"] = S(MetaKey) },
            ConsistentRead = true,
        }, cancellationToken).ConfigureAwait(false);
        if (!response.IsItemSet || response.Item is not { Count: > 0 } item)
        {
            throw new SchemaNotFoundException(schemaName);
        }

        List<(SchemaVersion Version, string Fingerprint)> versions = await QueryVersionsAsync(schemaName, cancellationToken).ConfigureAwait(false);
        return ReadInfo(item, versions.Count == 0 ? 0 : versions[^1].Version.VersionNumber);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SchemaInfo>> ListSchemasAsync(CancellationToken cancellationToken = default)
    {
        var names = new List<string>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            ScanResponse page = await _dynamo.ScanAsync(new ScanRequest
            {
                TableName = _table,
                FilterExpression = "sk = :meta",
                ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":meta"] = S(MetaKey) },
                ExclusiveStartKey = start,
                ConsistentRead = true,
            }, cancellationToken).ConfigureAwait(false);
            names.AddRange((page.Items ?? []).Select(i => i["name"].S));
            start = page.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (start is not null);

        var result = new List<SchemaInfo>(names.Count);
        foreach (string name in names.Order(StringComparer.Ordinal))
        {
            result.Add(await DescribeAsync(name, cancellationToken).ConfigureAwait(false));
        }

        return result;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SchemaVersion>> ListVersionsAsync(string schemaName, CancellationToken cancellationToken = default)
    {
        await DescribeAsync(schemaName, cancellationToken).ConfigureAwait(false);
        return (await QueryVersionsAsync(schemaName, cancellationToken).ConfigureAwait(false)).Select(v => v.Version).ToList();
    }

    /// <inheritdoc />
    public async Task UpdateCompatibilityAsync(string schemaName, CompatibilityMode compatibility, CancellationToken cancellationToken = default)
    {
        RegistryRules.ValidateName(schemaName);
        try
        {
            await _dynamo.UpdateItemAsync(new UpdateItemRequest
            {
                TableName = _table,
                Key = new Dictionary<string, AttributeValue> { ["pk"] = S(SchemaKey(schemaName)), ["sk"] = S(MetaKey) },
                UpdateExpression = "SET compatibility = :c",
                ConditionExpression = "attribute_exists(pk)",
                ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":c"] = S(compatibility.ToGlue()) },
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (ConditionalCheckFailedException ex)
        {
            throw new SchemaNotFoundException(schemaName, ex);
        }
    }

    private async Task<List<(SchemaVersion Version, string Fingerprint)>> QueryVersionsAsync(string schemaName, CancellationToken cancellationToken)
    {
        var versions = new List<(SchemaVersion, string)>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            QueryResponse page = await _dynamo.QueryAsync(new QueryRequest
            {
                TableName = _table,
                KeyConditionExpression = "pk = :pk AND begins_with(sk, :v)",
                ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":pk"] = S(SchemaKey(schemaName)), [":v"] = S("v#") },
                ExclusiveStartKey = start,
                ConsistentRead = true,
            }, cancellationToken).ConfigureAwait(false);
            versions.AddRange((page.Items ?? []).Select(ReadVersion));
            start = page.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (start is not null);

        return versions;
    }

    private static string SchemaKey(string schemaName) => "schema#" + schemaName;

    private static string VersionKey(int number) => "v#" + number.ToString("D10", CultureInfo.InvariantCulture);

    private static AttributeValue S(string value) => new() { S = value };

    private static Dictionary<string, AttributeValue> VersionItem(SchemaVersion version, string fingerprint) => new()
    {
        ["versionId"] = S(version.VersionId.ToString("D")),
        ["name"] = S(version.SchemaName),
        ["number"] = new AttributeValue { N = version.VersionNumber.ToString(CultureInfo.InvariantCulture) },
        ["format"] = S(version.Format.ToGlue()),
        ["definition"] = S(version.Definition),
        ["fingerprint"] = S(fingerprint),
        ["created"] = S((version.CreatedAt ?? DateTimeOffset.UnixEpoch).ToString("O", CultureInfo.InvariantCulture)),
    };

    private static (SchemaVersion Version, string Fingerprint) ReadVersion(Dictionary<string, AttributeValue> item) => (new SchemaVersion
    {
        VersionId = Guid.Parse(item["versionId"].S),
        SchemaName = item["name"].S,
        VersionNumber = int.Parse(item["number"].N, CultureInfo.InvariantCulture),
        Format = SchemaNames.ParseFormat(item["format"].S) ?? throw new SchemaRegistryException($"Stored version has unknown format '{item["format"].S}'."),
        Definition = item["definition"].S,
        CreatedAt = DateTimeOffset.Parse(item["created"].S, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
    }, item["fingerprint"].S);

    private static SchemaInfo ReadInfo(Dictionary<string, AttributeValue> item, int latest) => new()
    {
        Name = item["name"].S,
        Format = SchemaNames.ParseFormat(item["format"].S) ?? throw new SchemaRegistryException($"Stored schema has unknown format '{item["format"].S}'."),
        Compatibility = SchemaNames.ParseCompatibility(item["compatibility"].S) ?? throw new SchemaRegistryException($"Stored schema has unknown compatibility '{item["compatibility"].S}'."),
        LatestVersion = latest,
    };
}
