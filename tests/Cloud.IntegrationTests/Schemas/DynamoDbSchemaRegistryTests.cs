using Amazon.DynamoDBv2;
using Cloud.Schemas;
using Cloud.Testing;

namespace Cloud.IntegrationTests.Schemas;

/// <summary>The embedded registry on dynalite: Glue's semantics in one DynamoDB table.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class DynamoDbSchemaRegistryTests(EmulatorFixture fixture)
{
    private const string V1 = """{"type":"record","name":"price_change","namespace":"com.udacity","fields":[{"name":"ticker","type":"string"},{"name":"prev_price","type":"int"},{"name":"price","type":"int"},{"name":"cause","type":["null","string"]}]}""";
    private const string V2 = """{"type":"record","name":"price_change","namespace":"com.udacity","fields":[{"name":"ticker","type":"string"},{"name":"prev_price","type":"long"},{"name":"price","type":"int"},{"name":"cause","type":["null","string"]},{"name":"exchange","type":"string","default":"NYSE"}]}""";
    private const string V3Bad = """{"type":"record","name":"price_change","namespace":"com.udacity","fields":[{"name":"ticker","type":"string"},{"name":"price","type":"int"},{"name":"volume","type":"long"}]}""";

    private async Task<(IAmazonDynamoDB Dynamo, DynamoDbSchemaRegistry Registry)> CreateAsync()
    {
        IAmazonDynamoDB dynamo = fixture.CreateDynamoDbClient();
        var registry = new DynamoDbSchemaRegistry(dynamo, EmulatorFixture.UniqueName("schemas"));
        await registry.EnsureTableAsync();
        await registry.EnsureTableAsync(); // idempotent
        return (dynamo, registry);
    }

    [Fact]
    public async Task Registers_numbers_reuses_identical_and_refuses_with_reasons()
    {
        (IAmazonDynamoDB dynamo, DynamoDbSchemaRegistry registry) = await CreateAsync();
        using (dynamo)
        {
            RegistrationResult first = await registry.RegisterAsync("stock", SchemaFormat.Avro, V1);
            Assert.True(first.Created);
            Assert.Equal(1, first.Version.VersionNumber);

            RegistrationResult same = await registry.RegisterAsync("stock", SchemaFormat.Avro, V1.Replace(",", ",\n  ", StringComparison.Ordinal));
            Assert.False(same.Created);
            Assert.Equal(first.Version.VersionId, same.Version.VersionId);

            RegistrationResult second = await registry.RegisterAsync("stock", SchemaFormat.Avro, V2);
            Assert.Equal(2, second.Version.VersionNumber);
            Assert.NotEqual(first.Version.VersionId, second.Version.VersionId);

            var refused = await Assert.ThrowsAsync<IncompatibleSchemaException>(() => registry.RegisterAsync("stock", SchemaFormat.Avro, V3Bad));
            CompatibilityViolation reason = Assert.Single(refused.Result.Violations);
            Assert.Equal(("$.volume", "READER_FIELD_MISSING_DEFAULT_VALUE", 2), (reason.Issue.Path, reason.Issue.Rule, reason.AgainstVersion));
            Assert.False((await registry.CheckAsync("stock", V3Bad)).IsCompatible);
            Assert.True((await registry.CheckAsync("stock", V2)).IsCompatible);

            Assert.Equal(second.Version, await registry.GetVersionAsync(second.Version.VersionId));
            Assert.Equal(first.Version.VersionId, (await registry.GetVersionAsync("stock", 1)).VersionId);
            Assert.Equal(2, (await registry.GetVersionAsync("stock")).VersionNumber);
            Assert.Equal([1, 2], (await registry.ListVersionsAsync("stock")).Select(v => v.VersionNumber));

            SchemaInfo info = await registry.DescribeAsync("stock");
            Assert.Equal((SchemaFormat.Avro, CompatibilityMode.Backward, 2), (info.Format, info.Compatibility, info.LatestVersion));

            // A mode given on registration updates the schema: NONE lets V3 in.
            RegistrationResult third = await registry.RegisterAsync("stock", SchemaFormat.Avro, V3Bad, CompatibilityMode.None);
            Assert.Equal(3, third.Version.VersionNumber);
            Assert.Equal(CompatibilityMode.None, (await registry.DescribeAsync("stock")).Compatibility);

            await Assert.ThrowsAsync<SchemaNotFoundException>(() => registry.DescribeAsync("nope"));
            await Assert.ThrowsAsync<SchemaNotFoundException>(() => registry.GetVersionAsync("nope"));
            await Assert.ThrowsAsync<SchemaVersionNotFoundException>(() => registry.GetVersionAsync("stock", 9));
            await Assert.ThrowsAsync<SchemaVersionNotFoundException>(() => registry.GetVersionAsync(Guid.NewGuid()));
            await Assert.ThrowsAsync<InvalidSchemaException>(() => registry.RegisterAsync("stock", SchemaFormat.Json, """{"type":"object"}"""));
            await Assert.ThrowsAsync<InvalidSchemaException>(() => registry.RegisterAsync("broken", SchemaFormat.Avro, """{"type":"record","name":"x","fields":[{"name":"a","type":"nosuch"}]}"""));
            Assert.Equal(["stock"], (await registry.ListSchemasAsync()).Select(s => s.Name));
        }
    }

    [Fact]
    public async Task Concurrent_registrations_get_distinct_numbers_and_identical_ones_one_version()
    {
        (IAmazonDynamoDB dynamo, DynamoDbSchemaRegistry registry) = await CreateAsync();
        using (dynamo)
        {
            await registry.RegisterAsync("events", SchemaFormat.Json, """{"type":"object"}""", CompatibilityMode.None);
            string[] definitions = Enumerable.Range(0, 6).Select(i => "{\"type\":\"object\",\"properties\":{\"f" + i + "\":{\"type\":\"string\"}}}").ToArray();
            RegistrationResult[] distinct = await Task.WhenAll(definitions.Select(d => registry.RegisterAsync("events", SchemaFormat.Json, d)));
            Assert.Equal(Enumerable.Range(2, 6), distinct.Select(r => r.Version.VersionNumber).Order());

            string same = """{"type":"object","properties":{"same":{"type":"integer"}}}""";
            RegistrationResult[] identical = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => registry.RegisterAsync("events", SchemaFormat.Json, same)));
            Assert.Single(identical.Select(r => r.Version.VersionId).Distinct());
            Assert.Equal(8, (await registry.DescribeAsync("events")).LatestVersion);
        }
    }
}
