using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cloud.Cli.Infrastructure;
using Cloud.Cli.Tests.Infrastructure;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Testing;

namespace Cloud.Cli.Tests;

/// <summary><c>cloud produce</c> (JSON lines on stdin) then <c>cloud consume</c> (one JSON line per user record).</summary>
[Collection(CliCollection.Name)]
public sealed class ProduceConsumeTests(EmulatorFixture fixture) : IDisposable
{
    private static readonly string[] UserRecordFields = ["partitionKey", "data", "shardId", "sequenceNumber", "subSequenceNumber"];
    private readonly CliSandbox _sandbox = new(fixture);

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Produce_with_key_field_then_consume_from_beginning_round_trips_every_line()
    {
        var stream = await _sandbox.CreateStreamAsync("cli-keys", 2);
        var lines = Events(30);

        var produced = await _sandbox.OnEmulatorsWithInputAsync(string.Join('\n', lines) + "\n", "produce", stream, "--key-field", "userId", "--json");

        CliAssert.Succeeded(produced);
        var summary = produced.Json();
        Assert.Equal(stream, summary.GetProperty("stream").GetString());
        Assert.Equal(30, summary.GetProperty("sent").GetInt64());
        Assert.Equal(30, summary.GetProperty("durable").GetInt64());
        Assert.Equal(0, summary.GetProperty("failed").GetInt64());
        Assert.Equal(0, summary.GetProperty("rejected").GetInt64());
        Assert.Equal(30, summary.GetProperty("shards").EnumerateObject().Sum(s => s.Value.GetInt64()));

        var consumed = await _sandbox.OnEmulatorsAsync("consume", stream, "--from-beginning", "--max", "30");

        CliAssert.Succeeded(consumed);
        var records = consumed.JsonLines();
        Assert.Equal(30, records.Count);
        var shards = await ShardRangesAsync(stream);
        foreach (var record in records)
        {
            foreach (var field in UserRecordFields)
            {
                Assert.True(record.TryGetProperty(field, out _), $"'{field}' missing in {record}");
            }

            var data = Encoding.UTF8.GetString(record.GetProperty("data").GetBytesFromBase64());
            using var doc = JsonDocument.Parse(data);
            var key = record.GetProperty("partitionKey").GetString()!;
            Assert.Equal(doc.RootElement.GetProperty("userId").GetString(), key);
            Assert.True(BigInteger.TryParse(record.GetProperty("sequenceNumber").GetString(), out _));
            Assert.True(record.GetProperty("subSequenceNumber").GetInt64() >= 0);

            // The record sits in the shard whose hash range holds MD5(partition key).
            var shard = record.GetProperty("shardId").GetString()!;
#pragma warning disable CA5351 // Kinesis defines shard routing as the MD5 of the partition key
            var hash = new BigInteger(MD5.HashData(Encoding.UTF8.GetBytes(key)), isUnsigned: true, isBigEndian: true);
#pragma warning restore CA5351
            Assert.True(hash >= shards[shard].Start && hash <= shards[shard].End, $"key {key} (hash {hash}) is not in {shard}");
        }

        Assert.Equal(lines.Order(StringComparer.Ordinal), records.Select(r => Encoding.UTF8.GetString(r.GetProperty("data").GetBytesFromBase64())).Order(StringComparer.Ordinal));
        Assert.Equal(2, records.Select(r => r.GetProperty("shardId").GetString()).Distinct().Count());

        // Per key, the order of the input is kept.
        foreach (var user in records.GroupBy(r => r.GetProperty("partitionKey").GetString()))
        {
            var seen = user.Select(r => JsonDocument.Parse(r.GetProperty("data").GetBytesFromBase64()).RootElement.GetProperty("seq").GetInt32()).ToList();
            Assert.Equal(seen.Order(), seen);
        }
    }

