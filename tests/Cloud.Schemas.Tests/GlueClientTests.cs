using System.Text.Json;
using Amazon.Runtime;
using Cloud.Schemas.Glue;
using Microsoft.Extensions.Time.Testing;

namespace Cloud.Schemas.Tests;

/// <summary>
/// The Glue JSON 1.1 client against a loopback fake: exact request shapes and headers as the Glue API reference
/// documents them (https://docs.aws.amazon.com/glue/latest/webapi/API_RegisterSchemaVersion.html etc.), parsing of
/// documented answers and errors, and the registry semantics on top.
/// </summary>
public class GlueClientTests
{
    private const string V1 = """{"type":"record","name":"Click","namespace":"cloud","fields":[{"name":"userId","type":"string"},{"name":"page","type":"string"}]}""";
    private const string V2 = """{"type":"record","name":"Click","namespace":"cloud","fields":[{"name":"userId","type":"string"},{"name":"page","type":"string"},{"name":"ref","type":["null","string"],"default":null}]}""";
    private const string V3Bad = """{"type":"record","name":"Click","namespace":"cloud","fields":[{"name":"userId","type":"string"},{"name":"page","type":"string"},{"name":"amount","type":"long"}]}""";

    private static (GlueClient Client, GlueSchemaRegistry Registry) Create(FakeGlueServer server)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 2, 0, 0, TimeSpan.Zero));
        var client = new GlueClient(new GlueClientOptions
        {
            Region = "us-east-1",
            ServiceUrl = server.Endpoint,
            Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            TimeProvider = time,
        });
        return (client, new GlueSchemaRegistry(client, "reg", time));
    }

    private static void AssertBody(string expected, JsonElement actual) =>
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(expected).RootElement, actual), $"expected {expected}\nactual   {actual.GetRawText()}");

    [Fact]
    public async Task Requests_have_the_documented_shapes_and_are_signed_for_glue()
    {
        await using var server = new FakeGlueServer();
        (GlueClient client, _) = Create(server);
        using (client)
        {
            await client.CreateRegistryAsync("reg", "d");
            string normalized = SchemaDefinitions.Normalize(SchemaFormat.Avro, V1);
            GlueSchemaVersionRef created = await client.CreateSchemaAsync("reg", "clicks", SchemaFormat.Avro, CompatibilityMode.BackwardAll, normalized);
            GlueSchemaVersionRef registered = await client.RegisterSchemaVersionAsync("reg", "clicks", V2);
            await client.GetSchemaVersionAsync(registered.VersionId);
            await client.GetSchemaVersionAsync("reg", "clicks", 1);
            await client.GetSchemaVersionAsync("reg", "clicks", null);
            await client.GetSchemaByDefinitionAsync("reg", "clicks", V2);
            await client.ListSchemaVersionsAsync("reg", "clicks");
            await client.UpdateSchemaAsync("reg", "clicks", CompatibilityMode.Full);
            Assert.Equal(1, created.VersionNumber);
            Assert.Equal(2, registered.VersionNumber);
            Assert.Equal("AVAILABLE", registered.Status);
        }

        IReadOnlyList<GlueCall> calls = server.Calls;
        Assert.Equal(
            ["AWSGlue.CreateRegistry", "AWSGlue.CreateSchema", "AWSGlue.RegisterSchemaVersion", "AWSGlue.GetSchemaVersion", "AWSGlue.GetSchemaVersion",
             "AWSGlue.GetSchemaVersion", "AWSGlue.GetSchemaByDefinition", "AWSGlue.ListSchemaVersions", "AWSGlue.UpdateSchema"],
            calls.Select(c => c.Target));
        foreach (GlueCall call in calls)
        {
            Assert.Equal("application/x-amz-json-1.1", call.ContentType);
            Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/us-east-1/glue/aws4_request, SignedHeaders=", call.Authorization, StringComparison.Ordinal);
            Assert.Contains("x-amz-target", call.Authorization, StringComparison.Ordinal);
            Assert.Equal("20261207T020000Z", call.AmzDate);
            Assert.Matches("^[0-9a-f]{64}$", call.ContentSha256);
        }

        string schemaId = """{"RegistryName":"reg","SchemaName":"clicks"}""";
        AssertBody("""{"RegistryName":"reg","Description":"d"}""", calls[0].Body);
        AssertBody($$"""{"RegistryId":{"RegistryName":"reg"},"SchemaName":"clicks","DataFormat":"AVRO","Compatibility":"BACKWARD_ALL","SchemaDefinition":{{JsonSerializer.Serialize(SchemaDefinitions.Normalize(SchemaFormat.Avro, V1))}}}""", calls[1].Body);
        AssertBody($$"""{"SchemaId":{{schemaId}},"SchemaDefinition":{{JsonSerializer.Serialize(V2)}}}""", calls[2].Body);
        Assert.Equal(["SchemaVersionId"], calls[3].Body.EnumerateObject().Select(p => p.Name));
        AssertBody($$$"""{"SchemaId":{{{schemaId}}},"SchemaVersionNumber":{"VersionNumber":1}}""", calls[4].Body);
        AssertBody($$$"""{"SchemaId":{{{schemaId}}},"SchemaVersionNumber":{"LatestVersion":true}}""", calls[5].Body);
        AssertBody($$"""{"SchemaId":{{schemaId}},"SchemaDefinition":{{JsonSerializer.Serialize(V2)}}}""", calls[6].Body);
        AssertBody($$"""{"SchemaId":{{schemaId}},"MaxResults":100}""", calls[7].Body);
        AssertBody($$"""{"SchemaId":{{schemaId}},"Compatibility":"FULL"}""", calls[8].Body);
    }

    [Fact]
    public async Task Errors_are_parsed_from_the_documented_error_shape()
    {
        await using var server = new FakeGlueServer();
        (GlueClient client, GlueSchemaRegistry registry) = Create(server);
        using (client)
        {
            server.NextError = (400, """{"__type":"com.amazonaws.glue#AccessDeniedException","Message":"User is not authorized"}""");
            var denied = await Assert.ThrowsAsync<GlueServiceException>(() => client.GetSchemaAsync("reg", "x"));
            Assert.Equal("AccessDeniedException", denied.ErrorCode);
            Assert.Contains("User is not authorized", denied.Message, StringComparison.Ordinal);

            server.NextError = (400, """{"__type":"InvalidInputException:http://internal.amazon.com/coral/com.amazonaws.glue/","message":"bad"}""");
            Assert.Equal("InvalidInputException", (await Assert.ThrowsAsync<GlueServiceException>(() => client.GetSchemaAsync("reg", "x"))).ErrorCode);

            server.NextError = (500, "<html>oops</html>");
            var broken = await Assert.ThrowsAsync<GlueServiceException>(() => client.GetSchemaAsync("reg", "x"));
            Assert.Equal("Http500", broken.ErrorCode);

            // EntityNotFound maps to the registry's typed errors.
            var missing = await Assert.ThrowsAsync<SchemaNotFoundException>(() => registry.DescribeAsync("nope"));
            Assert.Equal("nope", missing.SchemaName);
            var unknownId = Guid.NewGuid();
            Assert.Equal(unknownId, (await Assert.ThrowsAsync<SchemaVersionNotFoundException>(() => registry.GetVersionAsync(unknownId))).VersionId);
        }
    }

    [Fact]
    public async Task Registry_over_glue_creates_reuses_evolves_and_refuses_with_reasons()
    {
        await using var server = new FakeGlueServer();
        (GlueClient client, GlueSchemaRegistry registry) = Create(server);
        using (client)
        {
            await registry.EnsureRegistryAsync();
            server.NextError = (400, """{"__type":"AlreadyExistsException","Message":"exists"}""");
            await registry.EnsureRegistryAsync(); // an existing registry is fine

            RegistrationResult first = await registry.RegisterAsync("clicks", SchemaFormat.Avro, V1);
            Assert.True(first.Created);
            Assert.Equal(1, first.Version.VersionNumber);

            // Same schema, other whitespace: the existing version.
            RegistrationResult again = await registry.RegisterAsync("clicks", SchemaFormat.Avro, V1.Replace(",", ", ", StringComparison.Ordinal));
            Assert.False(again.Created);
            Assert.Equal(first.Version.VersionId, again.Version.VersionId);

            RegistrationResult second = await registry.RegisterAsync("clicks", SchemaFormat.Avro, V2);
            Assert.Equal(2, second.Version.VersionNumber);
            Assert.Equal("clicks", (await registry.GetVersionAsync(second.Version.VersionId)).SchemaName);

            var refused = await Assert.ThrowsAsync<IncompatibleSchemaException>(() => registry.RegisterAsync("clicks", SchemaFormat.Avro, V3Bad));
            CompatibilityViolation reason = Assert.Single(refused.Result.Violations);
            Assert.Equal(("$.amount", "READER_FIELD_MISSING_DEFAULT_VALUE", 2), (reason.Issue.Path, reason.Issue.Rule, reason.AgainstVersion));
            Assert.DoesNotContain(server.Calls, c => c.Target == "AWSGlue.RegisterSchemaVersion" && c.Body.GetProperty("SchemaDefinition").GetString()!.Contains("amount", StringComparison.Ordinal));

            await registry.UpdateCompatibilityAsync("clicks", CompatibilityMode.None);
            Assert.Equal(CompatibilityMode.None, (await registry.DescribeAsync("clicks")).Compatibility);
            Assert.Equal([1, 2], (await registry.ListVersionsAsync("clicks")).Select(v => v.VersionNumber));
            Assert.Equal("clicks", Assert.Single(await registry.ListSchemasAsync()).Name);
        }
    }

    [Fact]
    public async Task A_version_glue_marks_failure_after_pending_is_refused()
    {
        await using var server = new FakeGlueServer();
        (GlueClient client, GlueSchemaRegistry registry) = Create(server);
        using (client)
        {
            await registry.RegisterAsync("clicks", SchemaFormat.Avro, V1, CompatibilityMode.None);
            server.NewVersionStatus = "PENDING";
            var refused = await Assert.ThrowsAsync<IncompatibleSchemaException>(() => registry.RegisterAsync("clicks", SchemaFormat.Avro, V2));
            Assert.Equal("GLUE_REFUSED", Assert.Single(refused.Result.Violations).Issue.Rule);
        }
    }

    [Fact]
    public void Schema_name_comes_from_the_schema_arn()
    {
        Assert.Equal("clicks", GlueSchemaRegistry.SchemaNameFromArn("arn:aws:glue:us-east-1:123456789012:schema/reg/clicks"));
        Assert.Null(GlueSchemaRegistry.SchemaNameFromArn("arn:aws:glue:us-east-1:123456789012:registry/reg"));
    }
}
