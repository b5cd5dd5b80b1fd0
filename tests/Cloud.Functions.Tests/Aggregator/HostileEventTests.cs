using System.Text;
using System.Text.Json;
using Cloud.Functions.Aggregator;

namespace Cloud.Functions.Tests.Aggregator;

/// <summary>
/// Event documents the report's fuzzing (bench `fuzz` section) turned up: each one made the handler throw an untyped
/// exception (NullReferenceException, OverflowException, InvalidOperationException). A malformed event is a typed error:
/// <see cref="JsonException"/> (not JSON of the event's shape) or <see cref="AggregatorEventException"/> (JSON, but not an
/// event the Aggregator can process), naming what and where.
/// </summary>
public class HostileEventTests
{
    private const string Event = """
        {"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"1","sequenceNumber":"49590338271490256608559692538361571095921575989136588898","data":"eyJ1c2VySWQiOiJ1LTEiLCJhbW91bnQiOjF9","approximateArrivalTimestamp":1607497475.000},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"shardId-000000000006:49590338271490256608559692538361571095921575989136588898","eventName":"aws:kinesis:record","awsRegion":"us-east-1","eventSourceARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}],
         "window":{"start":"2020-12-09T07:04:00Z","end":"2020-12-09T07:06:00Z"},"state":{},"shardId":"shardId-000000000006","eventSourceARN":"arn:aws:kinesis:us-east-1:123456789012:stream/s","isFinalInvokeForWindow":false,"isWindowTerminatedEarly":false}
        """;

    private static Task<Stream> Handle(byte[] json)
    {
        var (client, _) = FakeDynamoDb.Create();
        var f = new Function(new AggregatorConfig { TableName = "agg" }, client);
        return f.HandleAsync(new MemoryStream(json), CancellationToken.None);
    }

    private static byte[] With(string from, string to) => Encoding.UTF8.GetBytes(Event.Replace(from, to, StringComparison.Ordinal));

    [Fact]
    public async Task The_unchanged_event_is_processed()
    {
        using var output = await Handle(Encoding.UTF8.GetBytes(Event));
        Assert.True(output.Length > 0);
    }

    [Theory]
    [InlineData("\"Records\":[{\"kinesis\":{", "\"Records\":[{\"kinesis\":null,\"x\":{", "record 0 has no 'kinesis'")]
    [InlineData("\"sequenceNumber\":\"49590338271490256608559692538361571095921575989136588898\",", "", "record 0 has no 'kinesis.sequenceNumber'")]
    [InlineData("\"Records\":[{", "\"Records\":[null,{", "record 0 is null")]
    public async Task A_record_without_its_kinesis_part_is_an_event_error_naming_the_record(string from, string to, string expected)
    {
        var ex = await Assert.ThrowsAsync<AggregatorEventException>(() => Handle(With(from, to)));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Records_null_is_an_event_error()
    {
        byte[] json = Encoding.UTF8.GetBytes(Event[..Event.IndexOf("\"Records\"", StringComparison.Ordinal)] + "\"Records\":null," + Event[(Event.IndexOf("\"window\"", StringComparison.Ordinal))..]);
        var ex = await Assert.ThrowsAsync<AggregatorEventException>(() => Handle(json));
        Assert.Contains("'Records'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1e30")]
    [InlineData("1e300")]
    [InlineData("-1e20")]
    [InlineData("\"99999999999999999999999\"")]
    public async Task An_arrival_timestamp_out_of_range_is_a_json_error(string value)
    {
        var ex = await Assert.ThrowsAsync<JsonException>(() => Handle(With("1607497475.000", value)));
        Assert.Contains("epoch seconds", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"shardId\":\"shardId-000000000006\"")]
    [InlineData("\"partitionKey\":\"1\"")]
    [InlineData("\"sequenceNumber\":\"49590338271490256608559692538361571095921575989136588898\"")]
    [InlineData("\"start\":\"2020-12-09T07:04:00Z\"")]
    [InlineData("\"data\":\"eyJ1c2VySWQiOiJ1LTEiLCJhbW91bnQiOjF9\"")]
    public async Task A_string_that_is_not_utf8_is_a_json_error(string property)
    {
        byte[] json = With(property, property[..^1] + "\u00e9\"");
        int at = Array.IndexOf(json, (byte)0xC3);
        json[at] = 0xFF; // a lone byte that is not UTF-8, at the end of the string value
        await Assert.ThrowsAsync<JsonException>(() => Handle(json));
    }

    [Fact]
    public async Task A_user_record_that_is_not_utf8_fails_its_record_not_the_invoke()
    {
        // A KPL aggregate (valid MD5) whose one user record holds "/p/" + E1 BE 34: not UTF-8 (fuzzing input #3633, seed 20261207).
        byte[] json = With("eyJ1c2VySWQiOiJ1LTEiLCJhbW91bnQiOjF9", "84mawgoGdXNlci0xGjsIABo3eyJ1c2VySWQiOiJ1c2VyLTEiLCJwYWdlIjoiL3Av4b40MSIsImFtb3VudCI6OTE3LjUsIm4iOjB9b3RRZz5brE8Rx9qijz8FnA==");

        using var output = await Handle(json);

        var response = JsonSerializer.Deserialize(output, Cloud.Consumer.Events.KinesisEventsJsonContext.Default.KinesisTimeWindowResponse)!;
        Assert.Equal("49590338271490256608559692538361571095921575989136588898", Assert.Single(response.BatchItemFailures).ItemIdentifier);
    }
}
