using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Cloud.Consumer.Events;

namespace Cloud.EventSourceMapping;

/// <summary>Why a batch went to the on-failure destination (requestContext.condition).</summary>
public static class OnFailureCondition
{
    /// <summary>The batch failed MaximumRetryAttempts + 1 times.</summary>
    public const string RetryAttemptsExhausted = "RetryAttemptsExhausted";

    /// <summary>The records were older than MaximumRecordAgeInSeconds.</summary>
    public const string RecordAgeExceeded = "RecordAgeExceeded";

    /// <summary>
    /// One record's event JSON alone is over Lambda's 6 MB invoke payload, so no invoke can carry it. AWS documents
    /// no condition name for this case; the runner writes this one, with approximateInvokeCount 0.
    /// </summary>
    public const string PayloadSizeExceeded = "PayloadSizeExceeded";
}

/// <summary>
/// The JSON document Lambda sends to an on-failure destination for a Kinesis batch it discards
/// (requestContext, responseContext, version, timestamp, KinesisBatchInfo).
/// See https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html.
/// </summary>
public sealed record OnFailureRecord
{
    /// <summary>requestContext.requestId.</summary>
    public required string RequestId { get; init; }
    /// <summary>requestContext.functionArn.</summary>
    public required string FunctionArn { get; init; }
    /// <summary>requestContext.condition: one of <see cref="OnFailureCondition"/>.</summary>
    public required string Condition { get; init; }
    /// <summary>requestContext.approximateInvokeCount (0 when the records were never invoked).</summary>
    public required int ApproximateInvokeCount { get; init; }
    /// <summary>responseContext.statusCode; null = no responseContext (records discarded before any invoke).</summary>
    public int? StatusCode { get; init; }
    /// <summary>responseContext.executedVersion.</summary>
    public string ExecutedVersion { get; init; } = "$LATEST";
    /// <summary>responseContext.functionError ("Unhandled" when the function threw); null after a partial batch response.</summary>
    public string? FunctionError { get; init; }
    /// <summary>version.</summary>
    public string Version { get; init; } = "1.0";
    /// <summary>timestamp of the discard.</summary>
    public required DateTimeOffset Timestamp { get; init; }
    /// <summary>The discarded batch: the consumer's <see cref="Cloud.Consumer.Events.KinesisBatchInfo"/>, the project's one model of it.</summary>
    public required KinesisBatchInfo KinesisBatchInfo { get; init; }

    /// <summary>Writes the record as Lambda does.</summary>
    public string ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(768);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("requestContext");
            writer.WriteString("requestId", RequestId);
            writer.WriteString("functionArn", FunctionArn);
            writer.WriteString("condition", Condition);
            writer.WriteNumber("approximateInvokeCount", ApproximateInvokeCount);
            writer.WriteEndObject();
            if (StatusCode is { } status)
            {
                writer.WriteStartObject("responseContext");
                writer.WriteNumber("statusCode", status);
                writer.WriteString("executedVersion", ExecutedVersion);
                if (FunctionError is not null)
                {
                    writer.WriteString("functionError", FunctionError);
                }
                writer.WriteEndObject();
            }
            writer.WriteString("version", Version);
            writer.WriteString("timestamp", FormatTime(Timestamp));
            writer.WriteStartObject(nameof(KinesisBatchInfo));
            var info = KinesisBatchInfo;
            writer.WriteString("shardId", info.ShardId);
            writer.WriteString("startSequenceNumber", info.StartSequenceNumber);
            writer.WriteString("endSequenceNumber", info.EndSequenceNumber);
            writer.WriteString("approximateArrivalOfFirstRecord", FormatTime(info.ApproximateArrivalOfFirstRecord));
            writer.WriteString("approximateArrivalOfLastRecord", FormatTime(info.ApproximateArrivalOfLastRecord));
            writer.WriteNumber("batchSize", info.BatchSize);
            writer.WriteString("streamArn", info.StreamArn);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Reads a record written by <see cref="ToJson"/> or by Lambda.</summary>
    /// <exception cref="FormatException">The JSON lacks a field; the message names it.</exception>
    public static OnFailureRecord Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var request = Get(root, "requestContext");
        var info = Get(root, nameof(KinesisBatchInfo));
        int? status = null;
        string? functionError = null;
        var executedVersion = "$LATEST";
        if (root.TryGetProperty("responseContext", out var response) && response.ValueKind == JsonValueKind.Object)
        {
            status = Get(response, "statusCode").GetInt32();
            executedVersion = response.TryGetProperty("executedVersion", out var ev) ? ev.GetString() ?? executedVersion : executedVersion;
            functionError = response.TryGetProperty("functionError", out var fe) ? fe.GetString() : null;
        }
        return new OnFailureRecord
        {
            RequestId = GetString(request, "requestId"),
            FunctionArn = GetString(request, "functionArn"),
            Condition = GetString(request, "condition"),
            ApproximateInvokeCount = Get(request, "approximateInvokeCount").GetInt32(),
            StatusCode = status,
            ExecutedVersion = executedVersion,
            FunctionError = functionError,
            Version = GetString(root, "version"),
            Timestamp = ParseTime(GetString(root, "timestamp")),
            KinesisBatchInfo = new KinesisBatchInfo
            {
                ShardId = GetString(info, "shardId"),
                StartSequenceNumber = GetString(info, "startSequenceNumber"),
                EndSequenceNumber = GetString(info, "endSequenceNumber"),
                ApproximateArrivalOfFirstRecord = ParseTime(GetString(info, "approximateArrivalOfFirstRecord")),
                ApproximateArrivalOfLastRecord = ParseTime(GetString(info, "approximateArrivalOfLastRecord")),
                BatchSize = Get(info, "batchSize").GetInt32(),
                StreamArn = GetString(info, "streamArn"),
            },
        };
    }

    /// <summary>Timestamps are ISO 8601 UTC with milliseconds, e.g. 2023-12-10T22:06:23.446Z.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static JsonElement Get(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw new FormatException($"On-failure record has no '{name}'");

    private static string GetString(JsonElement element, string name) =>
        Get(element, name).GetString() ?? throw new FormatException($"On-failure record field '{name}' is not a string");
}

