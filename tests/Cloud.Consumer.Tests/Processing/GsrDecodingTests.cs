using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Cloud.Consumer.Events;
using Cloud.Consumer.Schemas;
using Cloud.Records;
using Cloud.Schemas;
using CsCheck;

namespace Cloud.Consumer.Tests.Processing;

/// <summary>
/// GSR records through the batch processor: random records → GSR serialize (Avro) → KPL aggregate → compressed frame →
/// decode → the handler sees each record's JSON, in order, with its schema version; bad records fail alone.
/// </summary>
public class GsrDecodingTests
{
    private const string Avsc = """
        {"type":"record","name":"Event","namespace":"cloud","fields":[
          {"name":"userId","type":"string"},
          {"name":"n","type":"int"},
          {"name":"big","type":"long"},
          {"name":"amount","type":"double"},
          {"name":"flag","type":"boolean"},
          {"name":"os","type":{"type":"enum","name":"Os","symbols":["IOS","ANDROID","WEB"]}},
          {"name":"tags","type":{"type":"array","items":"string"}},
          {"name":"counts","type":{"type":"map","values":"long"}},
          {"name":"ref","type":["null","string"]},
          {"name":"blob","type":"bytes"},
          {"name":"geo","type":{"type":"record","name":"Geo","fields":[{"name":"lat","type":"float"},{"name":"zone","type":["null","int"]}]}}
        ]}
        """;

    private static readonly SchemaVersion Version = new()
    {
        VersionId = Guid.Parse("0d4f7f3e-2a8b-4c61-9d0e-5b3a7c9e1f20"),
        SchemaName = "events",
        VersionNumber = 3,
        Format = SchemaFormat.Avro,
        Definition = SchemaDefinitions.Normalize(SchemaFormat.Avro, Avsc),
    };

    private static readonly string[] OsSymbols = ["IOS", "ANDROID", "WEB"];

    /// <summary>A random record as JSON text in the schema's field order (the form the decoder writes).</summary>
    private static readonly Gen<string> RecordGen =
        from user in Gen.String[Gen.Char.AlphaNumeric, 0, 12]
        from n in Gen.Int
        from big in Gen.Long
        from amount in Gen.Double.Where(double.IsFinite)
        from flag in Gen.Bool
        from os in Gen.Int[0, 2]
        from tags in Gen.String[0, 6].Array[0, 4]
        from counts in Gen.Long.Array[0, 3]
        from hasRef in Gen.Bool
        from blob in Gen.Byte.Array[0, 20]
        from lat in Gen.Float.Where(float.IsFinite)
        from zone in Gen.Int[-1, 12]
        select Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("userId", user);
            w.WriteNumber("n", n);
            w.WriteNumber("big", big);
            w.WriteNumber("amount", amount);
            w.WriteBoolean("flag", flag);
            w.WriteString("os", OsSymbols[os]);
            w.WriteStartArray("tags");
            foreach (string t in tags)
            {
                w.WriteStringValue(t);
            }

            w.WriteEndArray();
            w.WriteStartObject("counts");
            for (int i = 0; i < counts.Length; i++)
            {
                w.WriteNumber("k" + i, counts[i]);
            }

            w.WriteEndObject();
            if (hasRef)
            {
                w.WriteString("ref", user + "!");
            }
            else
            {
                w.WriteNull("ref");
            }