    [Fact]
    public async Task Produce_reports_hot_keys_as_pseudonyms_unless_raw_keys_are_asked_for()
    {
        var stream = await _sandbox.CreateStreamAsync("cli-hot", 1);
        var lines = Enumerable.Range(0, 40).Select(i => $"{{\"userId\":\"{(i % 4 == 0 ? "alice@example.com" : $"user-{i}")}\",\"n\":{i}}}").ToList();
        var input = string.Join('\n', lines) + "\n";

        var hidden = await _sandbox.OnEmulatorsWithInputAsync(input, "produce", stream, "--key-field", "userId", "--json");
        CliAssert.Succeeded(hidden);
        Assert.DoesNotContain("alice", hidden.Stdout, StringComparison.Ordinal);
        var top = hidden.Json().GetProperty("hotKeys")[0];
        Assert.Matches("^k:[0-9a-f]{12}$", top.GetProperty("key").GetString());
        Assert.Equal(10, top.GetProperty("records").GetInt64());

        var raw = await _sandbox.OnEmulatorsWithInputAsync(input, "produce", stream, "--key-field", "userId", "--raw-hot-keys", "--json");
        CliAssert.Succeeded(raw);
        Assert.Equal("alice@example.com", raw.Json().GetProperty("hotKeys")[0].GetProperty("key").GetString());
    }

    [Fact]
    public async Task Consume_stops_at_max_or_when_every_shard_is_idle_at_its_tip()
    {
        var stream = await _sandbox.CreateStreamAsync("cli-max", 1);
        var produced = await _sandbox.OnEmulatorsWithInputAsync(string.Join('\n', Events(12)) + "\n", "produce", stream, "--json");
        CliAssert.Succeeded(produced);

        var five = await _sandbox.OnEmulatorsAsync("consume", stream, "--max", "5");
        var all = await _sandbox.OnEmulatorsAsync("consume", stream, "--idle-timeout", "1");

        CliAssert.Succeeded(five);
        Assert.Equal(5, five.StdoutLines.Count);
        CliAssert.Succeeded(all);
        Assert.Equal(12, all.StdoutLines.Count);
        // Without --key-field the producer balances explicit hash keys; the data is unchanged.
        Assert.Equal(Events(12).Order(StringComparer.Ordinal), all.JsonLines().Select(r => Encoding.UTF8.GetString(r.GetProperty("data").GetBytesFromBase64())).Order(StringComparer.Ordinal));
        Assert.Equal(all.StdoutLines.Take(5), five.StdoutLines);
    }

    [Fact]
    public async Task Consume_through_an_enhanced_fan_out_consumer_gives_the_same_records_as_polling()
    {
        var stream = await _sandbox.CreateStreamAsync("cli-efo", 2);
        var produced = await _sandbox.OnEmulatorsWithInputAsync(string.Join('\n', Events(20)) + "\n", "produce", stream, "--key-field", "userId", "--json");
        CliAssert.Succeeded(produced);

        var polled = await _sandbox.OnEmulatorsAsync("consume", stream, "--idle-timeout", "1");
        var pushed = await _sandbox.OnEmulatorsAsync("consume", stream, "--efo", "cli-efo-consumer", "--idle-timeout", "2");
        var limited = await _sandbox.OnEmulatorsAsync("consume", stream, "--efo", "cli-efo-consumer", "--max", "3");

        CliAssert.Succeeded(polled);
        CliAssert.Succeeded(pushed);
        Assert.Equal(20, pushed.StdoutLines.Count);
        Assert.Equal(polled.StdoutLines.Order(StringComparer.Ordinal), pushed.StdoutLines.Order(StringComparer.Ordinal));
        CliAssert.Succeeded(limited);
        Assert.Equal(3, limited.StdoutLines.Count);
    }

