using System.Text.Json.Nodes;
using Cloud.Kinesis.Model;
using static Cloud.Kinesis.Tests.ClientTestSupport;

namespace Cloud.Kinesis.Tests;

/// <summary>
/// Wire shapes compared with the request/response examples of the Kinesis API reference
/// (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_&lt;Operation&gt;.html, "Examples").
/// </summary>
public sealed class JsonShapeTests
{
    [Fact]
    public async Task PutRecords_request_matches_the_documented_example()
    {
        // API_PutRecords.html, "To add data to a stream": Data is base64 ("XzxkYXRhPl8w" = "_<data>_0").
        var handler = new FakeKinesisHandler(FakeKinesisHandler.Ok("""
            {"FailedRecordCount":0,"Records":[
              {"SequenceNumber":"49543463076548007577105092703039560359975228518395012686","ShardId":"shardId-000000000000"},
              {"SequenceNumber":"49543463076570308322303623326179887152428262250726293522","ShardId":"shardId-000000000001"},
              {"SequenceNumber":"49543463076570308322303623326179887152428262250726293588","ShardId":"shardId-000000000003"}]}
            """));
        using var client = Client(handler);
        var response = await client.PutRecordsAsync(new PutRecordsRequest
        {
            StreamName = "exampleStreamName",
            Records =
            [
                new PutRecordsRequestEntry { Data = "_<data>_0"u8.ToArray(), PartitionKey = "partitionKey1" },
                new PutRecordsRequestEntry { Data = "_<data>_1"u8.ToArray(), PartitionKey = "partitionKey2" },
                new PutRecordsRequestEntry { Data = "_<data>_2"u8.ToArray(), PartitionKey = "partitionKey3" },
            ],
        });

        AssertJson("""
            {"Records":[{"Data":"XzxkYXRhPl8w","PartitionKey":"partitionKey1"},
                        {"Data":"XzxkYXRhPl8x","PartitionKey":"partitionKey2"},
                        {"Data":"XzxkYXRhPl8y","PartitionKey":"partitionKey3"}],
             "StreamName":"exampleStreamName"}
            """, handler.Requests.Single().Body);
        var request = handler.Requests.Single();
        Assert.Equal("Kinesis_20131202.PutRecords", request.Target);
        Assert.Equal("application/x-amz-json-1.1", request.ContentType);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/", request.Uri.AbsolutePath);
        Assert.Equal(0, response.FailedRecordCount);
        Assert.Equal("shardId-000000000003", response.Records[2].ShardId);
    }

    [Fact]
    public async Task PutRecords_partial_failure_is_reported_per_record()
    {
        // API_PutRecords.html, second example: one record throttled, one internal failure.
        var handler = new FakeKinesisHandler(FakeKinesisHandler.Ok("""
            {"FailedRecordCount":2,"Records":[
              {"SequenceNumber":"49543463076548007577105092703039560359975228518395148968","ShardId":"shardId-000000000000"},
              {"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"Rate exceeded for shard shardId-000000000001 in stream exampleStreamName under account 111111111111."},
              {"ErrorCode":"InternalFailure","ErrorMessage":"Internal service failure."}]}
            """));
        using var client = Client(handler);
        var response = await client.PutRecordsAsync(new PutRecordsRequest
        {
            StreamName = "exampleStreamName",
            Records = [.. Enumerable.Range(0, 3).Select(i => new PutRecordsRequestEntry { Data = new byte[] { (byte)i }, PartitionKey = "k" + i })],
        });

        Assert.Equal(1, handler.Calls); // per-record failures are the caller's to retry, not the transport's
        Assert.Equal(2, response.FailedRecordCount);
        Assert.Null(response.Records[1].SequenceNumber);
        Assert.Equal("ProvisionedThroughputExceededException", response.Records[1].ErrorCode);
        Assert.Equal("InternalFailure", response.Records[2].ErrorCode);
    }

