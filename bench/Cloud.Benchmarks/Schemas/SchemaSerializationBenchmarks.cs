using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Cloud.Benchmarks.Privacy;
using Cloud.DataGenerator;
using Cloud.Records;
using Cloud.Schemas;

namespace Cloud.Benchmarks.Schemas;

/// <summary>
/// Per record: Avro + GSR header (validation included) versus the JSON text of the same clickstream event, and the
/// JSON Schema variant; the consumer side (GSR Avro → JSON view). Sizes and PUT payload units per MB (JSON, Avro,
/// Avro + zstd, each KPL-aggregated at 51,200 bytes) are printed in setup.
/// Run: dotnet run -c Release --project bench/Cloud.Benchmarks -- --filter '*SchemaSerialization*'
/// </summary>
[MemoryDiagnoser]
[Config(typeof(InProcessShortRunConfig))]
public class SchemaSerializationBenchmarks
{
    private const int Events = 1_000;
    private JsonDocument[] _events = [];
    private GsrSerializer _avro = null!;
    private GsrSerializer _jsonSchema = null!;
    private RecordCodec _avroCodec = null!;
    private byte[][] _avroRecords = [];
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);

    private static SchemaVersion Version(SchemaFormat format, string definition) => new()
    {
        VersionId = Guid.NewGuid(), SchemaName = "clickstream", VersionNumber = 1, Format = format,
        Definition = SchemaDefinitions.Normalize(format, definition),
    };

    [GlobalSetup]
    public void Setup()
    {
        GeneratedEvent[] generated = new EventGenerator(new GeneratorOptions { Kind = EventKind.Clickstream, Seed = 42 }).Take(Events).ToArray();
        _events = generated.Select(e => JsonDocument.Parse(e.Json)).ToArray();
        _avro = GsrSerializer.For(Version(SchemaFormat.Avro, EventSchemas.ClickstreamAvro));
        _jsonSchema = GsrSerializer.For(Version(SchemaFormat.Json, EventSchemas.ClickstreamJsonSchema));
        _avroCodec = RecordCodec.Create(_avro.Version);
        _avroRecords = _events.Select(d => _avro.Serialize(d.RootElement)).ToArray();

        // Sizes and PUT payload units over 20,000 events.
        GeneratedEvent[] many = new EventGenerator(new GeneratorOptions { Kind = EventKind.Clickstream, Seed = 43 }).Take(20_000).ToArray();
        byte[][] json = many.Select(e => e.Json.ToArray()).ToArray();
        byte[][] avro = json.Select(j => _avro.Serialize(System.Text.Encoding.UTF8.GetString(j))).ToArray();
        double mb = json.Sum(j => (long)j.Length) / 1e6;
        Console.WriteLine($"// bytes per event: JSON {json.Average(j => j.Length):F1}, Avro+GSR header {avro.Average(a => a.Length):F1} ({avro.Average(a => a.Length) / json.Average(j => j.Length):P0} of JSON)");
        Console.WriteLine($"// PUT payload units per MB of JSON events (KPL aggregates of 51,200 B): JSON {Units(json, null) / mb:F1}, " +
            $"Avro {Units(avro, null) / mb:F1}, Avro+zstd {Units(avro, CompressionCodec.Zstd) / mb:F1}, JSON+zstd {Units(json, CompressionCodec.Zstd) / mb:F1}");
    }

    private static long Units(byte[][] records, CompressionCodec? codec)
    {
        long units = 0;
        using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = KplFormat.DefaultMaxAggregateSize });
        void Flush()
        {
            if (builder.Count == 0)
            {
                return;
            }

            byte[] aggregate = builder.ToArray();
            int size = codec is { } c ? CompressedFrame.Encode(aggregate, c).Length : aggregate.Length;
            units += (size + builder.PartitionKey!.Length + KplFormat.PutPayloadUnitSize - 1) / KplFormat.PutPayloadUnitSize;
            builder.Reset();
        }

        for (int i = 0; i < records.Length; i++)
        {
            string key = "u-" + (i % 1000);
            if (!builder.TryAdd(key, null, records[i]))
            {
                Flush();
                builder.TryAdd(key, null, records[i]);
            }
        }

        Flush();
        return units;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (JsonDocument d in _events)
        {
            d.Dispose();
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Events, Description = "JSON text of the event")]
    public long JsonText()
    {
        long total = 0;
        foreach (JsonDocument d in _events)
        {
            _buffer.ResetWrittenCount();
            using (var writer = new Utf8JsonWriter(_buffer))
            {
                d.RootElement.WriteTo(writer);
            }

            total += _buffer.WrittenCount;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = Events, Description = "Avro + GSR header (validated)")]
    public long AvroGsr()
    {
        long total = 0;
        foreach (JsonDocument d in _events)
        {
            total += _avro.Serialize(d.RootElement).Length;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = Events, Description = "JSON Schema validation + GSR header")]
    public long JsonSchemaGsr()
    {
        long total = 0;
        foreach (JsonDocument d in _events)
        {
            total += _jsonSchema.Serialize(d.RootElement).Length;
        }

        return total;
    }

    [Benchmark(OperationsPerInvoke = Events, Description = "GSR Avro → JSON view (consumer)")]
    public long AvroDecode()
    {
        long total = 0;
        foreach (byte[] record in _avroRecords)
        {
            total += _avroCodec.DecodeToJson(GsrWireFormat.Decode(record).Payload).Length;
        }

        return total;
    }
}
