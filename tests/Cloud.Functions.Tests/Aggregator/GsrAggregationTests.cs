using System.Text.Json;
using Cloud.Consumer;
using Cloud.Consumer.Events;
using Cloud.Functions.Aggregator;
using Cloud.Records;
using Cloud.Schemas;
using static Cloud.Functions.Tests.Aggregator.AggregatorTestData;

namespace Cloud.Functions.Tests.Aggregator;

/// <summary>The Aggregator on Avro data: GSR records (plain, in KPL aggregates, in compressed frames) aggregate exactly as their JSON would.</summary>
public class GsrAggregationTests
{
    private const string ClickAvsc = """
        {"type":"record","name":"Click","namespace":"cloud","fields":[
          {"name":"eventId","type":"string"},{"name":"userId","type":"string"},{"name":"email","type":"string"},
          {"name":"amount","type":["null","double"],"default":null},{"name":"page","type":["null","string"],"default":null}]}
        """;

    private static readonly SchemaVersion Version = new()
    {
        VersionId = Guid.Parse("6c0ad2e4-58a5-4c4b-9b42-7f1e0c7d1a01"),
        SchemaName = "clicks",
        VersionNumber = 1,
        Format = SchemaFormat.Avro,
        Definition = SchemaDefinitions.Normalize(SchemaFormat.Avro, ClickAvsc),
    };

    private static byte[] Gsr(Ev e) => GsrSerializer.For(Version).Serialize(JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["eventId"] = "x", ["userId"] = e.User, ["email"] = e.Email, ["amount"] = e.Amount is { } a ? (double)a : null, ["page"] = e.Page,
    }, GsrTestJson.Default.DictionaryStringObject));

    private static async Task<AggregationOutcome> Run(IReadOnlyList<KinesisEventRecord> records, ISchemaRegistry registry, Amazon.DynamoDBv2.IAmazonDynamoDB? client = null)
    {
        client ??= FakeDynamoDb.Create().Client;
        var f = new Function(new AggregatorConfig { TableName = "agg" }, new DynamoDbAggregateSink(client, "agg", 2), null, new SchemaDecoding(registry));
        return await f.ProcessAsync(Invoke(records, null, final: true));
    }

    [Fact]
    public async Task Avro_records_plain_aggregated_and_compressed_are_aggregated()
    {
        Ev[] events = [new("u-1", 10.5m, "/a"), new("u-2", 1m, "/b"), new("u-1", 2.25m, "/a"), new("u-3", null, null)];
        using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = 1024 * 1024 });
        Assert.True(builder.TryAdd("u-2", null, Gsr(events[1])));
        Assert.True(builder.TryAdd("u-1", null, Gsr(events[2])));
        KinesisEventRecord[] records =
        [
            Record(0, Gsr(events[0])),
            Record(1, CompressedFrame.Encode(builder.ToArray(), CompressionCodec.Zstd)),
            Record(2, Gsr(events[3])),
        ];

        var (client, _) = FakeDynamoDb.Create();
        AggregationOutcome outcome = await Run(records, new FixedRegistry(Version), client);
        Assert.Null(outcome.Failure);
        Assert.Equal(4, outcome.AppliedUserRecords);
        Assert.Equal(1, outcome.SegmentsWritten);
        Dictionary<string, AggregateResult> results = (await AggregatesTable.ScanAsync(client, "agg")).ToDictionary(r => r.Key);
        Assert.Equal((2L, 12.75m, 2.25m, 10.5m), (results["u-1"].Count, results["u-1"].Fields["amount"].Sum, results["u-1"].Fields["amount"].Min, results["u-1"].Fields["amount"].Max));
        Assert.Equal(2L, Assert.Single(results["u-1"].Top, p => p.Key == "/a").Value);
        Assert.Equal(1L, results["u-3"].Count);
    }

    [Fact]
    public async Task Unknown_schema_version_and_bad_bytes_are_typed_per_record_failures()
    {
        byte[] unknown = GsrWireFormat.Encode(Gsr(new("u-1", 1m, "/a")).AsSpan(GsrWireFormat.HeaderLength), Guid.NewGuid());
        AggregationOutcome missing = await Run([Record(0, Gsr(new("u-1", 1m, "/a"))), Record(1, unknown)], new FixedRegistry(Version));
        Assert.NotNull(missing.Failure);
        Assert.Equal(Seq(1), missing.Failure!.SequenceNumber);
        Assert.Equal(RecordFailureStage.Decode, missing.Failure.Stage);
        Assert.IsType<SchemaVersionNotFoundException>(missing.Failure.Exception);
        Assert.Equal(1, missing.AppliedUserRecords); // the record before it is kept

        byte[] truncated = Gsr(new("u-1", 1m, "/a"))[..22];
        AggregationOutcome bad = await Run([Record(0, truncated)], new FixedRegistry(Version));
        Assert.IsType<SchemaDataException>(bad.Failure!.Exception);
        Assert.DoesNotContain("u-1", bad.Failure.Message, StringComparison.Ordinal);
    }

    private sealed class FixedRegistry(params SchemaVersion[] versions) : ISchemaRegistry
    {
        public Task<SchemaVersion> GetVersionAsync(Guid versionId, CancellationToken cancellationToken = default) =>
            Task.FromResult(versions.FirstOrDefault(v => v.VersionId == versionId) ?? throw new SchemaVersionNotFoundException(versionId));

        public Task<SchemaVersion> GetVersionAsync(string schemaName, int? versionNumber = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<RegistrationResult> RegisterAsync(string schemaName, SchemaFormat format, string definition, CompatibilityMode? compatibility = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<CompatibilityResult> CheckAsync(string schemaName, string definition, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<SchemaInfo> DescribeAsync(string schemaName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<SchemaInfo>> ListSchemasAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<SchemaVersion>> ListVersionsAsync(string schemaName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task UpdateCompatibilityAsync(string schemaName, CompatibilityMode compatibility, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, object?>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(double))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class GsrTestJson : System.Text.Json.Serialization.JsonSerializerContext;
