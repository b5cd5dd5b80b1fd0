using Cloud.Cli.Infrastructure;
using Cloud.Cli.Tests.Infrastructure;
using Cloud.Schemas.Tests;
using Cloud.Testing;

namespace Cloud.Cli.Tests;

/// <summary><c>cloud schemas register|list|describe|check</c> on the local registry (dynalite) and on a fake AWS Glue.</summary>
[Collection(CliCollection.Name)]
public sealed class SchemasTests(EmulatorFixture fixture) : IDisposable
{
    private const string StockV1 = """
        {"type": "record", "name": "stock.price_change", "namespace": "com.udacity",
         "fields": [{"name": "ticker", "type": "string"}, {"name": "prev_price", "type": "int"},
                    {"name": "price", "type": "int"}, {"name": "cause", "type": ["null", "string"]}]}
        """;

    private const string StockV2 = """
        {"type": "record", "name": "stock.price_change", "namespace": "com.udacity",
         "fields": [{"name": "ticker", "type": "string"}, {"name": "prev_price", "type": "long"},
                    {"name": "price", "type": "int"}, {"name": "cause", "type": ["null", "string"]},
                    {"name": "exchange", "type": ["null", "string"], "default": null}]}
        """;

    private const string StockBad = """
        {"type": "record", "name": "stock.price_change", "namespace": "com.udacity",
         "fields": [{"name": "ticker", "type": "string"}, {"name": "price", "type": "int"}, {"name": "volume", "type": "long"}]}
        """;