    [Fact]
    public async Task Consume_at_timestamp_starts_at_records_that_arrived_from_then_on()
    {
        var stream = await _sandbox.CreateStreamAsync("cli-at", 2);
        var events = Events(12);
        CliAssert.Succeeded(await _sandbox.OnEmulatorsWithInputAsync(string.Join('\n', events.Take(6)) + "\n", "produce", stream, "--key-field", "userId"));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var between = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        CliAssert.Succeeded(await _sandbox.OnEmulatorsWithInputAsync(string.Join('\n', events.Skip(6)) + "\n", "produce", stream, "--key-field", "userId"));

        var result = await _sandbox.OnEmulatorsAsync("consume", stream, "--at-timestamp", between.ToString("O", System.Globalization.CultureInfo.InvariantCulture), "--idle-timeout", "1");

        CliAssert.Succeeded(result);
        Assert.Equal(events.Skip(6).Order(StringComparer.Ordinal), result.JsonLines().Select(r => Encoding.UTF8.GetString(r.GetProperty("data").GetBytesFromBase64())).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("zstd", 0x02)]
    [InlineData("gzip", 0x01)]
    public async Task Produce_with_compression_stores_compressed_frames_and_consume_gives_the_data_back(string codec, byte codecId)
    {
        var stream = await _sandbox.CreateStreamAsync("cli-" + codec, 1);
        var lines = Events(25);

        var produced = await _sandbox.OnEmulatorsWithInputAsync(string.Join('\n', lines) + "\n", "produce", stream, "--key-field", "userId", "--compress", codec, "--json");
        var consumed = await _sandbox.OnEmulatorsAsync("consume", stream, "--from-beginning", "--max", "25");

        CliAssert.Succeeded(produced);
        CliAssert.Succeeded(consumed);
        Assert.Equal(lines.Order(StringComparer.Ordinal), consumed.JsonLines().Select(r => Encoding.UTF8.GetString(r.GetProperty("data").GetBytesFromBase64())).Order(StringComparer.Ordinal));

        // What is on the stream really is this project's compressed frame (docs/records.md: magic C1 4B 43 46, codec id at byte 5).
        var raw = await RawRecordsAsync(stream);
        Assert.NotEmpty(raw);
        Assert.All(raw, r =>
        {
            Assert.Equal(new byte[] { 0xC1, 0x4B, 0x43, 0x46 }, r.Data.ToArray()[..4]);
            Assert.Equal(codecId, r.Data.ToArray()[5]);
        });
    }

    [Fact]
    public async Task A_malformed_line_is_rejected_by_number_and_the_valid_lines_are_still_sent()
    {
        var stream = await _sandbox.CreateStreamAsync("cli-bad", 1);
        var good = Events(6);
        var input = new[] { good[0], good[1], "{\"userId\": \"u-x\", oops}", good[2], "[1,2,3]", "", good[3], "{\"noUser\":true}", good[4], "{\"userId\":\"u-1\"} trailing", good[5] };

        var produced = await _sandbox.OnEmulatorsWithInputAsync(string.Join('\n', input) + "\n", "produce", stream, "--key-field", "userId", "--json");

        CliAssert.Failed(produced, ExitCodes.InvalidInput, "line 3", "line 5", "line 8", "line 10");
        Assert.DoesNotContain("LineNumber", produced.Stderr);
        var summary = produced.Json();
        Assert.Equal(6, summary.GetProperty("durable").GetInt64());
        Assert.Equal(4, summary.GetProperty("rejected").GetInt64());
        Assert.Equal(0, summary.GetProperty("failed").GetInt64());

        var consumed = await _sandbox.OnEmulatorsAsync("consume", stream, "--idle-timeout", "1");
        CliAssert.Succeeded(consumed);
        Assert.Equal(good.Order(StringComparer.Ordinal), consumed.JsonLines().Select(r => Encoding.UTF8.GetString(r.GetProperty("data").GetBytesFromBase64())).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Sync_produce_reports_each_record_where_it_landed()
    {
        var stream = await _sandbox.CreateStreamAsync("cli-sync", 2);
        var lines = Events(4);

        var produced = await _sandbox.OnEmulatorsWithInputAsync(string.Join('\n', lines) + "\n", "produce", stream, "--key-field", "userId", "--sync", "--json");

        CliAssert.Succeeded(produced);
        var reports = produced.JsonLines();
        Assert.Equal(5, reports.Count); // one per record, then the summary
        Assert.Equal([1, 2, 3, 4], reports.Take(4).Select(r => r.GetProperty("record").GetInt32()));
        var consumed = (await _sandbox.OnEmulatorsAsync("consume", stream, "--max", "4")).JsonLines();
        foreach (var report in reports.Take(4))
        {
            var match = consumed.Single(c => c.GetProperty("sequenceNumber").GetString() == report.GetProperty("sequenceNumber").GetString());
            Assert.Equal(report.GetProperty("shardId").GetString(), match.GetProperty("shardId").GetString());
            Assert.Equal(lines[report.GetProperty("record").GetInt32() - 1], Encoding.UTF8.GetString(match.GetProperty("data").GetBytesFromBase64()));
        }
    }

    [Theory]
    [InlineData("produce")]
    [InlineData("consume")]
    [InlineData("lag")]
    public async Task An_unknown_stream_is_not_found(string verb)
    {
        var stream = EmulatorFixture.UniqueName("cli-nope");

        var result = verb == "produce"
            ? await _sandbox.OnEmulatorsWithInputAsync(Events(1)[0] + "\n", verb, stream)
            : await _sandbox.OnEmulatorsAsync(verb, stream);

        CliAssert.Failed(result, ExitCodes.NotFound, stream);
        Assert.Empty(result.Stdout);
    }

    [Theory]
    [InlineData("produce")]
    [InlineData("consume")]
    [InlineData("lag")]
    [InlineData("forget")]
    public async Task A_bad_endpoint_is_unreachable_and_fails_fast(string verb)
    {
        string[] args = [verb, verb == "forget" ? "user-1" : "orders", "--endpoint", "http://127.0.0.1:1", "--dynamodb-endpoint", "http://127.0.0.1:1"];

        var result = verb == "produce" ? await _sandbox.Cli.RunAsync(args, Events(1)[0] + "\n") : await _sandbox.RunAsync(args);

        CliAssert.Failed(result, ExitCodes.Unreachable, "127.0.0.1:1");
        Assert.Empty(result.Stdout);
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(20), $"a refused connection should not wait for record TTLs: {result.Elapsed}");
    }

    private static List<string> Events(int count) => Enumerable.Range(0, count)
        .Select(i => JsonSerializer.Serialize(new { userId = $"user-{i % 6}", seq = i, page = $"/p/{i % 4}", note = "ünïcødé ✓ \"quoted\"" }))
        .ToList();

    private async Task<Dictionary<string, (BigInteger Start, BigInteger End)>> ShardRangesAsync(string stream)
    {
        var described = await _sandbox.OnEmulatorsAsync("streams", "describe", stream, "--json");
        CliAssert.Succeeded(described);
        return described.Json().GetProperty("shards").EnumerateArray().ToDictionary(
            s => s.GetProperty("shardId").GetString()!,
            s => (BigInteger.Parse(s.GetProperty("startingHashKey").GetString()!), BigInteger.Parse(s.GetProperty("endingHashKey").GetString()!)));
    }

    private async Task<List<Amazon.Kinesis.Model.Record>> RawRecordsAsync(string stream)
    {
        using var kinesis = fixture.CreateKinesisClient();
        var records = new List<Amazon.Kinesis.Model.Record>();
        var shards = await kinesis.ListShardsAsync(new ListShardsRequest { StreamName = stream });
        foreach (var shard in shards.Shards)
        {
            var iterator = (await kinesis.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = stream, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.TRIM_HORIZON })).ShardIterator;
            for (var pages = 0; iterator is not null && pages < 20; pages++)
            {
                var page = await kinesis.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 1000 });
                records.AddRange(page.Records);
                iterator = page.MillisBehindLatest is 0 or null ? null : page.NextShardIterator;
            }
        }

        return records;
    }
}
