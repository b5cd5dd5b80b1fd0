using System.Globalization;
using System.Text;
using Cloud.Kinesis.Model;

namespace Cloud.Kinesis.Internal;

/// <summary>
/// Client-side checks of the documented constraints
/// (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_Operations.html), so that a bad request
/// fails before it costs a round trip, with the offending member named.
/// </summary>
internal sealed class RequestValidator(int maxRecordSizeBytes)
{
    public const int MaxRecordsPerPutRecords = 500;
    public const int MaxPutRecordsBytes = 10 * 1024 * 1024;
    public const int MinRetentionHours = 24;
    public const int MaxRetentionHours = 8760;
    private const int MaxTagsPerCall = 50;

    public int MaxRecordSizeBytes { get; } = maxRecordSizeBytes;

    public static void CreateStream(CreateStreamRequest r)
    {
        const string op = "CreateStream";
        Name(op, "StreamName", r.StreamName);
        var mode = r.StreamModeDetails?.StreamMode ?? "PROVISIONED";
        if (mode is not ("PROVISIONED" or "ON_DEMAND"))
        {
            throw new KinesisValidationException(op, "StreamModeDetails.StreamMode", $"must be PROVISIONED or ON_DEMAND (was '{mode}')");
        }

        if (mode == "ON_DEMAND" && r.ShardCount is not null)
        {
            throw new KinesisValidationException(op, "ShardCount", "must be absent for an ON_DEMAND stream");
        }

        if (mode == "PROVISIONED" && r.ShardCount is null)
        {
            throw new KinesisValidationException(op, "ShardCount", "is required for a PROVISIONED stream");
        }

        if (r.ShardCount is <= 0)
        {
            throw new KinesisValidationException(op, "ShardCount", $"must be greater than 0 (was {r.ShardCount})");
        }
    }

    public static void DescribeStreamSummary(DescribeStreamSummaryRequest r) =>
        NameOrArn("DescribeStreamSummary", r.StreamName, r.StreamARN);

    public static void ListStreams(ListStreamsRequest r)
    {
        const string op = "ListStreams";
        Range(op, "Limit", r.Limit, 1, 10_000);
        if (r.ExclusiveStartStreamName is not null)
        {
            Name(op, "ExclusiveStartStreamName", r.ExclusiveStartStreamName);
        }
    }

    public static void ListShards(ListShardsRequest r)
    {
        const string op = "ListShards";
        if (r.NextToken is null)
        {
            NameOrArn(op, r.StreamName, r.StreamARN);
        }
        else if (r.NextToken.Length is 0 or > 1_048_576)
        {
            throw new KinesisValidationException(op, "NextToken", "must be 1–1,048,576 characters");
        }

        Range(op, "MaxResults", r.MaxResults, 1, 10_000);
        if (r.ExclusiveStartShardId is not null)
        {
            Name(op, "ExclusiveStartShardId", r.ExclusiveStartShardId);
        }

        if (r.ShardFilter is { } f)
        {
            switch (f.Type)
            {
                case "AFTER_SHARD_ID":
                    if (f.ShardId is null)
                    {
                        throw new KinesisValidationException(op, "ShardFilter.ShardId", "is required when ShardFilter.Type is AFTER_SHARD_ID");
                    }

                    Name(op, "ShardFilter.ShardId", f.ShardId);
                    Absent(op, "ShardFilter.Timestamp", f.Timestamp, f.Type);
                    break;
                case "AT_TIMESTAMP" or "FROM_TIMESTAMP":
                    if (f.Timestamp is null)
                    {
                        throw new KinesisValidationException(op, "ShardFilter.Timestamp", $"is required when ShardFilter.Type is {f.Type}");
                    }

                    Absent(op, "ShardFilter.ShardId", f.ShardId, f.Type);
                    break;
                case "AT_TRIM_HORIZON" or "FROM_TRIM_HORIZON" or "AT_LATEST":
                    Absent(op, "ShardFilter.ShardId", f.ShardId, f.Type);
                    Absent(op, "ShardFilter.Timestamp", f.Timestamp, f.Type);
                    break;
                default:
                    throw new KinesisValidationException(op, "ShardFilter.Type",
                        $"must be AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP or FROM_TIMESTAMP (was '{f.Type}')");
            }
        }
    }