    private readonly CliSandbox _sandbox = new(fixture);

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Register_list_describe_and_check_on_the_local_registry()
    {
        string name = EmulatorFixture.UniqueName("stock");
        string v1 = _sandbox.WriteFile("v1.avsc", StockV1);
        string v2 = _sandbox.WriteFile("v2.avsc", StockV2);
        string bad = _sandbox.WriteFile("bad.avsc", StockBad);

        CliResult first = await _sandbox.OnEmulatorsAsync("schemas", "register", name, "--file", v1, "--json");
        CliAssert.Succeeded(first);
        Assert.Equal(1, first.Json().GetProperty("versionNumber").GetInt32());
        Assert.True(first.Json().GetProperty("created").GetBoolean());
        string v1Id = first.Json().GetProperty("versionId").GetString()!;

        CliResult again = await _sandbox.OnEmulatorsAsync("schemas", "register", name, "--file", v1, "--json");
        CliAssert.Succeeded(again);
        Assert.False(again.Json().GetProperty("created").GetBoolean());
        Assert.Equal(v1Id, again.Json().GetProperty("versionId").GetString());

        CliResult compatible = await _sandbox.OnEmulatorsAsync("schemas", "check", name, "--file", v2);
        CliAssert.Succeeded(compatible);
        Assert.StartsWith("Compatible (BACKWARD", compatible.Stdout, StringComparison.Ordinal);

        CliResult incompatible = await _sandbox.OnEmulatorsAsync("schemas", "check", name, "--file", bad, "--json");
        CliAssert.Failed(incompatible, ExitCodes.InvalidInput, "not BACKWARD compatible");
        var reason = Assert.Single(incompatible.Json().GetProperty("reasons").EnumerateArray());
        Assert.Equal("$.volume", reason.GetProperty("path").GetString());
        Assert.Equal("READER_FIELD_MISSING_DEFAULT_VALUE", reason.GetProperty("rule").GetString());
        Assert.Equal(1, reason.GetProperty("againstVersion").GetInt32());

        CliResult second = await _sandbox.OnEmulatorsAsync("schemas", "register", name, "--file", v2, "--compatibility", "BACKWARD_ALL");
        CliAssert.Succeeded(second);
        Assert.Contains("version 2", second.Stdout, StringComparison.Ordinal);

        CliResult refused = await _sandbox.OnEmulatorsAsync("schemas", "register", name, "--file", bad);
        CliAssert.Failed(refused, ExitCodes.InvalidInput, "not BACKWARD_ALL compatible");
        Assert.Contains("$.volume READER_FIELD_MISSING_DEFAULT_VALUE", refused.Stdout, StringComparison.Ordinal);

        CliResult listed = await _sandbox.OnEmulatorsAsync("schemas", "list", "--json");
        CliAssert.Succeeded(listed);
        var entry = Assert.Single(listed.Json().GetProperty("schemas").EnumerateArray(), s => s.GetProperty("schemaName").GetString() == name);
        Assert.Equal(("AVRO", "BACKWARD_ALL", 2), (entry.GetProperty("format").GetString(), entry.GetProperty("compatibility").GetString(), entry.GetProperty("latestVersion").GetInt32()));

        CliResult described = await _sandbox.OnEmulatorsAsync("schemas", "describe", name, "--version", "1", "--json");
        CliAssert.Succeeded(described);
        var version = described.Json().GetProperty("version");
        Assert.Equal(v1Id, version.GetProperty("versionId").GetString());
        Assert.Contains("prev_price", version.GetProperty("definition").GetString(), StringComparison.Ordinal);

        CliResult human = await _sandbox.OnEmulatorsAsync("schemas", "describe", name);
        CliAssert.Succeeded(human);
        Assert.Contains("Compatibility: BACKWARD_ALL", human.Stdout, StringComparison.Ordinal);
        Assert.Contains("exchange", human.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_input_gets_a_clear_message_and_exit_code()
    {
        string name = EmulatorFixture.UniqueName("bad");
        string malformed = _sandbox.WriteFile("broken.avsc", """{"type":"record","name":"x","fields":[{"name":"a","type":"nosuch"}]}""");
        string notJson = _sandbox.WriteFile("not.json", "{\"type\":");
        string v1 = _sandbox.WriteFile("v1.avsc", StockV1);

        CliAssert.Failed(await _sandbox.OnEmulatorsAsync("schemas", "register", name, "--file", malformed), ExitCodes.InvalidInput, "Invalid AVRO schema");
        CliAssert.Failed(await _sandbox.OnEmulatorsAsync("schemas", "register", name, "--file", notJson, "--format", "json"), ExitCodes.InvalidInput, "Invalid JSON schema");
        CliAssert.Failed(await _sandbox.OnEmulatorsAsync("schemas", "describe", name), ExitCodes.NotFound, name, "not registered");
        CliAssert.Failed(await _sandbox.OnEmulatorsAsync("schemas", "check", name, "--file", v1), ExitCodes.NotFound, "not registered");
        CliAssert.Failed(await _sandbox.OnEmulatorsAsync("schemas", "register", name, "--file", "no-such-file.avsc"), ExitCodes.NotFound, "does not exist");
        CliAssert.Failed(await _sandbox.OnEmulatorsAsync("schemas", "list", "--registry", "consul"), ExitCodes.Usage, "--registry");
        CliAssert.Failed(await _sandbox.OnEmulatorsAsync("schemas", "register", name, "--file", v1, "--compatibility", "SIDEWAYS"), ExitCodes.Usage, "--compatibility");
        CliAssert.Failed(await _sandbox.OnEmulatorsAsync("schemas", "describe", name, "--version", "0"), ExitCodes.Usage, "--version");

        CliAssert.Succeeded(await _sandbox.OnEmulatorsAsync("schemas", "register", name, "--file", v1));
        CliAssert.Failed(await _sandbox.OnEmulatorsAsync("schemas", "describe", name, "--version", "7"), ExitCodes.NotFound, "no version 7");
    }

    [Fact]
    public async Task Glue_registry_through_its_endpoint()
    {
        await using var glue = new FakeGlueServer();
        string v1 = _sandbox.WriteFile("v1.avsc", StockV1);
        string v2 = _sandbox.WriteFile("v2.avsc", StockV2);
        string[] target = ["--registry", "glue:reg", "--glue-endpoint", glue.Endpoint.ToString()];

        CliResult first = await _sandbox.RunAsync(["schemas", "register", "stock", "--file", v1, "--json", .. target]);
        CliAssert.Succeeded(first);
        Assert.Equal(1, first.Json().GetProperty("versionNumber").GetInt32());
        CliResult second = await _sandbox.RunAsync(["schemas", "register", "stock", "--file", v2, "--json", .. target]);
        CliAssert.Succeeded(second);
        Assert.Equal(2, second.Json().GetProperty("versionNumber").GetInt32());

        CliResult listed = await _sandbox.RunAsync(["schemas", "list", "--json", .. target]);
        CliAssert.Succeeded(listed);
        var schema = Assert.Single(listed.Json().GetProperty("schemas").EnumerateArray());
        Assert.Equal("arn:aws:glue:us-east-1:123456789012:schema/reg/stock", schema.GetProperty("schemaArn").GetString());

        CliAssert.Failed(await _sandbox.RunAsync(["schemas", "describe", "other", .. target]), ExitCodes.NotFound, "not registered");
        Assert.All(glue.Calls, c => Assert.Contains("/us-east-1/glue/aws4_request", c.Authorization, StringComparison.Ordinal));
        Assert.Contains(glue.Calls, c => c.Target == "AWSGlue.CreateSchema");
        Assert.Contains(glue.Calls, c => c.Target == "AWSGlue.RegisterSchemaVersion");
    }
}

/// <summary><c>cloud produce --schema</c> and <c>cloud consume</c> of GSR records on the local stack.</summary>
[Collection(CliCollection.Name)]
public sealed class SchemaProduceConsumeTests(EmulatorFixture fixture) : IDisposable
{
    private const string Avsc = """
        {"type":"record","name":"Click","namespace":"cloud","fields":[
          {"name":"userId","type":"string"},{"name":"page","type":"string"},{"name":"amount","type":"double","default":0}]}
        """;

    private readonly CliSandbox _sandbox = new(fixture);

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Produce_validates_and_encodes_and_consume_shows_the_decoded_json_with_schema_and_version()
    {
        string schema = EmulatorFixture.UniqueName("clicks");
        CliAssert.Succeeded(await _sandbox.OnEmulatorsAsync("schemas", "register", schema, "--file", _sandbox.WriteFile("click.avsc", Avsc)));
        string stream = await _sandbox.CreateStreamAsync("cli-gsr", 1);
        string[] lines =
        [
            """{"userId":"u1","page":"/a","amount":2.5}""",
            """{"userId":"u2","page":42}""",
            """{"userId":"u3","page":"/c"}""",
        ];

        CliResult produced = await _sandbox.OnEmulatorsWithInputAsync(string.Join('\n', lines) + "\n", "produce", stream, "--key-field", "userId", "--schema", schema, "--json");
        Assert.Equal(ExitCodes.InvalidInput, produced.ExitCode);
        Assert.Contains("line 2", produced.Stderr, StringComparison.Ordinal);
        Assert.Contains("$.page", produced.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("42", produced.Stderr, StringComparison.Ordinal);
        CliAssert.NoStackTrace(produced);

        CliResult consumed = await _sandbox.OnEmulatorsAsync("consume", stream, "--from-beginning", "--max", "2");
        CliAssert.Succeeded(consumed);
        var records = consumed.JsonLines();
        Assert.Equal(2, records.Count);
        Assert.All(records, r => Assert.Equal(schema, r.GetProperty("schemaName").GetString()));
        Assert.All(records, r => Assert.Equal(1, r.GetProperty("schemaVersion").GetInt32()));
        Assert.Equal(["u1", "u3"], records.Select(r => r.GetProperty("data").GetProperty("userId").GetString()).Order());
        Assert.Contains(records, r => r.GetProperty("data").GetProperty("amount").GetDouble() == 0); // the default filled in

        CliAssert.Failed(await _sandbox.OnEmulatorsWithInputAsync("{}\n", "produce", stream, "--schema", "no-such-schema"), ExitCodes.NotFound, "not registered");
    }
}

/// <summary>
/// <c>cloud pipeline --schema-format</c>: the main job's events in the GSR format, aggregated by the Aggregator.
/// Every pipeline run creates data keys for the same generated users in the shared emulator's key table, wrapped by
/// its sandbox's own master key; the table is dropped before and after each run so runs (and PipelineTests) do not
/// meet keys they cannot unwrap.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class SchemaPipelineTests(EmulatorFixture fixture) : IDisposable
{
    private readonly CliSandbox _sandbox = new(fixture);

    public void Dispose() => _sandbox.Dispose();

    private async Task DropKeyTableAsync()
    {
        using var dynamo = fixture.CreateDynamoDbClient();
        try
        {
            await dynamo.DeleteTableAsync(Cloud.Privacy.DynamoDbKeyStore.DefaultTableName);
        }
        catch (Amazon.DynamoDBv2.Model.ResourceNotFoundException)
        {
            return;
        }

        for (int i = 0; i < 100; i++)
        {
            try
            {
                await dynamo.DescribeTableAsync(Cloud.Privacy.DynamoDbKeyStore.DefaultTableName);
                await Task.Delay(100);
            }
            catch (Amazon.DynamoDBv2.Model.ResourceNotFoundException)
            {
                return;
            }
        }
    }

    [Theory]
    [InlineData(null, "AVRO")]
    [InlineData("json", "JSON")]
    public async Task Events_are_registered_encoded_and_aggregated(string? format, string expected)
    {
        string stream = EmulatorFixture.UniqueName("cli-schema-pipe");
        string[] args = ["pipeline", "--stream", stream, "--duration", "5", "--rate", "100", "--window-seconds", "1", "--json"];
        await DropKeyTableAsync();
        CliResult result;
        try
        {
            result = await _sandbox.OnEmulatorsAsync(format is null ? args : [.. args, "--schema-format", format]);
        }
        finally
        {
            await DropKeyTableAsync();
        }

        CliAssert.Succeeded(result);
        var summary = result.Json();
        var schema = summary.GetProperty("schema");
        Assert.Equal(expected, schema.GetProperty("format").GetString());
        Assert.StartsWith("cloud-clickstream-", schema.GetProperty("schemaName").GetString(), StringComparison.Ordinal);
        Assert.True(schema.GetProperty("schemaVersion").GetInt32() >= 1);
        Assert.True(summary.GetProperty("kinesisRecordsProcessed").GetInt64() > 0);
        Assert.True(summary.GetProperty("windowsClosed").GetInt64() > 0, "the Aggregator closed windows over the encoded events");
        Assert.Equal(0, summary.GetProperty("onFailureRecords").GetInt64());

        // What went over the stream is GSR: consume shows the decoded JSON with the schema's name.
        CliResult consumed = await _sandbox.OnEmulatorsAsync("consume", stream, "--from-beginning", "--max", "3", "--no-decrypt");
        CliAssert.Succeeded(consumed);
        Assert.All(consumed.JsonLines(), r => Assert.Equal(schema.GetProperty("schemaName").GetString(), r.GetProperty("schemaName").GetString()));
        Assert.All(consumed.JsonLines(), r => Assert.StartsWith("/", r.GetProperty("data").GetProperty("page").GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unknown_schema_format_is_a_usage_error() =>
        CliAssert.Failed(await _sandbox.OnEmulatorsAsync("pipeline", "--schema-format", "protobuf"), Cloud.Cli.Infrastructure.ExitCodes.Usage, "protobuf");
}
