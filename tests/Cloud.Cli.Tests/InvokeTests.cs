using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cloud.Cli.Infrastructure;
using Cloud.Cli.Tests.Infrastructure;
using Cloud.Functions.Aggregator;
using Cloud.Testing;

namespace Cloud.Cli.Tests;

/// <summary><c>cloud invoke aggregator|forget --event FILE</c>: the functions run in process on an event file.</summary>
[Collection(CliCollection.Name)]
public sealed class InvokeTests(EmulatorFixture fixture) : IDisposable
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures");
    private readonly CliSandbox _sandbox = new(fixture);

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Aggregator_carries_window_state_and_writes_the_final_aggregates()
    {
        var table = EmulatorFixture.UniqueName("cli-aggregates");
        _sandbox.Cli.SetEnvironment("AGGREGATES_TABLE", table);
        var eventFile = Path.Combine(Fixtures, "aggregator-window-event.json");

        // 1. A mid-window invoke: no failures, the window's state comes back for the next invoke.
        var first = await _sandbox.OnEmulatorsAsync("invoke", "aggregator", "--event", eventFile);

        CliAssert.Succeeded(first);
        var response = first.Json();
        Assert.Empty(response.GetProperty("batchItemFailures").EnumerateArray());
        Assert.NotEmpty(response.GetProperty("state").EnumerateObject());

        // 2. The final invoke of the window, as Lambda sends it: no records, the state of step 1.
        var final = JsonNode.Parse(File.ReadAllText(eventFile))!.AsObject();
        final["Records"] = new JsonArray();
        final["state"] = JsonNode.Parse(response.GetProperty("state").GetRawText());
        final["isFinalInvokeForWindow"] = true;
        var second = await _sandbox.OnEmulatorsAsync("invoke", "aggregator", "--event", _sandbox.WriteFile("final.json", final.ToJsonString()));

        CliAssert.Succeeded(second);
        Assert.Empty(second.Json().GetProperty("batchItemFailures").EnumerateArray());

        // 3. The aggregates table holds what the fixture's records add up to.
        var expected = ExpectedAggregates(eventFile);
        using var dynamo = fixture.CreateDynamoDbClient();
        var stored = (await AggregatesTable.ScanAsync(dynamo, table)).ToDictionary(r => r.Key);
        Assert.Equal(expected.Keys.Order(), stored.Keys.Order());
        foreach (var (user, (count, amount, pages)) in expected)
        {
            var item = stored[user];
            Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), item.WindowStart);
            Assert.Equal(count, item.Count);
            if (amount is { } sum)
            {
                Assert.Equal(sum, item.Fields["amount"].Sum);
            }

            Assert.Equal(pages.OrderBy(p => p.Key), item.Top.ToDictionary().OrderBy(p => p.Key));
        }
    }

    [Fact]
    public async Task Forget_function_handles_requests_and_reports_bad_records_as_item_failures()
    {
        var user = "erin-" + Guid.NewGuid().ToString("N")[..8];
        var evt = KinesisEvent(
            ("4959000000000000000000000000000000000000000000000000001", JsonSerializer.Serialize(new { userId = user, requestedAt = "2026-01-01T00:00:00Z" })),
            ("4959000000000000000000000000000000000000000000000000002", "this is not a forget request"));

        var result = await _sandbox.OnEmulatorsAsync("invoke", "forget", "--event", _sandbox.WriteFile("forget-event.json", evt), "--master-key-file", Path.Combine(_sandbox.Directory, "master.key"));

        CliAssert.Succeeded(result);
        var failures = result.Json().GetProperty("batchItemFailures").EnumerateArray().Select(f => f.GetProperty("itemIdentifier").GetString()).ToList();
        Assert.Equal(["4959000000000000000000000000000000000000000000000000002"], failures);

        // The user is now forgotten: forgetting again reports it as already done, not as a new erase.
        var again = await _sandbox.OnEmulatorsAsync("forget", user, "--json", "--master-key-file", Path.Combine(_sandbox.Directory, "master.key"));
        CliAssert.Succeeded(again);
        Assert.Equal(user, again.Json().GetProperty("userId").GetString());
        Assert.Equal("AlreadyForgotten", again.Json().GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task An_event_with_foreign_window_state_is_invalid_input()
    {
        // AWS's documented sample carries state {"1":282,"2":715}, which this Aggregator never wrote.
        var result = await _sandbox.OnEmulatorsAsync("invoke", "aggregator", "--event", Path.Combine(Fixtures, "aws-timewindow-event.json"));

        CliAssert.Failed(result, ExitCodes.InvalidInput, "state");
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task An_event_file_that_is_not_json_is_invalid_input()
    {
        var result = await _sandbox.OnEmulatorsAsync("invoke", "aggregator", "--event", _sandbox.WriteFile("broken.json", "{\"Records\": [ {\"kinesis\": "));

        CliAssert.Failed(result, ExitCodes.InvalidInput, "JSON");
        Assert.DoesNotContain("LineNumber", result.Stderr);
    }

    [Fact]
    public async Task A_missing_event_file_is_not_found()
    {
        var result = await _sandbox.OnEmulatorsAsync("invoke", "aggregator", "--event", "no-such-event.json");

        CliAssert.Failed(result, ExitCodes.NotFound, "no-such-event.json");
    }

    private static Dictionary<string, (long Count, decimal? Amount, Dictionary<string, long> Pages)> ExpectedAggregates(string eventFile)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(eventFile));
        var events = doc.RootElement.GetProperty("Records").EnumerateArray()
            .Select(r => JsonNode.Parse(Convert.FromBase64String(r.GetProperty("kinesis").GetProperty("data").GetString()!))!.AsObject())
            .ToList();
        return events.GroupBy(e => e["userId"]!.GetValue<string>()).ToDictionary(
            g => g.Key,
            g => (
                (long)g.Count(),
                g.Any(e => e["amount"] is not null) ? g.Where(e => e["amount"] is not null).Sum(e => decimal.Parse(e["amount"]!.ToJsonString(), CultureInfo.InvariantCulture)) : (decimal?)null,
                g.Where(e => e["page"] is not null).GroupBy(e => e["page"]!.GetValue<string>()).ToDictionary(p => p.Key, p => (long)p.Count())));
    }

    private static string KinesisEvent(params (string Sequence, string Data)[] records) => new JsonObject
    {
        ["Records"] = new JsonArray(records.Select(r => (JsonNode)new JsonObject
        {
            ["kinesis"] = new JsonObject
            {
                ["kinesisSchemaVersion"] = "1.0",
                ["partitionKey"] = "forget",
                ["sequenceNumber"] = r.Sequence,
                ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(r.Data)),
                ["approximateArrivalTimestamp"] = 1767225600.0,
            },
            ["eventSource"] = "aws:kinesis",
            ["eventVersion"] = "1.0",
            ["eventID"] = "shardId-000000000000:" + r.Sequence,
            ["eventName"] = "aws:kinesis:record",
            ["invokeIdentityArn"] = "arn:aws:iam::123456789012:role/forget",
            ["awsRegion"] = "us-east-1",
            ["eventSourceARN"] = "arn:aws:kinesis:us-east-1:123456789012:stream/forget-requests",
        }).ToArray()),
    }.ToJsonString();
}
