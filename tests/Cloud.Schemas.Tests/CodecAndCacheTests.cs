using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace Cloud.Schemas.Tests;

public class CodecAndCacheTests
{
    private static SchemaVersion Avro(string definition) => new()
    {
        VersionId = Guid.NewGuid(),
        SchemaName = "clicks",
        VersionNumber = 1,
        Format = SchemaFormat.Avro,
        Definition = SchemaDefinitions.Normalize(SchemaFormat.Avro, definition),
    };

    private const string Click = """
        {"type":"record","name":"Click","namespace":"cloud","fields":[
          {"name":"userId","type":"string"},
          {"name":"amount","type":"double"},
          {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
          {"name":"device","type":{"type":"record","name":"Device","fields":[{"name":"os","type":{"type":"enum","name":"Os","symbols":["IOS","ANDROID","WEB"]}}]}},
          {"name":"tags","type":{"type":"array","items":"string"},"default":[]},
          {"name":"ref","type":["null","string"],"default":null}
        ]}
        """;

    [Theory]
    [InlineData("""{"userId":"u1","amount":"12","at":0,"device":{"os":"WEB"}}""", "$.amount", "expected a double")]
    [InlineData("""{"userId":"u1","amount":1,"at":0,"device":{"os":"LINUX"}}""", "$.device.os", "not a symbol")]
    [InlineData("""{"userId":"u1","amount":1,"at":0}""", "$.device", "required field is missing")]
    [InlineData("""{"userId":"u1","amount":1,"at":0,"device":{"os":"WEB"},"tags":["a",5]}""", "$.tags[1]", "expected a string")]
    [InlineData("""{"userId":"u1","amount":1,"at":0,"device":{"os":"WEB"},"extra":true}""", "$.extra", "not in record")]
    [InlineData("""{"userId":"u1","amount":1,"at":0,"device":{"os":"WEB"},"ref":7}""", "$.ref", "matches none")]
    public void Invalid_records_are_refused_naming_the_field_and_not_the_value(string json, string path, string problem)
    {
        GsrSerializer serializer = GsrSerializer.For(Avro(Click));
        var ex = Assert.Throws<RecordValidationException>(() => serializer.Serialize(json));
        Assert.Equal(path, ex.FieldPath);
        Assert.Contains(problem, ex.Problem, StringComparison.Ordinal);
        Assert.DoesNotContain("LINUX", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("u1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_valid_record_round_trips_with_defaults_and_logical_types()
    {
        SchemaVersion version = Avro(Click);
        byte[] bytes = GsrSerializer.For(version).Serialize("""{"userId":"u1","amount":2.5,"at":"2026-12-07T02:00:00.123Z","device":{"os":"IOS"}}""");
        string json = Encoding.UTF8.GetString(RecordCodec.Create(version).DecodeToJson(GsrWireFormat.Decode(bytes).Payload));
        Assert.Equal("""{"userId":"u1","amount":2.5,"at":"2026-12-07T02:00:00.123Z","device":{"os":"IOS"},"tags":[],"ref":null}""", json);
    }

    [Fact]
    public void Json_schema_records_are_validated_before_they_are_encoded()
    {
        var version = new SchemaVersion
        {
            VersionId = Guid.NewGuid(), SchemaName = "j", VersionNumber = 1, Format = SchemaFormat.Json,
            Definition = """{"type":"object","properties":{"userId":{"type":"string"},"n":{"type":"integer","minimum":0}},"required":["userId"]}""",
        };
        GsrSerializer serializer = GsrSerializer.For(version);
        Assert.Equal("$.n", Assert.Throws<RecordValidationException>(() => serializer.Serialize("""{"userId":"a","n":-1}""")).FieldPath);
        Assert.Equal("$", Assert.Throws<RecordValidationException>(() => serializer.Serialize("""{"n":1}""")).FieldPath);
        Assert.Throws<RecordValidationException>(() => serializer.Serialize("not json"));
        Assert.Equal(GsrWireFormat.HeaderLength + 20, serializer.Serialize("""{"userId":"a","n":1}""").Length);
    }

    [Fact]
    public void Malformed_schema_definitions_are_typed_errors()
    {
        Assert.Throws<InvalidSchemaException>(() => SchemaDefinitions.Normalize(SchemaFormat.Avro, "{not json"));
        Assert.Throws<InvalidSchemaException>(() => SchemaDefinitions.Normalize(SchemaFormat.Avro, """{"type":"record","name":"x"}"""));
        Assert.Throws<InvalidSchemaException>(() => SchemaDefinitions.Normalize(SchemaFormat.Json, "{\"type\":"));
        Assert.Throws<InvalidSchemaException>(() => SchemaDefinitions.Normalize(SchemaFormat.Json, "42"));
        Assert.Equal(
            SchemaDefinitions.Normalize(SchemaFormat.Json, """{ "b": 1, "a": {"d": 2, "c": 3} }"""),
            SchemaDefinitions.Normalize(SchemaFormat.Json, """{"a":{"c":3,"d":2},"b":1}"""));
    }

    [Fact]
    public async Task Cache_serves_lookups_until_the_ttl_then_asks_again_and_stays_bounded()
    {
        var time = new FakeTimeProvider();
        SchemaVersion[] versions = Enumerable.Range(1, 5).Select(i => Avro(Click) with { VersionNumber = i }).ToArray();
        var inner = new InMemoryRegistry(versions);
        var cache = new CachingSchemaRegistry(inner, new SchemaCacheOptions { Capacity = 3, VersionTtl = TimeSpan.FromMinutes(10), LatestTtl = TimeSpan.FromMinutes(1), TimeProvider = time });

        for (int i = 0; i < 100; i++)
        {
            await cache.GetVersionAsync(versions[0].VersionId);
        }

        Assert.Equal(1, inner.Lookups);
        time.Advance(TimeSpan.FromMinutes(11));
        await cache.GetVersionAsync(versions[0].VersionId);
        Assert.Equal(2, inner.Lookups);

        // Latest: cached for LatestTtl, so a new version shows up after it.
        Assert.Equal(5, (await cache.GetVersionAsync("clicks")).VersionNumber);
        inner.Add(Avro(Click) with { VersionNumber = 6 });
        Assert.Equal(5, (await cache.GetVersionAsync("clicks")).VersionNumber);
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(6, (await cache.GetVersionAsync("clicks")).VersionNumber);

        // Bounded: five ids through a cache of three.
        int before = inner.Lookups;
        foreach (SchemaVersion v in versions)
        {
            await cache.GetVersionAsync(v.VersionId);
        }

        await cache.GetVersionAsync(versions[0].VersionId); // evicted: asked again
        Assert.True(inner.Lookups > before + 3);

        // Failures are not cached.
        var missing = Guid.NewGuid();
        await Assert.ThrowsAsync<SchemaVersionNotFoundException>(() => cache.GetVersionAsync(missing));
        inner.Add(Avro(Click) with { VersionId = missing, VersionNumber = 7 });
        Assert.Equal(7, (await cache.GetVersionAsync(missing)).VersionNumber);
    }

    [Fact]
    public async Task Concurrent_misses_of_one_key_share_one_registry_call()
    {
        SchemaVersion version = Avro(Click);
        var inner = new InMemoryRegistry(version);
        var cache = new CachingSchemaRegistry(inner);
        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => cache.GetVersionAsync(version.VersionId))));
        Assert.Equal(1, inner.Lookups);
    }
}