    public void PutRecord(PutRecordRequest r)
    {
        const string op = "PutRecord";
        Name(op, "StreamName", r.StreamName);
        Record(op, string.Empty, r.Data, r.PartitionKey, r.ExplicitHashKey);
        if (r.SequenceNumberForOrdering is not null)
        {
            SequenceNumber(op, "SequenceNumberForOrdering", r.SequenceNumberForOrdering);
        }
    }

    public void PutRecords(PutRecordsRequest r)
    {
        const string op = "PutRecords";
        Name(op, "StreamName", r.StreamName);
        if (r.Records is null || r.Records.Count == 0)
        {
            throw new KinesisValidationException(op, "Records", "must contain at least one record");
        }

        if (r.Records.Count > MaxRecordsPerPutRecords)
        {
            throw new KinesisValidationException(op, "Records", $"must contain at most {MaxRecordsPerPutRecords} records (was {r.Records.Count})");
        }

        long total = 0;
        for (var i = 0; i < r.Records.Count; i++)
        {
            var entry = r.Records[i];
            if (entry is null)
            {
                throw new KinesisValidationException(op, $"Records[{i}]", "must not be null");
            }

            total += Record(op, $"Records[{i}].", entry.Data, entry.PartitionKey, entry.ExplicitHashKey);
        }

        if (total > MaxPutRecordsBytes)
        {
            throw new KinesisValidationException(op, "Records",
                $"total size (data + partition keys) must be at most {MaxPutRecordsBytes} bytes (was {total})");
        }
    }

    public static void GetShardIterator(GetShardIteratorRequest r)
    {
        const string op = "GetShardIterator";
        Name(op, "StreamName", r.StreamName);
        Name(op, "ShardId", r.ShardId);
        switch (r.ShardIteratorType)
        {
            case Model.ShardIteratorType.AtSequenceNumber or Model.ShardIteratorType.AfterSequenceNumber:
                if (r.StartingSequenceNumber is null)
                {
                    throw new KinesisValidationException(op, "StartingSequenceNumber", $"is required when ShardIteratorType is {r.ShardIteratorType}");
                }

                SequenceNumber(op, "StartingSequenceNumber", r.StartingSequenceNumber);
                Absent(op, "Timestamp", r.Timestamp, r.ShardIteratorType);
                break;
            case Model.ShardIteratorType.AtTimestamp:
                if (r.Timestamp is null)
                {
                    throw new KinesisValidationException(op, "Timestamp", "is required when ShardIteratorType is AT_TIMESTAMP");
                }

                Absent(op, "StartingSequenceNumber", r.StartingSequenceNumber, r.ShardIteratorType);
                break;
            case Model.ShardIteratorType.TrimHorizon or Model.ShardIteratorType.Latest:
                Absent(op, "StartingSequenceNumber", r.StartingSequenceNumber, r.ShardIteratorType);
                Absent(op, "Timestamp", r.Timestamp, r.ShardIteratorType);
                break;
            default:
                throw new KinesisValidationException(op, "ShardIteratorType",
                    $"must be TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER or AT_TIMESTAMP (was '{r.ShardIteratorType}')");
        }
    }

    public static void GetRecords(GetRecordsRequest r)
    {
        const string op = "GetRecords";
        if (string.IsNullOrEmpty(r.ShardIterator) || r.ShardIterator.Length > 512)
        {
            throw new KinesisValidationException(op, "ShardIterator", "must be 1–512 characters");
        }

        Range(op, "Limit", r.Limit, 1, 10_000);
    }

