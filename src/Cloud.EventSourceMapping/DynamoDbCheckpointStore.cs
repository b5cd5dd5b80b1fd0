using System.Globalization;
using System.IO.Compression;
using System.Text;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace Cloud.EventSourceMapping;

/// <summary>
/// Checkpoints in a DynamoDB table (dynalite locally): partition key <c>mappingId</c>, sort key <c>shardId</c>;
/// attributes <c>sequenceNumber</c>, <c>finished</c>, <c>windowStart</c>, <c>windowState</c> (gzip) and
/// <c>updatedAt</c>. The table is created on first use when missing (on-demand billing).
/// </summary>
/// <remarks>
/// A window state may reach 1 MB but an item only 400 KB: compressed states above <see cref="InlineStateLimit"/>
/// are written as chunk items first and then referenced from the shard item, so a reader never sees half a state.
/// </remarks>
public sealed class DynamoDbCheckpointStore : ICheckpointStore
{
    /// <summary>The default table name.</summary>
    public const string DefaultTableName = "cloud-esm-checkpoints";

    /// <summary>Largest compressed state kept inside the shard item.</summary>
    public const int InlineStateLimit = 300_000;

    private const string StartRow = "#start";
    private const string ChunkPrefix = "#state#";

    private readonly IAmazonDynamoDB _dynamo;
    private readonly TimeProvider _time;
    private readonly Dictionary<(string Mapping, string Shard), (string Generation, int Chunks)> _chunked = [];
    private readonly Lock _chunkedLock = new();
    private volatile bool _tableReady;

    /// <summary>Creates the store over a DynamoDB client (the caller owns and disposes the client).</summary>
    public DynamoDbCheckpointStore(IAmazonDynamoDB dynamo, string tableName = DefaultTableName, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tableName);
        _dynamo = dynamo;
        TableName = tableName;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The table name.</summary>
    public string TableName { get; }

