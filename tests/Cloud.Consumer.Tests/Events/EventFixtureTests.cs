using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Cloud.Consumer.Events;

namespace Cloud.Consumer.Tests.Events;

public class EventFixtureTests
{
    private static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));

    public static TheoryData<string> Fixtures => new()
    {
        "kinesis-event.json",
        "kinesis-timewindow-event.json",
        "kinesis-timewindow-response.json",
        "kinesis-batch-response.json",
        "kinesis-on-failure-record.json",
    };

    private static string RoundTrip(string name, string json) => name switch
    {
        "kinesis-event.json" => RoundTrip(json, KinesisEventsJsonContext.Default.KinesisEvent),
        "kinesis-timewindow-event.json" => RoundTrip(json, KinesisEventsJsonContext.Default.KinesisTimeWindowEvent),
        "kinesis-timewindow-response.json" => RoundTrip(json, KinesisEventsJsonContext.Default.KinesisTimeWindowResponse),
        "kinesis-batch-response.json" => RoundTrip(json, KinesisEventsJsonContext.Default.StreamsEventResponse),
        "kinesis-on-failure-record.json" => RoundTrip(json, KinesisEventsJsonContext.Default.KinesisOnFailureRecord),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static string RoundTrip<T>(string json, JsonTypeInfo<T> info)
    {
        T model = JsonSerializer.Deserialize(json, info)!;
        string written = JsonSerializer.Serialize(model, info);
        // Second pass must be a fixed point: same model, same text.
        T again = JsonSerializer.Deserialize(written, info)!;
        Assert.Equal(written, JsonSerializer.Serialize(again, info));
        return written;
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Fixture_round_trips_field_for_field(string name)
    {
        string json = Fixture(name);
        string written = RoundTrip(name, json);
        JsonAssert.Equivalent(JsonNode.Parse(json), JsonNode.Parse(written));
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Written_json_uses_the_documented_property_names_exactly(string name)
    {
        // Case-sensitive: Lambda's names mix cases ("Records", "eventID", "eventSourceARN", "KinesisBatchInfo").
        string json = Fixture(name);
        string written = RoundTrip(name, json);
        static IEnumerable<string> Names(JsonNode? n) => n switch
        {
            JsonObject o => o.SelectMany(p => p.Key.Length > 0 && !char.IsDigit(p.Key[0]) ? Names(p.Value).Prepend(p.Key) : Names(p.Value)),
            JsonArray a => a.SelectMany(Names),
            _ => [],
        };
        Assert.Equal(Names(JsonNode.Parse(json)).ToHashSet(StringComparer.Ordinal), Names(JsonNode.Parse(written)).ToHashSet(StringComparer.Ordinal));
    }

    [Fact]
    public void Kinesis_event_fields_are_read()
    {
        var evt = JsonSerializer.Deserialize(Fixture("kinesis-event.json"), KinesisEventsJsonContext.Default.KinesisEvent)!;
        Assert.Equal(2, evt.Records.Count);
        var r = evt.Records[0];
        Assert.Equal("1.0", r.Kinesis.KinesisSchemaVersion);
        Assert.Equal("1", r.Kinesis.PartitionKey);
        Assert.Equal("49590338271490256608559692538361571095921575989136588898", r.Kinesis.SequenceNumber);
        Assert.Equal("Hello, this is a test.", Encoding.UTF8.GetString(Convert.FromBase64String(r.Kinesis.Data)));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1545084650987), r.Kinesis.ApproximateArrivalTimestamp);
        Assert.Equal("aws:kinesis", r.EventSource);
        Assert.Equal("1.0", r.EventVersion);
        Assert.Equal("shardId-000000000006:49590338271490256608559692538361571095921575989136588898", r.EventId);
        Assert.Equal("shardId-000000000006", r.ShardId);
        Assert.Equal("aws:kinesis:record", r.EventName);
        Assert.Equal("arn:aws:iam::123456789012:role/lambda-role", r.InvokeIdentityArn);
        Assert.Equal("us-east-2", r.AwsRegion);
        Assert.Equal("arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream", r.EventSourceArn);
        Assert.Equal("This is only a test.", Encoding.UTF8.GetString(Convert.FromBase64String(evt.Records[1].Kinesis.Data)));
    }

    [Fact]
    public void Time_window_event_fields_are_read()
    {
        var evt = JsonSerializer.Deserialize(Fixture("kinesis-timewindow-event.json"), KinesisEventsJsonContext.Default.KinesisTimeWindowEvent)!;
        Assert.Single(evt.Records);
        Assert.Equal(new DateTimeOffset(2020, 12, 9, 7, 4, 0, TimeSpan.Zero), evt.Window!.Start);
        Assert.Equal(new DateTimeOffset(2020, 12, 9, 7, 6, 0, TimeSpan.Zero), evt.Window.End);
        Assert.Equal("282", evt.State!["1"]);
        Assert.Equal("715", evt.State["2"]);
        Assert.Equal("shardId-000000000006", evt.ShardId);
        Assert.Equal("arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream", evt.EventSourceArn);
        Assert.False(evt.IsFinalInvokeForWindow);
        Assert.False(evt.IsWindowTerminatedEarly);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1607497475), evt.Records[0].Kinesis.ApproximateArrivalTimestamp);
        // Lambda writes the timestamp with three decimals; so do we.
        Assert.Contains("\"approximateArrivalTimestamp\":1607497475.000", JsonSerializer.Serialize(evt, KinesisEventsJsonContext.Default.KinesisTimeWindowEvent), StringComparison.Ordinal);
    }

    [Fact]
    public void On_failure_record_fields_are_read()
    {
        var rec = JsonSerializer.Deserialize(Fixture("kinesis-on-failure-record.json"), KinesisEventsJsonContext.Default.KinesisOnFailureRecord)!;
        Assert.Equal("c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5", rec.RequestContext.RequestId);
        Assert.Equal("arn:aws:lambda:us-east-2:123456789012:function:myfunction", rec.RequestContext.FunctionArn);
        Assert.Equal("RetryAttemptsExhausted", rec.RequestContext.Condition);
        Assert.Equal(1, rec.RequestContext.ApproximateInvokeCount);
        Assert.Equal(200, rec.ResponseContext.StatusCode);
        Assert.Equal("$LATEST", rec.ResponseContext.ExecutedVersion);
        Assert.Equal("Unhandled", rec.ResponseContext.FunctionError);
        Assert.Equal("1.0", rec.Version);
        Assert.Equal(DateTimeOffset.Parse("2019-11-14T00:38:06.021Z", System.Globalization.CultureInfo.InvariantCulture), rec.Timestamp);
        var b = rec.KinesisBatchInfo;
        Assert.Equal("shardId-000000000001", b.ShardId);
        Assert.Equal("49601189658422359378836298521827638475320189012309704722", b.StartSequenceNumber);
        Assert.Equal("49601189658422359378836298522902373528957594348623495186", b.EndSequenceNumber);
        Assert.Equal(835, b.ApproximateArrivalOfFirstRecord.Millisecond);
        Assert.Equal(580, b.ApproximateArrivalOfLastRecord.Millisecond);
        Assert.Equal(500, b.BatchSize);
        Assert.Equal("arn:aws:kinesis:us-east-2:123456789012:stream/mystream", b.StreamArn);
    }

    [Fact]
    public void Batch_response_always_writes_the_failure_list_and_window_response_always_writes_state()
    {
        Assert.Equal("{\"batchItemFailures\":[]}", JsonSerializer.Serialize(new StreamsEventResponse(), KinesisEventsJsonContext.Default.StreamsEventResponse));
        Assert.Equal("{\"state\":{},\"batchItemFailures\":[]}", JsonSerializer.Serialize(new KinesisTimeWindowResponse(), KinesisEventsJsonContext.Default.KinesisTimeWindowResponse));
    }

    [Fact]
    public void Bad_state_value_is_a_json_error_naming_the_key()
    {
        var ex = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("{\"state\":{\"k\":[1]}}", KinesisEventsJsonContext.Default.KinesisTimeWindowEvent));
        Assert.Contains("'k'", ex.Message, StringComparison.Ordinal);
    }
}