    public static void UpdateShardCount(UpdateShardCountRequest r)
    {
        const string op = "UpdateShardCount";
        Name(op, "StreamName", r.StreamName);
        if (r.TargetShardCount <= 0)
        {
            throw new KinesisValidationException(op, "TargetShardCount", $"must be greater than 0 (was {r.TargetShardCount})");
        }

        if (r.ScalingType != "UNIFORM_SCALING")
        {
            throw new KinesisValidationException(op, "ScalingType", $"must be UNIFORM_SCALING (was '{r.ScalingType}')");
        }
    }

    public static void SplitShard(SplitShardRequest r)
    {
        const string op = "SplitShard";
        Name(op, "StreamName", r.StreamName);
        Name(op, "ShardToSplit", r.ShardToSplit);
        HashKey(op, "NewStartingHashKey", r.NewStartingHashKey);
    }

    public static void MergeShards(MergeShardsRequest r)
    {
        const string op = "MergeShards";
        Name(op, "StreamName", r.StreamName);
        Name(op, "ShardToMerge", r.ShardToMerge);
        Name(op, "AdjacentShardToMerge", r.AdjacentShardToMerge);
        if (r.ShardToMerge == r.AdjacentShardToMerge)
        {
            throw new KinesisValidationException(op, "AdjacentShardToMerge", "must differ from ShardToMerge");
        }
    }

    public static void Retention(string op, StreamRetentionPeriodRequest r)
    {
        Name(op, "StreamName", r.StreamName);
        Range(op, "RetentionPeriodHours", r.RetentionPeriodHours, MinRetentionHours, MaxRetentionHours);
    }

    public static void StartStreamEncryption(StartStreamEncryptionRequest r)
    {
        const string op = "StartStreamEncryption";
        Name(op, "StreamName", r.StreamName);
        if (r.EncryptionType != "KMS")
        {
            throw new KinesisValidationException(op, "EncryptionType", $"must be KMS (was '{r.EncryptionType}')");
        }

        if (string.IsNullOrEmpty(r.KeyId) || r.KeyId.Length > 2048)
        {
            throw new KinesisValidationException(op, "KeyId", "must be 1–2048 characters");
        }
    }

    public static void AddTagsToStream(AddTagsToStreamRequest r)
    {
        const string op = "AddTagsToStream";
        Name(op, "StreamName", r.StreamName);
        if (r.Tags is null || r.Tags.Count == 0 || r.Tags.Count > MaxTagsPerCall)
        {
            throw new KinesisValidationException(op, "Tags", $"must hold 1–{MaxTagsPerCall} tags (was {r.Tags?.Count ?? 0})");
        }

        foreach (var (key, value) in r.Tags)
        {
            if (string.IsNullOrEmpty(key) || key.Length > 128)
            {
                throw new KinesisValidationException(op, $"Tags[{key}]", "key must be 1–128 characters");
            }

            if (value is null || value.Length > 256)
            {
                throw new KinesisValidationException(op, $"Tags[{key}]", "value must be 0–256 characters");
            }
        }
    }

    public static void ListTagsForStream(ListTagsForStreamRequest r)
    {
        const string op = "ListTagsForStream";
        Name(op, "StreamName", r.StreamName);
        Range(op, "Limit", r.Limit, 1, 50);
    }

    public static void DeleteStream(DeleteStreamRequest r) => Name("DeleteStream", "StreamName", r.StreamName);

    public static void RegisterStreamConsumer(RegisterStreamConsumerRequest r)
    {
        const string op = "RegisterStreamConsumer";
        Arn(op, "StreamARN", r.StreamARN);
        Name(op, "ConsumerName", r.ConsumerName);
    }

    public static void ListStreamConsumers(ListStreamConsumersRequest r)
    {
        const string op = "ListStreamConsumers";
        Arn(op, "StreamARN", r.StreamARN);
        Range(op, "MaxResults", r.MaxResults, 1, 10_000);
    }

    public static void DeregisterStreamConsumer(DeregisterStreamConsumerRequest r)
    {
        const string op = "DeregisterStreamConsumer";
        if (r.ConsumerARN is not null)
        {
            Arn(op, "ConsumerARN", r.ConsumerARN);
            return;
        }

        if (r.StreamARN is null || r.ConsumerName is null)
        {
            throw new KinesisValidationException(op, "ConsumerARN", "is required unless both StreamARN and ConsumerName are given");
        }

        Arn(op, "StreamARN", r.StreamARN);
        Name(op, "ConsumerName", r.ConsumerName);
    }

