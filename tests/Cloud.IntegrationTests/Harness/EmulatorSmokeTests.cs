using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Cloud.Testing;

namespace Cloud.IntegrationTests.Harness;

/// <summary>Proves the shared stack answers real API calls on both emulators.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class EmulatorSmokeTests(EmulatorFixture fixture)
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false });

    [Fact]
    public void Endpoints_are_loopback_http()
    {
        if (fixture.Host.IsKinesisExternal)
        {
            return; // an external endpoint (CLOUD_KINESIS_ENDPOINT) may live anywhere the user chose
        }

        Assert.Equal("127.0.0.1", fixture.KinesisEndpoint.Host);
        Assert.Equal("127.0.0.1", fixture.DynamoDbEndpoint.Host);
        Assert.NotEqual(fixture.KinesisEndpoint.Port, fixture.DynamoDbEndpoint.Port);
    }

    [Fact]
    public async Task Dynalite_creates_a_table_and_round_trips_an_item()
    {
        using var dynamo = fixture.CreateDynamoDbClient();
        var table = EmulatorFixture.UniqueName("smoke");
        await dynamo.CreateTableAsync(new CreateTableRequest
        {
            TableName = table,
            AttributeDefinitions = [new AttributeDefinition("pk", ScalarAttributeType.S)],
            KeySchema = [new KeySchemaElement("pk", KeyType.HASH)],
            BillingMode = BillingMode.PAY_PER_REQUEST,
        });

        // dynalite answers CREATING even with zero delay: poll DescribeTable.
        for (var i = 0; i < 100; i++)
        {
            var described = await dynamo.DescribeTableAsync(table);
            if (described.Table.TableStatus == TableStatus.ACTIVE)
            {
                break;
            }

            await Task.Delay(50);
        }

        await dynamo.PutItemAsync(table, new Dictionary<string, AttributeValue>
        {
            ["pk"] = new() { S = "user-1" },
            ["n"] = new() { N = "42" },
        });
        var item = await dynamo.GetItemAsync(table, new Dictionary<string, AttributeValue> { ["pk"] = new() { S = "user-1" } });

        Assert.Equal("42", item.Item["n"].N);
        var tables = await dynamo.ListTablesAsync();
        Assert.Contains(table, tables.TableNames);
    }

    [Fact]
    public async Task Kinesis_answers_raw_json_1_1_calls()
    {
        var stream = EmulatorFixture.UniqueName("smoke");
        using var created = await PostKinesisAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":1}""");
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);

        using var listed = await PostKinesisAsync("ListStreams", """{"Limit":10000}""");
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        using var json = JsonDocument.Parse(await listed.Content.ReadAsStringAsync());
        var names = json.RootElement.GetProperty("StreamNames").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains(stream, names);

        // A wrong call gets a typed error body, not a connection failure.
        using var missing = await PostKinesisAsync("DescribeStreamSummary", """{"StreamName":"does-not-exist-0"}""");
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("ResourceNotFoundException", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_fixture_kinesis_client_talks_to_the_emulator()
    {
        using var client = fixture.CreateKinesisClient();
        var stream = EmulatorFixture.UniqueName("smoke");

        await client.CreateStreamAsync(new Amazon.Kinesis.Model.CreateStreamRequest { StreamName = stream, ShardCount = 1 });
        var summary = await client.DescribeStreamSummaryAsync(new Amazon.Kinesis.Model.DescribeStreamSummaryRequest { StreamName = stream });

        Assert.Equal(stream, summary.StreamDescriptionSummary.StreamName);
    }

    [Fact]
    public async Task Node_peers_are_installed_and_resolvable()
    {
        var result = await fixture.Tools.RunInlineAsync(
            "const agg = require('aws-kinesis-agg'); const k = require('@aws-sdk/client-kinesis');" +
            "console.log(typeof agg.aggregate, typeof k.KinesisClient)");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("function function", result.StandardOutput.Trim());
        Assert.True(File.Exists(fixture.Tools.CdkCliPath), fixture.Tools.CdkCliPath);
    }

    private async Task<HttpResponseMessage> PostKinesisAsync(string operation, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, fixture.KinesisEndpoint)
        {
            Content = new StringContent(body, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "Kinesis_20131202." + operation);
        request.Headers.TryAddWithoutValidation("X-Amz-Date", "20260101T000000Z");
        // Unsigned in substance: the emulators need a well-formed SigV4 header but never verify it.
        request.Headers.TryAddWithoutValidation(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + new string('0', 64));
        return await Http.SendAsync(request);
    }
}
