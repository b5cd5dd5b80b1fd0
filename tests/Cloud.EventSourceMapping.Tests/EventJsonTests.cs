using System.Text;
using System.Text.Json;
using Cloud.Consumer.Events;

namespace Cloud.EventSourceMapping.Tests;

public class EventJsonTests
{
    private static readonly EventSource Source = new("arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream", "shardId-000000000006", "us-east-2", "arn:aws:iam::123456789012:role/lambda-role");

    private static StreamRecord Sample(string seq = "49590338271490256608559692538361571095921575989136588898") =>
        new(seq, "1", Encoding.UTF8.GetBytes("Hello, this is a test."), DateTimeOffset.FromUnixTimeMilliseconds(1545084650987));

    [Fact]
    public void Record_event_matches_the_documented_example_field_for_field()
    {
        // The first record of https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#services-kinesis-event-example
        const string expected = """{"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"1","sequenceNumber":"49590338271490256608559692538361571095921575989136588898","data":"SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==","approximateArrivalTimestamp":1545084650.987},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"shardId-000000000006:49590338271490256608559692538361571095921575989136588898","eventName":"aws:kinesis:record","invokeIdentityArn":"arn:aws:iam::123456789012:role/lambda-role","awsRegion":"us-east-2","eventSourceARN":"arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"}]}""";
        var json = Encoding.UTF8.GetString(KinesisEventWriter.ToUtf8Bytes(Source, [Sample()]));
        Assert.Equal(expected, json);
    }

    [Fact]
    public void Window_event_adds_window_state_shard_and_flags()
    {
        var window = new WindowContext(DateTimeOffset.Parse("2020-12-09T07:04:00Z"), DateTimeOffset.Parse("2020-12-09T07:06:00Z"), """{"1":"282"}""", false, false);
        using var doc = JsonDocument.Parse(KinesisEventWriter.ToUtf8Bytes(Source, [Sample()], window));
        var root = doc.RootElement;
        Assert.Equal("2020-12-09T07:04:00Z", root.GetProperty("window").GetProperty("start").GetString());
        Assert.Equal("2020-12-09T07:06:00Z", root.GetProperty("window").GetProperty("end").GetString());
        Assert.Equal("282", root.GetProperty("state").GetProperty("1").GetString());
        Assert.Equal("shardId-000000000006", root.GetProperty("shardId").GetString());
        Assert.Equal(Source.StreamArn, root.GetProperty("eventSourceARN").GetString());
        Assert.False(root.GetProperty("isFinalInvokeForWindow").GetBoolean());
        Assert.False(root.GetProperty("isWindowTerminatedEarly").GetBoolean());
        Assert.Equal(["Records", "window", "state", "shardId", "eventSourceARN", "isFinalInvokeForWindow", "isWindowTerminatedEarly"],
            root.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void Partition_keys_and_binary_data_round_trip_without_escaping_surprises()
    {
        var record = Sample() with { PartitionKey = "user+1/\"ü\"<x>", Data = new byte[] { 0xFB, 0xFF, 0x00, 0x3E } };
        var bytes = KinesisEventWriter.ToUtf8Bytes(Source, [record]);
        using var doc = JsonDocument.Parse(bytes);
        var kinesis = doc.RootElement.GetProperty("Records")[0].GetProperty("kinesis");
        Assert.Equal(record.PartitionKey, kinesis.GetProperty("partitionKey").GetString());
        Assert.Equal(record.Data.ToArray(), kinesis.GetProperty("data").GetBytesFromBase64());
        Assert.Contains("\"data\":\"+/8APg==\"", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void Whole_second_arrival_is_still_epoch_seconds() =>
        Assert.Equal(1607497475m, KinesisEventWriter.ToEpochSeconds(DateTimeOffset.FromUnixTimeSeconds(1607497475)));

    [Fact]
    public void On_failure_record_has_the_documented_shape_and_no_record_data()
    {
        var record = new OnFailureRecord
        {
            RequestId = "cf6fa2a6-48e2-49a6-bc23-7ed2b154b176",
            FunctionArn = "arn:aws:lambda:us-east-1:123456789012:function:kinesis-processor",
            Condition = OnFailureCondition.RetryAttemptsExhausted,
            ApproximateInvokeCount = 4,
            StatusCode = 200,
            FunctionError = "Unhandled",
            Timestamp = DateTimeOffset.Parse("2023-12-10T22:06:23.446Z"),
            KinesisBatchInfo = new KinesisBatchInfo
            {
                ShardId = "shardId-000000000000",
                StartSequenceNumber = "49647238774018758449143790847474952390342044683891376130",
                EndSequenceNumber = "49647238774018758449143790941112301748593148785147772930",
                ApproximateArrivalOfFirstRecord = DateTimeOffset.Parse("2023-12-10T22:05:59.280Z"),
                ApproximateArrivalOfLastRecord = DateTimeOffset.Parse("2023-12-10T22:06:19.196Z"),
                BatchSize = 3,
                StreamArn = "arn:aws:kinesis:us-east-1:123456789012:stream/MyKinesisStream",
            },
        };
        const string expected = """{"requestContext":{"requestId":"cf6fa2a6-48e2-49a6-bc23-7ed2b154b176","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:kinesis-processor","condition":"RetryAttemptsExhausted","approximateInvokeCount":4},"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"version":"1.0","timestamp":"2023-12-10T22:06:23.446Z","KinesisBatchInfo":{"shardId":"shardId-000000000000","startSequenceNumber":"49647238774018758449143790847474952390342044683891376130","endSequenceNumber":"49647238774018758449143790941112301748593148785147772930","approximateArrivalOfFirstRecord":"2023-12-10T22:05:59.280Z","approximateArrivalOfLastRecord":"2023-12-10T22:06:19.196Z","batchSize":3,"streamArn":"arn:aws:kinesis:us-east-1:123456789012:stream/MyKinesisStream"}}""";
        Assert.Equal(expected, record.ToJson());
        Assert.Equal(record, OnFailureRecord.Parse(record.ToJson()));
    }

    [Fact]
    public void The_project_has_one_model_of_the_on_failure_batch_info()
    {
        // Issue 12: Cloud.Consumer and Cloud.EventSourceMapping both defined a public KinesisBatchInfo.
        var types = new[] { typeof(OnFailureRecord).Assembly, typeof(KinesisOnFailureRecord).Assembly }
            .SelectMany(a => a.GetExportedTypes())
            .Where(t => t.Name == "KinesisBatchInfo")
            .ToList();
        Assert.Equal(typeof(KinesisBatchInfo), Assert.Single(types));
        Assert.Equal(typeof(KinesisBatchInfo), typeof(OnFailureRecord).GetProperty(nameof(OnFailureRecord.KinesisBatchInfo))!.PropertyType);
    }
}