    /// <summary>Checks one record; returns its size (data + UTF-8 partition key) for the batch total.</summary>
    private long Record(string op, string prefix, ReadOnlyMemory<byte> data, string? partitionKey, string? explicitHashKey)
    {
        if (string.IsNullOrEmpty(partitionKey))
        {
            throw new KinesisValidationException(op, prefix + "PartitionKey", "must be 1–256 characters (was empty)");
        }

        // The limit counts Unicode characters; count runes only when UTF-16 length could exceed it.
        if (partitionKey.Length > 256)
        {
            var characters = partitionKey.EnumerateRunes().Count();
            if (characters > 256)
            {
                throw new KinesisValidationException(op, prefix + "PartitionKey", $"must be 1–256 characters (was {characters})");
            }
        }

        if (explicitHashKey is not null)
        {
            HashKey(op, prefix + "ExplicitHashKey", explicitHashKey);
        }

        long size = data.Length + Encoding.UTF8.GetByteCount(partitionKey);
        if (size > MaxRecordSizeBytes)
        {
            throw new KinesisValidationException(op, prefix + "Data",
                $"record size (data + partition key) must be at most {MaxRecordSizeBytes} bytes (was {size})");
        }

        return size;
    }

    /// <summary>Stream, shard and consumer names: [a-zA-Z0-9_.-]+, 1–128 characters.</summary>
    internal static void Name(string op, string field, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new KinesisValidationException(op, field, "is required");
        }

        if (value.Length > 128)
        {
            throw new KinesisValidationException(op, field, $"must be at most 128 characters (was {value.Length})");
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            {
                throw new KinesisValidationException(op, field, $"must match [a-zA-Z0-9_.-]+ (found '{c}' in '{value}')");
            }
        }
    }

    private static void NameOrArn(string op, string? name, string? arn)
    {
        if (name is null && arn is null)
        {
            throw new KinesisValidationException(op, "StreamName", "or StreamARN is required");
        }

        if (name is not null)
        {
            Name(op, "StreamName", name);
        }

        if (arn is not null)
        {
            Arn(op, "StreamARN", arn);
        }
    }

    private static void Arn(string op, string field, string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 2048 || !value.StartsWith("arn:aws", StringComparison.Ordinal) || !value.Contains(":kinesis:", StringComparison.Ordinal))
        {
            throw new KinesisValidationException(op, field, $"must be a Kinesis ARN (arn:aws…:kinesis:…, at most 2048 characters; was '{value}')");
        }
    }

    /// <summary>A 128-bit hash key as a decimal string: 0|[1-9][0-9]{0,38}, at most 2^128-1.</summary>
    internal static void HashKey(string op, string field, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new KinesisValidationException(op, field, "is required");
        }

        if ((value.Length > 1 && value[0] == '0') || !value.All(char.IsAsciiDigit) || value.Length > 39
            || !UInt128.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            throw new KinesisValidationException(op, field, $"must be a decimal integer in [0, 2^128-1] without leading zeros (was '{value}')");
        }
    }

    private static void SequenceNumber(string op, string field, string value)
    {
        if (value.Length is 0 or > 129 || (value.Length > 1 && value[0] == '0') || !value.All(char.IsAsciiDigit))
        {
            throw new KinesisValidationException(op, field, $"must be a decimal sequence number (was '{value}')");
        }
    }

    private static void Range(string op, string field, int? value, int min, int max)
    {
        if (value is { } v && (v < min || v > max))
        {
            throw new KinesisValidationException(op, field, $"must be in [{min}, {max}] (was {v})");
        }
    }

    private static void Absent<T>(string op, string field, T? value, string because)
    {
        if (value is not null)
        {
            throw new KinesisValidationException(op, field, $"must be absent when the type is {because}");
        }
    }
}