/// <summary>Receives the records of discarded batches (Lambda's OnFailure destination).</summary>
public interface IOnFailureDestination
{
    /// <summary>Stores one record; throwing makes the runner retry later (the batch is not checkpointed until it succeeds).</summary>
    Task SendAsync(OnFailureRecord record, CancellationToken cancellationToken = default);
}

/// <summary>Keeps on-failure records in memory (tests, short runs).</summary>
public sealed class InMemoryOnFailureDestination : IOnFailureDestination
{
    private readonly ConcurrentQueue<OnFailureRecord> _records = new();

    /// <summary>Records received, in order.</summary>
    public IReadOnlyList<OnFailureRecord> Records => [.. _records];

    /// <inheritdoc />
    public Task SendAsync(OnFailureRecord record, CancellationToken cancellationToken = default)
    {
        _records.Enqueue(record);
        return Task.CompletedTask;
    }
}

/// <summary>Appends each on-failure record as one JSON line to a file (created with its folder when missing).</summary>
public sealed class JsonLinesOnFailureDestination : IOnFailureDestination, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Creates the destination for a file path.</summary>
    public JsonLinesOnFailureDestination(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public async Task SendAsync(OnFailureRecord record, CancellationToken cancellationToken = default)
    {
        var line = record.ToJson() + "\n";
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (System.IO.Path.GetDirectoryName(Path) is { Length: > 0 } folder)
            {
                Directory.CreateDirectory(folder);
            }
            await File.AppendAllTextAsync(Path, line, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Reads every record of a JSON lines file (blank lines skipped).</summary>
    /// <exception cref="FormatException">A line is not an on-failure record; the message gives the line number.</exception>
    public static async Task<IReadOnlyList<OnFailureRecord>> ReadAllAsync(string path, CancellationToken cancellationToken = default)
    {
        var lines = await File.ReadAllLinesAsync(path, cancellationToken).ConfigureAwait(false);
        var records = new List<OnFailureRecord>(lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
            {
                continue;
            }
            try
            {
                records.Add(OnFailureRecord.Parse(lines[i]));
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
            {
                throw new FormatException($"{path} line {i + 1}: {e.Message}", e);
            }
        }
        return records;
    }

    /// <inheritdoc />
    public void Dispose() => _gate.Dispose();
}

/// <summary>
/// Stores on-failure records in a DynamoDB table (there is no SQS emulator locally): partition key
/// <c>streamArn</c>, sort key <c>id</c> (timestamp + request id); the full JSON is in <c>record</c>.
/// </summary>
public sealed class DynamoDbOnFailureDestination : IOnFailureDestination
{
    /// <summary>The default table name.</summary>
    public const string DefaultTableName = "cloud-esm-failures";

    private readonly IAmazonDynamoDB _dynamo;
    private readonly TimeProvider _time;
    private volatile bool _tableReady;

    /// <summary>Creates the destination (the caller owns the client).</summary>
    public DynamoDbOnFailureDestination(IAmazonDynamoDB dynamo, string tableName = DefaultTableName, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tableName);
        _dynamo = dynamo;
        TableName = tableName;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The table name.</summary>
    public string TableName { get; }

    /// <inheritdoc />
    public async Task SendAsync(OnFailureRecord record, CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var info = record.KinesisBatchInfo;
        await _dynamo.PutItemAsync(new PutItemRequest
        {
            TableName = TableName,
            Item = new Dictionary<string, AttributeValue>
            {
                ["streamArn"] = new() { S = info.StreamArn },
                ["id"] = new() { S = OnFailureRecord.FormatTime(record.Timestamp) + "#" + record.RequestId },
                ["shardId"] = new() { S = info.ShardId },
                ["startSequenceNumber"] = new() { S = info.StartSequenceNumber },
                ["endSequenceNumber"] = new() { S = info.EndSequenceNumber },
                ["condition"] = new() { S = record.Condition },
                ["record"] = new() { S = record.ToJson() },
            },
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every record stored for a stream, oldest first.</summary>
    public async Task<IReadOnlyList<OnFailureRecord>> ReadAllAsync(string streamArn, CancellationToken cancellationToken = default)
    {
        await EnsureTableAsync(cancellationToken).ConfigureAwait(false);
        var records = new List<OnFailureRecord>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var response = await _dynamo.QueryAsync(new QueryRequest
            {
                TableName = TableName,
                ConsistentRead = true,
                KeyConditionExpression = "streamArn = :s",
                ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":s"] = new() { S = streamArn } },
                ExclusiveStartKey = start,
            }, cancellationToken).ConfigureAwait(false);
            foreach (var item in response.Items ?? [])
            {
                records.Add(OnFailureRecord.Parse(item["record"].S));
            }
            start = response.LastEvaluatedKey is { Count: > 0 } key ? key : null;
        }
        while (start is not null);
        return records;
    }

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (!_tableReady)
        {
            await DynamoTables.EnsureAsync(_dynamo, TableName, "streamArn", "id", _time, cancellationToken).ConfigureAwait(false);
            _tableReady = true;
        }
    }
}