    /// <summary>Creates the table if it does not exist and waits until it is ACTIVE (dynalite answers CREATING first).</summary>
    public async Task EnsureTableAsync(CancellationToken cancellationToken = default)
    {
        if (_tableReady)
        {
            return;
        }
        await DynamoTables.EnsureAsync(_dynamo, TableName, "mappingId", "shardId", _time, cancellationToken).ConfigureAwait(false);
        _tableReady = true;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, ShardCheckpoint>> LoadAsync(string mappingId, CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<Dictionary<string, AttributeValue>>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var response = await _dynamo.QueryAsync(new QueryRequest
            {
                TableName = TableName,
                ConsistentRead = true,
                KeyConditionExpression = "mappingId = :m",
                ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":m"] = new() { S = mappingId } },
                ExclusiveStartKey = start,
            }, cancellationToken).ConfigureAwait(false);
            if (response.Items is not null)
            {
                rows.AddRange(response.Items);
            }
            start = response.LastEvaluatedKey is { Count: > 0 } key ? key : null;
        }
        while (start is not null);

        var chunks = rows.Where(r => r["shardId"].S.StartsWith(ChunkPrefix, StringComparison.Ordinal))
            .ToDictionary(r => r["shardId"].S, r => r, StringComparer.Ordinal);
        var result = new Dictionary<string, ShardCheckpoint>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var shardId = row["shardId"].S;
            if (shardId.StartsWith('#'))
            {
                continue;
            }
            string? state = null;
            if (row.TryGetValue("windowState", out var inline) && inline.B is not null)
            {
                state = Decompress(inline.B.ToArray());
            }
            else if (row.TryGetValue("stateGeneration", out var generation) && row.TryGetValue("stateChunks", out var count))
            {
                var n = int.Parse(count.N, CultureInfo.InvariantCulture);
                using var joined = new MemoryStream();
                for (var i = 0; i < n; i++)
                {
                    var chunkKey = ChunkKey(shardId, generation.S, i);
                    if (!chunks.TryGetValue(chunkKey, out var chunk))
                    {
                        throw new InvalidDataException($"Checkpoint table {TableName}: mapping {mappingId} shard {shardId} refers to missing state chunk {chunkKey}");
                    }
                    chunk["data"].B.WriteTo(joined);
                }
                state = Decompress(joined.ToArray());
                lock (_chunkedLock)
                {
                    _chunked[(mappingId, shardId)] = (generation.S, n);
                }
            }
            result[shardId] = new ShardCheckpoint
            {
                MappingId = mappingId,
                ShardId = shardId,
                SequenceNumber = row.TryGetValue("sequenceNumber", out var seq) ? seq.S : null,
                Finished = row.TryGetValue("finished", out var finished) && finished.BOOL == true,
                WindowStart = row.TryGetValue("windowStart", out var ws) ? DateTimeOffset.Parse(ws.S, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind) : null,
                WindowState = state,
                UpdatedAt = row.TryGetValue("updatedAt", out var updated) ? DateTimeOffset.Parse(updated.S, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind) : default,
            };
        }
        return result;
    }

    /// <inheritdoc />
    public async Task SaveAsync(ShardCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var item = new Dictionary<string, AttributeValue>
        {
            ["mappingId"] = new() { S = checkpoint.MappingId },
            ["shardId"] = new() { S = checkpoint.ShardId },
            ["finished"] = new() { BOOL = checkpoint.Finished },
            ["updatedAt"] = new() { S = checkpoint.UpdatedAt.ToString("O", CultureInfo.InvariantCulture) },
        };
        if (checkpoint.SequenceNumber is not null)
        {
            item["sequenceNumber"] = new() { S = checkpoint.SequenceNumber };
        }
        if (checkpoint.WindowStart is { } windowStart)
        {
            item["windowStart"] = new() { S = windowStart.ToString("O", CultureInfo.InvariantCulture) };
        }
        (string Generation, int Chunks)? written = null;
        if (checkpoint.WindowState is not null)
        {
            var compressed = Compress(checkpoint.WindowState);
            if (compressed.Length <= InlineStateLimit)
            {
                item["windowState"] = new() { B = new MemoryStream(compressed) };
            }
            else
            {
                var generation = Guid.NewGuid().ToString("N");
                var count = (compressed.Length + InlineStateLimit - 1) / InlineStateLimit;
                for (var i = 0; i < count; i++)
                {
                    var offset = i * InlineStateLimit;
                    var length = Math.Min(InlineStateLimit, compressed.Length - offset);
                    await _dynamo.PutItemAsync(new PutItemRequest
                    {
                        TableName = TableName,
                        Item = new Dictionary<string, AttributeValue>
                        {
                            ["mappingId"] = new() { S = checkpoint.MappingId },
                            ["shardId"] = new() { S = ChunkKey(checkpoint.ShardId, generation, i) },
                            ["data"] = new() { B = new MemoryStream(compressed, offset, length) },
                        },
                    }, cancellationToken).ConfigureAwait(false);
                }
                item["stateGeneration"] = new() { S = generation };
                item["stateChunks"] = new() { N = count.ToString(CultureInfo.InvariantCulture) };
                written = (generation, count);
            }
        }
        await _dynamo.PutItemAsync(new PutItemRequest { TableName = TableName, Item = item }, cancellationToken).ConfigureAwait(false);

        (string Generation, int Chunks) previous;
        lock (_chunkedLock)
        {
            var key = (checkpoint.MappingId, checkpoint.ShardId);
            if (!_chunked.Remove(key, out previous))
            {
                previous = default;
            }
            if (written is { } w)
            {
                _chunked[key] = w;
            }
        }
        // The shard item no longer points at the old chunks: removing them is housekeeping, not correctness.
        for (var i = 0; i < previous.Chunks; i++)
        {
            await _dynamo.DeleteItemAsync(new DeleteItemRequest
            {
                TableName = TableName,
                Key = new Dictionary<string, AttributeValue>
                {
                    ["mappingId"] = new() { S = checkpoint.MappingId },
                    ["shardId"] = new() { S = ChunkKey(checkpoint.ShardId, previous.Generation!, i) },
                },
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<DateTimeOffset> GetOrAddStartTimeAsync(string mappingId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _dynamo.PutItemAsync(new PutItemRequest
            {
                TableName = TableName,
                Item = new Dictionary<string, AttributeValue>
                {
                    ["mappingId"] = new() { S = mappingId },
                    ["shardId"] = new() { S = StartRow },
                    ["startedAt"] = new() { S = now.ToString("O", CultureInfo.InvariantCulture) },
                },
                ConditionExpression = "attribute_not_exists(mappingId)",
            }, cancellationToken).ConfigureAwait(false);
            return now;
        }
        catch (ConditionalCheckFailedException)
        {
            var existing = await _dynamo.GetItemAsync(new GetItemRequest
            {
                TableName = TableName,
                ConsistentRead = true,
                Key = new Dictionary<string, AttributeValue>
                {
                    ["mappingId"] = new() { S = mappingId },
                    ["shardId"] = new() { S = StartRow },
                },
            }, cancellationToken).ConfigureAwait(false);
            return DateTimeOffset.Parse(existing.Item["startedAt"].S, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        }
    }

    private static string ChunkKey(string shardId, string generation, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"{ChunkPrefix}{shardId}#{generation}#{index:D4}");

    private static byte[] Compress(string text)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }
        return output.ToArray();
    }

    private static string Decompress(byte[] data)
    {
        using var input = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        using var reader = new StreamReader(input, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}

/// <summary>Creates DynamoDB tables on first use and waits for ACTIVE.</summary>
internal static class DynamoTables
{
    public static async Task EnsureAsync(IAmazonDynamoDB dynamo, string table, string hashKey, string rangeKey, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!await IsActiveAsync(dynamo, table, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await dynamo.CreateTableAsync(new CreateTableRequest
                {
                    TableName = table,
                    BillingMode = BillingMode.PAY_PER_REQUEST,
                    AttributeDefinitions =
                    [
                        new AttributeDefinition(hashKey, ScalarAttributeType.S),
                        new AttributeDefinition(rangeKey, ScalarAttributeType.S),
                    ],
                    KeySchema =
                    [
                        new KeySchemaElement(hashKey, KeyType.HASH),
                        new KeySchemaElement(rangeKey, KeyType.RANGE),
                    ],
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (ResourceInUseException)
            {
                // Created meanwhile by another runner: wait for ACTIVE below.
            }
            var deadline = time.GetUtcNow() + TimeSpan.FromMinutes(2);
            while (!await IsActiveAsync(dynamo, table, cancellationToken).ConfigureAwait(false))
            {
                if (time.GetUtcNow() > deadline)
                {
                    throw new TimeoutException($"DynamoDB table {table} did not become ACTIVE within 2 minutes");
                }
                await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task<bool> IsActiveAsync(IAmazonDynamoDB dynamo, string table, CancellationToken cancellationToken)
    {
        try
        {
            var description = await dynamo.DescribeTableAsync(new DescribeTableRequest { TableName = table }, cancellationToken).ConfigureAwait(false);
            return description.Table.TableStatus == TableStatus.ACTIVE;
        }
        catch (ResourceNotFoundException)
        {
            return false;
        }
    }
}