            w.WriteBase64String("blob", blob);
            w.WriteStartObject("geo");
            w.WriteNumber("lat", lat);
            if (zone < 0)
            {
                w.WriteNull("zone");
            }
            else
            {
                w.WriteNumber("zone", zone);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        });

    private static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static byte[] Aggregate(IEnumerable<byte[]> records)
    {
        using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = 1024 * 1024 });
        int i = 0;
        foreach (byte[] data in records)
        {
            Assert.True(builder.TryAdd("k" + (i++ % 3), null, data));
        }

        return builder.ToArray();
    }

    [Fact]
    public void Random_records_survive_serialize_aggregate_compress_decode()
    {
        var serializer = GsrSerializer.For(Version);
        var processor = new KinesisBatchProcessor(new KinesisBatchProcessorOptions
        {
            MaxDegreeOfParallelism = 1,
            Transforms = [new GsrDecodingTransform(new CachingSchemaRegistry(new OneVersion(Version)))],
        });
        Gen.Select(RecordGen.Array[1, 20].Array[1, 4], Gen.Enum<CompressionCodec>(), Gen.Bool).Sample((parents, codec, zlib) =>
        {
            var serializerZ = zlib ? GsrSerializer.For(Version, GsrCompression.Zlib) : serializer;
            var records = parents.Select((p, i) => TestRecords.Record(i, "pk", CompressedFrame.Encode(Aggregate(p.Select(serializerZ.Serialize)), codec))).ToList();
            var seen = new List<(string Json, SchemaVersion? Schema)>();
            BatchProcessingResult result = processor.ProcessAsync(records, (r, _) =>
            {
                seen.Add((Encoding.UTF8.GetString(r.Data.Span), r.Schema));
                return ValueTask.CompletedTask;
            }).GetAwaiter().GetResult();
            Assert.Empty(result.Failures);
            Assert.Equal(parents.SelectMany(p => p), seen.Select(s => s.Json));
            Assert.All(seen, s => Assert.Equal(Version.VersionId, s.Schema!.VersionId));
        }, iter: 500);
    }

    [Fact]
    public async Task Unknown_version_and_bad_bytes_fail_only_their_record_and_plain_records_pass_through()
    {
        var serializer = GsrSerializer.For(Version);
        string good = RecordGen.Single();
        byte[] unknownVersion = GsrWireFormat.Encode(serializer.Serialize(good).AsSpan(GsrWireFormat.HeaderLength), Guid.NewGuid());
        byte[] truncated = serializer.Serialize(good)[..25];
        var records = new List<KinesisEventRecord>
        {
            TestRecords.Record(0, "a", serializer.Serialize(good)),
            TestRecords.Record(1, "b", unknownVersion),
            TestRecords.Record(2, "c", truncated),
            TestRecords.Record(3, "d", """{"plain":"json"}"""),
        };
        var failures = new ConcurrentBag<RecordFailure>();
        var handled = new ConcurrentDictionary<string, string>();
        var processor = new KinesisBatchProcessor(new KinesisBatchProcessorOptions
        {
            Transforms = [new GsrDecodingTransform(new OneVersion(Version))],
            OnRecordFailure = failures.Add,
        });
        BatchProcessingResult result = await processor.ProcessAsync(records, (r, _) =>
        {
            handled[r.PartitionKey] = Encoding.UTF8.GetString(r.Data.Span);
            return ValueTask.CompletedTask;
        });

        Assert.Equal(good, handled["a"]);
        Assert.Equal("""{"plain":"json"}""", handled["d"]);
        Assert.Equal(2, failures.Count);
        Assert.Contains(failures, f => f.SequenceNumber == TestRecords.Seq(1) && f.Stage == RecordFailureStage.Transform && f.Exception is SchemaVersionNotFoundException);
        Assert.Contains(failures, f => f.SequenceNumber == TestRecords.Seq(2) && f.Exception is SchemaDataException);
        Assert.Equal(TestRecords.Seq(1), result.Response.BatchItemFailures.Single().ItemIdentifier);
    }

    private sealed class OneVersion(SchemaVersion version) : ISchemaRegistry
    {
        public Task<SchemaVersion> GetVersionAsync(Guid versionId, CancellationToken cancellationToken = default) =>
            versionId == version.VersionId ? Task.FromResult(version) : Task.FromException<SchemaVersion>(new SchemaVersionNotFoundException(versionId));

        public Task<SchemaVersion> GetVersionAsync(string schemaName, int? versionNumber = null, CancellationToken cancellationToken = default) => Task.FromResult(version);

        public Task<RegistrationResult> RegisterAsync(string schemaName, SchemaFormat format, string definition, CompatibilityMode? compatibility = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<CompatibilityResult> CheckAsync(string schemaName, string definition, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<SchemaInfo> DescribeAsync(string schemaName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<SchemaInfo>> ListSchemasAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<SchemaVersion>> ListVersionsAsync(string schemaName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task UpdateCompatibilityAsync(string schemaName, CompatibilityMode compatibility, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