    [Fact]
    public async Task GetRecords_response_matches_the_documented_example()
    {
        // API_GetRecords.html example: the timestamp is an epoch-seconds number in exponent form.
        var handler = new FakeKinesisHandler(FakeKinesisHandler.Ok("""
            {"MillisBehindLatest":2100,
             "NextShardIterator":"AAAAAAAAAAHsW8zCWf9164uy8Epue6WS3w6wmj4a4USt+CNvMd6uXQ+HL5vAJMznqqC0DLKsIjuoiTi1BpT6nW0LN2M2D56zM5H8anHm30Gbri9ua+qaGgj+3XTyvbhpERfrezgLHbPB/rIcVpykJbaSj5tmcXYRmFnqZBEyHwtZYFmh6hvWVFkIwLuMZLMrpWhG5r5hzkE=",
             "Records":[{"Data":"XzxkYXRhPl8w","PartitionKey":"partitionKey","ApproximateArrivalTimestamp":1.441215410867E9,
                         "SequenceNumber":"21269319989652663814458848515492872193"}]}
            """));
        using var client = Client(handler);
        var response = await client.GetRecordsAsync(new GetRecordsRequest
        {
            ShardIterator = "AAAAAAAAAAETYyAYzd665+8e0X7JTsASDM/Hr2rSwc0X2qz93iuA3udrjTH+ikQvpQk/1ZcMMLzRdAesqwBGPnsthzU0/CBlM/U8/8oEqGwX3pKw0XyeDNRAAZyXBo3MqkQtCpXhr942BRTjvWKhFz7OmCb2Ncfr8Tl2cBktooi6kJhr+djN5WYkB38Rr3akRgCl9qaU4dY=",
            Limit = 25,
        });

        AssertJson("""
            {"ShardIterator":"AAAAAAAAAAETYyAYzd665+8e0X7JTsASDM/Hr2rSwc0X2qz93iuA3udrjTH+ikQvpQk/1ZcMMLzRdAesqwBGPnsthzU0/CBlM/U8/8oEqGwX3pKw0XyeDNRAAZyXBo3MqkQtCpXhr942BRTjvWKhFz7OmCb2Ncfr8Tl2cBktooi6kJhr+djN5WYkB38Rr3akRgCl9qaU4dY=","Limit":25}
            """, handler.Requests.Single().Body);
        var record = Assert.Single(response.Records);
        Assert.Equal("_<data>_0"u8.ToArray(), record.Data.ToArray());
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_441_215_410_867), record.ApproximateArrivalTimestamp);
        Assert.Equal(2100, response.MillisBehindLatest);
        Assert.StartsWith("AAAAAAAAAAHsW8zC", response.NextShardIterator);
    }

    [Fact]
    public async Task GetShardIterator_requests_match_the_documented_shapes()
    {
        var handler = new FakeKinesisHandler((_, _, _) => Task.FromResult(FakeKinesisHandler.Ok("""{"ShardIterator":"AAAAAAAAAAETYyAYzd665+8e0X7JTsASDM/Hr2rSwc0X2qz93iuA3udrjTH+ikQvpQk"}""")));
        using var client = Client(handler);
        // API_GetShardIterator.html example.
        await client.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = "exampleStreamName", ShardId = "shardId-000000000001", ShardIteratorType = ShardIteratorType.Latest });
        AssertJson("""{"ShardId":"shardId-000000000001","ShardIteratorType":"LATEST","StreamName":"exampleStreamName"}""", handler.Requests.Last().Body);

        // AT_TIMESTAMP: Timestamp is epoch seconds as a number (JSON 1.1 timestamp format).
        await client.GetShardIteratorAsync(new GetShardIteratorRequest
        {
            StreamName = "s", ShardId = "shardId-000000000000", ShardIteratorType = ShardIteratorType.AtTimestamp,
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(1_545_084_650_987),
        });
        AssertJson("""{"ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP","StreamName":"s","Timestamp":1545084650.987}""", handler.Requests.Last().Body);

        await client.GetShardIteratorAsync(new GetShardIteratorRequest
        {
            StreamName = "s", ShardId = "shardId-000000000000", ShardIteratorType = ShardIteratorType.AfterSequenceNumber,
            StartingSequenceNumber = "49590338271490256608559692538361571095921575989136588898",
        });
        AssertJson("""{"ShardId":"shardId-000000000000","ShardIteratorType":"AFTER_SEQUENCE_NUMBER","StreamName":"s","StartingSequenceNumber":"49590338271490256608559692538361571095921575989136588898"}""",
            handler.Requests.Last().Body);
    }

    [Fact]
    public async Task Control_plane_requests_have_the_documented_shapes()
    {
        var handler = new FakeKinesisHandler((r, _, _) => Task.FromResult(FakeKinesisHandler.Ok(r.Target.EndsWith("UpdateShardCount", StringComparison.Ordinal)
            ? """{"CurrentShardCount":1,"StreamName":"s","TargetShardCount":2}"""
            : r.Target.EndsWith("RegisterStreamConsumer", StringComparison.Ordinal)
                ? """{"Consumer":{"ConsumerName":"c","ConsumerARN":"arn:aws:kinesis:us-east-1:111122223333:stream/s/consumer/c:1545084650","ConsumerStatus":"CREATING","ConsumerCreationTimestamp":1545084650.0}}"""
                : "")));
        using var client = Client(handler);
        await client.CreateStreamAsync(new CreateStreamRequest { StreamName = "s", ShardCount = 3 });
        await client.CreateStreamAsync(new CreateStreamRequest { StreamName = "s", StreamModeDetails = StreamModeDetails.OnDemand });
        var update = await client.UpdateShardCountAsync(new UpdateShardCountRequest { StreamName = "s", TargetShardCount = 2 });
        await client.SplitShardAsync(new SplitShardRequest { StreamName = "s", ShardToSplit = "shardId-000000000000", NewStartingHashKey = "10" });
        await client.MergeShardsAsync(new MergeShardsRequest { StreamName = "s", ShardToMerge = "shardId-000000000000", AdjacentShardToMerge = "shardId-000000000001" });
        await client.IncreaseStreamRetentionPeriodAsync(new StreamRetentionPeriodRequest { StreamName = "s", RetentionPeriodHours = 48 });
        await client.StartStreamEncryptionAsync(new StartStreamEncryptionRequest { StreamName = "s", KeyId = "alias/aws/kinesis" });
        await client.AddTagsToStreamAsync(new AddTagsToStreamRequest { StreamName = "s", Tags = new Dictionary<string, string> { ["team"] = "data" } });
        await client.DeleteStreamAsync(new DeleteStreamRequest { StreamName = "s", EnforceConsumerDeletion = true });
        var consumer = await client.RegisterStreamConsumerAsync(new RegisterStreamConsumerRequest { StreamARN = "arn:aws:kinesis:us-east-1:111122223333:stream/s", ConsumerName = "c" });

        var bodies = handler.Requests.Select(r => (r.Target, r.Body)).ToArray();
        Assert.Equal("Kinesis_20131202.CreateStream", bodies[0].Target);
        AssertJson("""{"StreamName":"s","ShardCount":3}""", bodies[0].Body);
        AssertJson("""{"StreamName":"s","StreamModeDetails":{"StreamMode":"ON_DEMAND"}}""", bodies[1].Body);
        AssertJson("""{"StreamName":"s","TargetShardCount":2,"ScalingType":"UNIFORM_SCALING"}""", bodies[2].Body);
        AssertJson("""{"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"10"}""", bodies[3].Body);
        AssertJson("""{"StreamName":"s","ShardToMerge":"shardId-000000000000","AdjacentShardToMerge":"shardId-000000000001"}""", bodies[4].Body);
        AssertJson("""{"StreamName":"s","RetentionPeriodHours":48}""", bodies[5].Body);
        AssertJson("""{"StreamName":"s","EncryptionType":"KMS","KeyId":"alias/aws/kinesis"}""", bodies[6].Body);
        AssertJson("""{"StreamName":"s","Tags":{"team":"data"}}""", bodies[7].Body);
        AssertJson("""{"StreamName":"s","EnforceConsumerDeletion":true}""", bodies[8].Body);
        Assert.Equal("Kinesis_20131202.RegisterStreamConsumer", bodies[9].Target);
        Assert.Equal(1, update.CurrentShardCount);
        Assert.Equal("CREATING", consumer.Consumer.ConsumerStatus);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_545_084_650), consumer.Consumer.ConsumerCreationTimestamp);
    }

    [Fact]
    public async Task ListShards_with_a_token_sends_no_stream_name()
    {
        // API_ListShards.html: "Don't specify StreamName ... if you specify NextToken".
        var handler = new FakeKinesisHandler((_, i, _) => Task.FromResult(FakeKinesisHandler.Ok(i == 0
            ? """{"Shards":[{"ShardId":"shardId-000000000000","HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"1"},"SequenceNumberRange":{"StartingSequenceNumber":"1"}}],"NextToken":"tok1"}"""
            : """{"Shards":[{"ShardId":"shardId-000000000001","HashKeyRange":{"StartingHashKey":"2","EndingHashKey":"3"},"SequenceNumberRange":{"StartingSequenceNumber":"2","EndingSequenceNumber":"9"}}]}""")));
        using var client = Client(handler);
        var shards = await client.ListAllShardsAsync(new ListShardsRequest { StreamName = "s", MaxResults = 1, ShardFilter = new ShardFilter { Type = "AT_TRIM_HORIZON" } });

        Assert.Equal(["shardId-000000000000", "shardId-000000000001"], shards.Select(s => s.ShardId));
        Assert.Equal("9", shards[1].SequenceNumberRange.EndingSequenceNumber);
        var requests = handler.Requests.ToArray();
        AssertJson("""{"StreamName":"s","MaxResults":1,"ShardFilter":{"Type":"AT_TRIM_HORIZON"}}""", requests[0].Body);
        AssertJson("""{"NextToken":"tok1","MaxResults":1}""", requests[1].Body);
    }

    [Fact]
    public async Task DescribeStreamSummary_response_is_parsed()
    {
        // API_DescribeStreamSummary.html example.
        var handler = new FakeKinesisHandler(FakeKinesisHandler.Ok("""
            {"StreamDescriptionSummary":{"ConsumerCount":0,"EncryptionType":"NONE","EnhancedMonitoring":[{"ShardLevelMetrics":[]}],
             "OpenShardCount":1,"RetentionPeriodHours":24,"StreamARN":"arn:aws:kinesis:us-east-1:111122223333:stream/samplestream",
             "StreamCreationTimestamp":1572297168,"StreamModeDetails":{"StreamMode":"PROVISIONED"},"StreamName":"samplestream","StreamStatus":"ACTIVE"}}
            """));
        using var client = Client(handler);
        var summary = (await client.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = "samplestream" })).StreamDescriptionSummary;
        Assert.Equal("ACTIVE", summary.StreamStatus);
        Assert.Equal(1, summary.OpenShardCount);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_572_297_168), summary.StreamCreationTimestamp);
        Assert.Equal("PROVISIONED", summary.StreamModeDetails!.StreamMode);
    }

    [Fact]
    public async Task Every_request_is_signed_over_its_body_and_Kinesis_headers()
    {
        var handler = new FakeKinesisHandler((_, _, _) => Task.FromResult(FakeKinesisHandler.Ok("""{"StreamNames":[],"HasMoreStreams":false}""")));
        using var client = Client(handler, o => o.Credentials = new Amazon.Runtime.SessionAWSCredentials("AKID", "secret", "token-1"));
        await client.ListStreamsAsync(new ListStreamsRequest { Limit = 5 });

        var request = handler.Requests.Single();
        var authorization = request.Headers["Authorization"];
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKID/", authorization, StringComparison.Ordinal);
        Assert.Contains("/us-east-1/kinesis/aws4_request", authorization, StringComparison.Ordinal);
        Assert.Contains("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amz-target,", authorization, StringComparison.Ordinal);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(request.Body))), request.Headers["X-Amz-Content-SHA256"]);
        Assert.Equal("token-1", request.Headers["X-Amz-Security-Token"]);
        Assert.Matches("^[0-9]{8}T[0-9]{6}Z$", request.Headers["X-Amz-Date"]);
    }

    private static void AssertJson(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected {expected}\nactual   {actual}");
}
