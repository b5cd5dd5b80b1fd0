using Amazon.Runtime;
using Cloud.Kinesis.Model;
using static Cloud.Kinesis.Tests.ClientTestSupport;

namespace Cloud.Kinesis.Tests;

/// <summary>Requests are refused before sending, with the field named (constraints from the Kinesis API reference).</summary>
public sealed class ValidationTests
{
    private static PutRecordsRequestEntry Entry(string key = "k", int size = 1, string? hashKey = null) =>
        new() { Data = new byte[size], PartitionKey = key, ExplicitHashKey = hashKey };

    public static TheoryData<string, Func<IKinesisClient, Task>, string> Invalid() => new()
    {
        { "bad stream char", c => c.CreateStreamAsync(new CreateStreamRequest { StreamName = "my stream", ShardCount = 1 }), "StreamName" },
        { "stream too long", c => c.DeleteStreamAsync(new DeleteStreamRequest { StreamName = new string('a', 129) }), "StreamName" },
        { "empty stream", c => c.PutRecordAsync(new PutRecordRequest { StreamName = "", Data = new byte[1], PartitionKey = "k" }), "StreamName" },
        { "zero shards", c => c.CreateStreamAsync(new CreateStreamRequest { StreamName = "s", ShardCount = 0 }), "ShardCount" },
        { "provisioned without count", c => c.CreateStreamAsync(new CreateStreamRequest { StreamName = "s" }), "ShardCount" },
        { "on-demand with count", c => c.CreateStreamAsync(new CreateStreamRequest { StreamName = "s", ShardCount = 2, StreamModeDetails = StreamModeDetails.OnDemand }), "ShardCount" },
        { "unknown mode", c => c.CreateStreamAsync(new CreateStreamRequest { StreamName = "s", ShardCount = 2, StreamModeDetails = new StreamModeDetails("FAST") }), "StreamModeDetails.StreamMode" },
        { "empty key", c => c.PutRecordAsync(new PutRecordRequest { StreamName = "s", Data = new byte[1], PartitionKey = "" }), "PartitionKey" },
        { "257-char key", c => c.PutRecordAsync(new PutRecordRequest { StreamName = "s", Data = new byte[1], PartitionKey = new string('k', 257) }), "PartitionKey" },
        { "hash key too big", c => c.PutRecordAsync(new PutRecordRequest { StreamName = "s", Data = new byte[1], PartitionKey = "k", ExplicitHashKey = "340282366920938463463374607431768211456" }), "ExplicitHashKey" },
        { "hash key negative", c => c.PutRecordAsync(new PutRecordRequest { StreamName = "s", Data = new byte[1], PartitionKey = "k", ExplicitHashKey = "-1" }), "ExplicitHashKey" },
        { "hash key leading zero", c => c.PutRecordAsync(new PutRecordRequest { StreamName = "s", Data = new byte[1], PartitionKey = "k", ExplicitHashKey = "01" }), "ExplicitHashKey" },
        { "record too large", c => c.PutRecordAsync(new PutRecordRequest { StreamName = "s", Data = new byte[1024 * 1024], PartitionKey = "k" }), "Data" },
        { "bad ordering seq", c => c.PutRecordAsync(new PutRecordRequest { StreamName = "s", Data = new byte[1], PartitionKey = "k", SequenceNumberForOrdering = "12a" }), "SequenceNumberForOrdering" },
        { "no records", c => c.PutRecordsAsync(new PutRecordsRequest { StreamName = "s", Records = [] }), "Records" },
        { "501 records", c => c.PutRecordsAsync(new PutRecordsRequest { StreamName = "s", Records = [.. Enumerable.Range(0, 501).Select(_ => Entry())] }), "Records" },
        { "bad key at 3", c => c.PutRecordsAsync(new PutRecordsRequest { StreamName = "s", Records = [Entry(), Entry(), Entry(), Entry(key: "")] }), "Records[3].PartitionKey" },
        { "bad hash at 1", c => c.PutRecordsAsync(new PutRecordsRequest { StreamName = "s", Records = [Entry(), Entry(hashKey: "x")] }), "Records[1].ExplicitHashKey" },
        { "big record at 2", c => c.PutRecordsAsync(new PutRecordsRequest { StreamName = "s", Records = [Entry(), Entry(), Entry(size: 1024 * 1024)] }), "Records[2].Data" },
        { "over 10 MiB", c => c.PutRecordsAsync(new PutRecordsRequest { StreamName = "s", Records = [.. Enumerable.Range(0, 11).Select(_ => Entry(size: 1024 * 1000))] }), "Records" },
        { "iterator type", c => c.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = "s", ShardId = "shardId-000000000000", ShardIteratorType = "OLDEST" }), "ShardIteratorType" },
        { "AT_SEQ without seq", c => c.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = "s", ShardId = "shardId-000000000000", ShardIteratorType = ShardIteratorType.AtSequenceNumber }), "StartingSequenceNumber" },
        { "AT_TIMESTAMP without ts", c => c.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = "s", ShardId = "shardId-000000000000", ShardIteratorType = ShardIteratorType.AtTimestamp }), "Timestamp" },
        { "LATEST with seq", c => c.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = "s", ShardId = "shardId-000000000000", ShardIteratorType = ShardIteratorType.Latest, StartingSequenceNumber = "1" }), "StartingSequenceNumber" },
        { "TRIM_HORIZON with ts", c => c.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = "s", ShardId = "shardId-000000000000", ShardIteratorType = ShardIteratorType.TrimHorizon, Timestamp = DateTimeOffset.UnixEpoch }), "Timestamp" },
        { "AT_TIMESTAMP with seq", c => c.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = "s", ShardId = "shardId-000000000000", ShardIteratorType = ShardIteratorType.AtTimestamp, Timestamp = DateTimeOffset.UnixEpoch, StartingSequenceNumber = "1" }), "StartingSequenceNumber" },
        { "bad shard id", c => c.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = "s", ShardId = "shard/0", ShardIteratorType = ShardIteratorType.Latest }), "ShardId" },
        { "empty iterator", c => c.GetRecordsAsync(new GetRecordsRequest { ShardIterator = "" }), "ShardIterator" },
        { "limit 0", c => c.GetRecordsAsync(new GetRecordsRequest { ShardIterator = "x", Limit = 0 }), "Limit" },
        { "limit 10001", c => c.GetRecordsAsync(new GetRecordsRequest { ShardIterator = "x", Limit = 10_001 }), "Limit" },
        { "target 0", c => c.UpdateShardCountAsync(new UpdateShardCountRequest { StreamName = "s", TargetShardCount = 0 }), "TargetShardCount" },
        { "scaling type", c => c.UpdateShardCountAsync(new UpdateShardCountRequest { StreamName = "s", TargetShardCount = 2, ScalingType = "FAST" }), "ScalingType" },
        { "split key", c => c.SplitShardAsync(new SplitShardRequest { StreamName = "s", ShardToSplit = "shardId-000000000000", NewStartingHashKey = "1e10" }), "NewStartingHashKey" },
        { "merge same", c => c.MergeShardsAsync(new MergeShardsRequest { StreamName = "s", ShardToMerge = "shardId-000000000000", AdjacentShardToMerge = "shardId-000000000000" }), "AdjacentShardToMerge" },
        { "retention 23", c => c.IncreaseStreamRetentionPeriodAsync(new StreamRetentionPeriodRequest { StreamName = "s", RetentionPeriodHours = 23 }), "RetentionPeriodHours" },
        { "retention 8761", c => c.DecreaseStreamRetentionPeriodAsync(new StreamRetentionPeriodRequest { StreamName = "s", RetentionPeriodHours = 8761 }), "RetentionPeriodHours" },
        { "encryption type", c => c.StartStreamEncryptionAsync(new StartStreamEncryptionRequest { StreamName = "s", KeyId = "k", EncryptionType = "AES" }), "EncryptionType" },
        { "empty key id", c => c.StartStreamEncryptionAsync(new StartStreamEncryptionRequest { StreamName = "s", KeyId = "" }), "KeyId" },
        { "no tags", c => c.AddTagsToStreamAsync(new AddTagsToStreamRequest { StreamName = "s", Tags = new Dictionary<string, string>() }), "Tags" },
        { "long tag key", c => c.AddTagsToStreamAsync(new AddTagsToStreamRequest { StreamName = "s", Tags = new Dictionary<string, string> { [new string('t', 129)] = "v" } }), "Tags[" + new string('t', 129) + "]" },
        { "describe nothing", c => c.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest()), "StreamName" },
        { "list shards nothing", c => c.ListShardsAsync(new ListShardsRequest()), "StreamName" },
        { "filter without id", c => c.ListShardsAsync(new ListShardsRequest { StreamName = "s", ShardFilter = new ShardFilter { Type = "AFTER_SHARD_ID" } }), "ShardFilter.ShardId" },
        { "filter without ts", c => c.ListShardsAsync(new ListShardsRequest { StreamName = "s", ShardFilter = new ShardFilter { Type = "FROM_TIMESTAMP" } }), "ShardFilter.Timestamp" },
        { "filter type", c => c.ListShardsAsync(new ListShardsRequest { StreamName = "s", ShardFilter = new ShardFilter { Type = "ALL" } }), "ShardFilter.Type" },
        { "max results", c => c.ListShardsAsync(new ListShardsRequest { StreamName = "s", MaxResults = 0 }), "MaxResults" },
        { "list streams limit", c => c.ListStreamsAsync(new ListStreamsRequest { Limit = 10_001 }), "Limit" },
        { "stream arn", c => c.RegisterStreamConsumerAsync(new RegisterStreamConsumerRequest { StreamARN = "orders", ConsumerName = "c" }), "StreamARN" },
        { "consumer name", c => c.RegisterStreamConsumerAsync(new RegisterStreamConsumerRequest { StreamARN = "arn:aws:kinesis:us-east-1:111122223333:stream/s", ConsumerName = "a b" }), "ConsumerName" },
        { "deregister nothing", c => c.DeregisterStreamConsumerAsync(new DeregisterStreamConsumerRequest()), "ConsumerARN" },
        { "consumers max", c => c.ListStreamConsumersAsync(new ListStreamConsumersRequest { StreamARN = "arn:aws:kinesis:us-east-1:111122223333:stream/s", MaxResults = 0 }), "MaxResults" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public async Task Invalid_requests_are_refused_before_sending_naming_the_field(string _, Func<IKinesisClient, Task> call, string field)
    {
        var handler = new FakeKinesisHandler(FakeKinesisHandler.Ok());
        using var client = Client(handler);

        var ex = await Assert.ThrowsAsync<KinesisValidationException>(() => call(client));

        Assert.Equal(field, ex.Field);
        Assert.StartsWith($"{ex.Operation}: {field} ", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, handler.Calls);
    }

    [Fact]
    public async Task Boundary_values_are_accepted()
    {
        var handler = new FakeKinesisHandler((_, _, _) => Task.FromResult(FakeKinesisHandler.Ok("""{"FailedRecordCount":0,"Records":[]}""")));
        using var client = Client(handler);
        var maxKey = new string('k', 256);
        var emojiKey = string.Concat(Enumerable.Repeat("😀", 256)); // 256 characters, 512 UTF-16 units
        await client.PutRecordsAsync(new PutRecordsRequest
        {
            StreamName = new string('a', 128),
            Records =
            [
                Entry(key: maxKey, hashKey: "340282366920938463463374607431768211455"),
                Entry(key: emojiKey, hashKey: "0"),
                Entry(key: "k", size: 1024 * 1024 - 1),
                .. Enumerable.Range(0, 497).Select(_ => Entry()),
            ],
        });
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public async Task Record_size_limit_is_configurable()
    {
        var handler = new FakeKinesisHandler((_, _, _) => Task.FromResult(FakeKinesisHandler.Ok("""{"ShardId":"shardId-000000000000","SequenceNumber":"1"}""")));
        using var small = Client(handler, o => o.MaxRecordSizeBytes = 100);
        using var large = Client(handler, o => o.MaxRecordSizeBytes = 2 * 1024 * 1024);
        var ex = await Assert.ThrowsAsync<KinesisValidationException>(() => small.PutRecordAsync(new PutRecordRequest { StreamName = "s", Data = new byte[100], PartitionKey = "k" }));
        Assert.Contains("at most 100 bytes (was 101)", ex.Message, StringComparison.Ordinal);
        await large.PutRecordAsync(new PutRecordRequest { StreamName = "s", Data = new byte[1024 * 1024 + 5], PartitionKey = "k" });
        Assert.Equal(1, handler.Calls);
    }

    [Fact]
    public void Options_report_every_problem_in_one_message()
    {
        var options = new KinesisClientOptions
        {
            Region = "US East",
            ServiceUrl = new Uri("ftp://example.com/"),
            MaxRetries = -1,
            BaseDelay = TimeSpan.FromSeconds(2),
            MaxDelay = TimeSpan.FromSeconds(1),
            AttemptTimeout = TimeSpan.Zero,
            OverallTimeout = TimeSpan.FromSeconds(-5),
            MaxRecordSizeBytes = 0,
        };

        var ex = Assert.Throws<ArgumentException>(() => new KinesisClient(options));

        foreach (var part in new[] { "Region", "ServiceUrl", "MaxRetries", "MaxDelay", "AttemptTimeout", "OverallTimeout", "MaxRecordSizeBytes" })
        {
            Assert.Contains(part, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Options_need_a_region_or_a_service_url()
    {
        var ex = Assert.Throws<ArgumentException>(() => new KinesisClient(new KinesisClientOptions { Credentials = new BasicAWSCredentials("a", "b") }));
        Assert.Contains("either Region or ServiceUrl", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("us-east-1", "https://kinesis.us-east-1.amazonaws.com/")]
    [InlineData("cn-north-1", "https://kinesis.cn-north-1.amazonaws.com.cn/")]
    public void A_region_selects_the_public_endpoint(string region, string endpoint)
    {
        using var client = new KinesisClient(new KinesisClientOptions { Region = region, Credentials = new BasicAWSCredentials("a", "b") });
        Assert.Equal(new Uri(endpoint), client.Endpoint);
    }
}
