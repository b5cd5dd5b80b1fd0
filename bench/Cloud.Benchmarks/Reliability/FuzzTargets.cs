using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cloud.Benchmarks.Consumer;
using Cloud.Benchmarks.Report;
using Cloud.Consumer.Events;
using Cloud.Functions.Aggregator;
using Cloud.Privacy;
using Cloud.Records;
using Cloud.Schemas;

namespace Cloud.Benchmarks.Reliability;

/// <summary>The decoders under fuzzing, each with a corpus of valid inputs built here from a fixed seed.</summary>
internal static class FuzzTargets
{
    private const string Stream = "clicks";

    public static List<FuzzTarget> Create(ReportContext context)
    {
        var random = new Random(17);
        var aggregates = Aggregates(random);
        var targets = new List<FuzzTarget>
        {
            new()
            {
                Name = "KPL aggregate",
                Decoder = "`KplDeaggregator.Deaggregate` + `KplTraceTags.ReadContexts` (`KplAggregateReader`)",
                Documented = "AggregateFormatException",
                Corpus = aggregates,
                Inputs = context.Scale(200_000, 20_000),
                LengthFields = Mutator.KplLengthFields,
                FixUp = FixKplDigest,
                Decode = data =>
                {
                    KplDeaggregator.Deaggregate(data, "pk", "49590338271490256608559692538361571095921575989136588898");
                    KplTraceTags.ReadContexts(data);
                },
                IsTyped = e => e is AggregateFormatException,
            },
            new()
            {
                Name = "Kinesis record (frame + aggregate)",
                Decoder = "`RecordDecoder.Decode` (frame → aggregate → user records)",
                Documented = "RecordFormatException (AggregateFormatException, CompressedFrameException, DecompressionLimitException)",
                Corpus = [.. aggregates.Take(20), .. aggregates.Take(20).Select(a => CompressedFrame.Encode(a, (CompressionCodec)(1 + (a.Length % 4))))],
                Inputs = context.Scale(100_000, 10_000),
                LengthFields = d => CompressedFrame.HasMagic(d) ? FrameLengthFields(d) : Mutator.KplLengthFields(d),
                FixUp = d => CompressedFrame.HasMagic(d) ? FixFrameCrc(d) : FixKplDigest(d),
                Decode = data => RecordDecoder.Default.Decode(data, "pk", "49590338271490256608559692538361571095921575989136588898"),
                IsTyped = e => e is RecordFormatException,
            },
        };
        var payloads = FramePayloads(random, aggregates);
        foreach (var codec in Enum.GetValues<CompressionCodec>())
        {
            targets.Add(new FuzzTarget
            {
                Name = "compressed frame, " + codec,
                Decoder = "`CompressedFrame.Decode`",
                Documented = "CompressedFrameException (UnknownCodecException)",
                Corpus = [.. payloads.Select(p => CompressedFrame.Encode(p, codec))],
                Inputs = context.Scale(40_000, 4_000),
                LengthFields = FrameLengthFields,
                FixUp = FixFrameCrc,
                Decode = data => CompressedFrame.Decode(data),
                IsTyped = e => e is CompressedFrameException,
            });
        }
        targets.AddRange(PrivacyTargets(context, random));
        targets.AddRange(SchemaTargets(context, random));
        targets.Add(EventTarget(context, aggregates));
        return targets;
    }

    // ------------------------------------------------------------------ KPL and frames

    private static List<byte[]> Aggregates(Random random)
    {
        var list = new List<byte[]>();
        using var builder = new AggregateBuilder();
        for (int i = 0; i < 40; i++)
        {
            builder.Reset();
            int records = 1 + random.Next(i % 4 == 0 ? 60 : 8);
            for (int r = 0; r < records; r++)
            {
                string key = "user-" + random.Next(i % 3 == 0 ? 3 : 500).ToString(CultureInfo.InvariantCulture);
                string? hashKey = r % 5 == 4 ? random.NextInt64(0, long.MaxValue).ToString(CultureInfo.InvariantCulture) : null;
                byte[] data = Encoding.UTF8.GetBytes($"{{\"userId\":\"{key}\",\"page\":\"/p/{random.Next(50)}\",\"amount\":{random.Next(1000)}.5,\"n\":{r}}}");
                var tags = i % 4 == 1 ? KplTraceTags.Create($"00-{Convert.ToHexStringLower(RandomBytes(random, 16))}-{Convert.ToHexStringLower(RandomBytes(random, 8))}-01", "k=v") : default;
                builder.TryAdd(key, hashKey, data, tags);
            }
            list.Add(builder.ToArray());
        }
        return list;
    }

    private static byte[] RandomBytes(Random random, int n)
    {
        var bytes = new byte[n];
        random.NextBytes(bytes);
        bytes[0] |= 1; // never the all-zero (invalid) trace or span id
        return bytes;
    }

    private static List<byte[]> FramePayloads(Random random, List<byte[]> aggregates)
    {
        var list = new List<byte[]> { new byte[1], new byte[100], Encoding.UTF8.GetBytes(new string('a', 5000)) };
        list.AddRange(aggregates.Take(12));
        for (int i = 0; i < 10; i++)
        {
            var bytes = new byte[1 + random.Next(2000)];
            random.NextBytes(bytes);
            if (i % 2 == 0)
            {
                for (int j = 0; j < bytes.Length; j++)
                {
                    bytes[j] = (byte)('a' + (bytes[j] % 4)); // compressible
                }
            }
            list.Add(bytes);
        }
        return list;
    }

    /// <summary>Re-signs a damaged aggregate (MD5 of the body) so the damage reaches the protobuf parser.</summary>
    private static byte[] FixKplDigest(byte[] data)
    {
        if (data.Length < KplFormat.Overhead || !KplFormat.HasMagic(data))
        {
            return data;
        }
#pragma warning disable CA5351 // MD5 is the KPL wire format's checksum, not a security measure
        MD5.HashData(data.AsSpan(KplFormat.MagicLength, data.Length - KplFormat.Overhead), data.AsSpan(data.Length - KplFormat.DigestLength));
#pragma warning restore CA5351
        return data;
    }

    /// <summary>Re-signs a damaged frame (CRC-32 of everything before the trailer) so the damage reaches the codec.</summary>
    private static byte[] FixFrameCrc(byte[] data)
    {
        if (data.Length < CompressedFrame.MinimumLength || !CompressedFrame.HasMagic(data))
        {
            return data;
        }
        int end = data.Length - CompressedFrame.ChecksumLength;
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(end), Crc32.HashToUInt32(data.AsSpan(0, end)));
        return data;
    }

    /// <summary>The frame's two length varints and, for Snappy, the block's own leading length varint.</summary>
    private static IReadOnlyList<int> FrameLengthFields(byte[] frame)
    {
        if (frame.Length < 8)
        {
            return [];
        }
        int pos = 6;
        var fields = new List<int> { pos };
        while (pos < frame.Length && (frame[pos] & 0x80) != 0)
        {
            pos++;
        }
        fields.Add(++pos);
        while (pos < frame.Length && (frame[pos] & 0x80) != 0)
        {
            pos++;
        }
        if (frame[5] == (byte)CompressionCodec.Snappy && pos + 1 < frame.Length)
        {
            fields.Add(pos + 1);
        }
        return fields;
    }

    // ------------------------------------------------------------------ privacy

    private static IEnumerable<FuzzTarget> PrivacyTargets(ReportContext context, Random random)
    {
        var time = TimeProvider.System;
        var ring = new UserKeyRing(new InMemoryKeyStore(), new LocalMasterKeyProvider(RandomBytes(random, 32)), new DataKeyCache(time, TimeSpan.FromHours(1), 1000), time);
        var protector = new PersonalDataProtector(ring, new PersonalDataOptions { UserIdField = "userId", Fields = ["email", "name", "device.ip", "address"] });
        var key = ring.GetOrCreateKeyAsync("u-7", CancellationToken.None).AsTask().GetAwaiter().GetResult();
        var binding = new FieldBinding("u-7", "email", Stream);
        var strings = new List<byte[]>();
        var raws = new List<byte[]>();
        foreach (int length in new[] { 1, 2, 3, 10, 17, 64, 100, 333, 600, 2000 })
        {
            var plain = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new string('x', length)));
            string text = FieldCiphertext.Encrypt(key, binding, plain);
            strings.Add(Encoding.UTF8.GetBytes(text));
            raws.Add(Base64Url.DecodeFromChars(text.AsSpan(FieldCiphertext.Prefix.Length)));
        }
        var records = new List<byte[]>();
        for (int i = 0; i < 12; i++)
        {
            string json = $$"""{"userId":"u-{{i % 3}}","email":"user{{i}}@example.com","name":"N {{i}}","page":"/p/{{i}}","device":{"ip":"10.0.0.{{i}}","os":"linux"},"address":{"street":"{{i}} Main St","zip":{{10000 + i}}},"tags":["a","b"],"n":{{i}}.5}""";
            records.Add(protector.EncryptAsync(Encoding.UTF8.GetBytes(json), Stream).AsTask().GetAwaiter().GetResult().Json.ToArray());
        }
        const string privacyTypes = "CiphertextTamperedException, UnknownKeyVersionException";
        yield return new FuzzTarget
        {
            Name = "field ciphertext (text)",
            Decoder = "`FieldCiphertext.ReadHeader` + `FieldCiphertext.Decrypt`",
            Documented = privacyTypes,
            Corpus = strings,
            Inputs = context.Scale(100_000, 10_000),
            Decode = data =>
            {
                FieldCiphertext.ReadHeader(data, binding);
                FieldCiphertext.Decrypt(key, binding, data);
            },
            IsTyped = e => e is CiphertextTamperedException or UnknownKeyVersionException,
        };
        yield return new FuzzTarget
        {
            Name = "field ciphertext (binary)",
            Decoder = "`FieldCiphertext.Decrypt` of the damaged binary form, re-encoded as valid base64url",
            Documented = privacyTypes,
            Corpus = raws,
            Inputs = context.Scale(80_000, 8_000),
            Decode = data => FieldCiphertext.Decrypt(key, binding, Encoding.ASCII.GetBytes(FieldCiphertext.Prefix + Base64Url.EncodeToString(data))),
            IsTyped = e => e is CiphertextTamperedException or UnknownKeyVersionException,
        };
        yield return new FuzzTarget
        {
            Name = "record with ciphertexts",
            Decoder = "`PersonalDataProtector.DecryptAsync` (record JSON)",
            Documented = "PrivacyException (CiphertextTampered, UnknownKeyVersion, DataKeyNotFound, InvalidPersonalData)",
            Corpus = records,
            Inputs = context.Scale(60_000, 6_000),
            Structured = (r, data) => MutateInside(r, data, "pdenc1:"u8.ToArray(), strings),
            Decode = data => protector.DecryptAsync(data, Stream).AsTask().GetAwaiter().GetResult(),
            IsTyped = e => e is CiphertextTamperedException or UnknownKeyVersionException or DataKeyNotFoundException or InvalidPersonalDataException,
        };
    }

    /// <summary>Damages the bytes of one occurrence of a marked value (e.g. a ciphertext string) inside a document.</summary>
    private static byte[] MutateInside(Random random, byte[] document, byte[] marker, IReadOnlyList<byte[]> corpus)
    {
        var starts = new List<int>();
        for (int at = document.AsSpan().IndexOf(marker); at >= 0;)
        {
            starts.Add(at);
            int next = document.AsSpan(at + 1).IndexOf(marker);
            at = next < 0 ? -1 : at + 1 + next;
        }
        if (starts.Count == 0)
        {
            return Mutator.Apply(random, MutationKind.BitFlip, document, corpus, null);
        }
        int start = starts[random.Next(starts.Count)];
        int end = document.AsSpan(start).IndexOf((byte)'"');
        end = end < 0 ? document.Length : start + end;
        var value = document[start..end];
        var damaged = Mutator.Apply(random, (MutationKind)random.Next(7), value, corpus, null);
        damaged = damaged.Where(b => b is not (byte)'"' and not (byte)'\\' and >= 0x20).ToArray(); // stay inside the JSON string
        return [.. document.AsSpan(0, start), .. damaged, .. document.AsSpan(end)];
    }

    // ------------------------------------------------------------------ schemas

    private const string AvroDefinition = """
        {"type":"record","name":"Click","namespace":"cloud.bench","fields":[
          {"name":"userId","type":"string"},
          {"name":"page","type":"string"},
          {"name":"ts","type":"long"},
          {"name":"amount","type":"double"},
          {"name":"referrer","type":["null","string"],"default":null},
          {"name":"tags","type":{"type":"array","items":"string"}},
          {"name":"counters","type":{"type":"map","values":"long"}},
          {"name":"blob","type":"bytes"},
          {"name":"device","type":{"type":"enum","name":"Device","symbols":["mobile","desktop","tablet"]}},
          {"name":"geo","type":{"type":"record","name":"Geo","fields":[{"name":"country","type":"string"},{"name":"lat","type":"float"}]}}
        ]}
        """;

    private const string JsonSchemaDefinition = """
        {"$schema":"http://json-schema.org/draft-07/schema#","type":"object",
         "properties":{"userId":{"type":"string"},"page":{"type":"string"},"ts":{"type":"integer"},"amount":{"type":"number"},
                       "tags":{"type":"array","items":{"type":"string"}},"geo":{"type":"object","properties":{"country":{"type":"string"}}}},
         "required":["userId","page","ts"]}
        """;

    private static IEnumerable<FuzzTarget> SchemaTargets(ReportContext context, Random random)
    {
        var avro = new SchemaVersion
        {
            VersionId = new Guid("8d6b7f43-6a0e-4c1e-9d1e-2f6a1b0c3d4e"), SchemaName = "click-avro", VersionNumber = 1, Format = SchemaFormat.Avro,
            Definition = SchemaDefinitions.Normalize(SchemaFormat.Avro, AvroDefinition),
        };
        var json = new SchemaVersion
        {
            VersionId = new Guid("1f0e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"), SchemaName = "click-json", VersionNumber = 1, Format = SchemaFormat.Json,
            Definition = SchemaDefinitions.Normalize(SchemaFormat.Json, JsonSchemaDefinition),
        };
        var deserializer = new GsrDeserializer(new FixedRegistry(avro, json));
        var avroCorpus = new List<byte[]>();
        var jsonCorpus = new List<byte[]>();
        var avroSerializer = RecordCodec.Create(avro);
        var jsonSerializer = RecordCodec.Create(json);
        for (int i = 0; i < 16; i++)
        {
            string tags = string.Join(",", Enumerable.Range(0, i % 5).Select(t => $"\"t{t}\""));
            string counters = string.Join(",", Enumerable.Range(0, i % 4).Select(t => $"\"c{t}\":{t * 1000 + i}"));
            string referrer = i % 2 == 0 ? "null" : "\"search\"";
            using var avroRecord = JsonDocument.Parse($$$"""{"userId":"u-{{{i}}}","page":"/products/{{{new string('p', i * 3)}}}","ts":{{{1767225600000L + i}}},"amount":{{{i * 1.25}}},"referrer":{{{referrer}}},"tags":[{{{tags}}}],"counters":{{{{counters}}}},"blob":"{{{Convert.ToBase64String(new byte[i])}}}","device":"{{{(i % 3 == 0 ? "mobile" : "tablet")}}}","geo":{"country":"DE","lat":{{{i}}}.5}}""");
            using var jsonRecord = JsonDocument.Parse($$$"""{"userId":"u-{{{i}}}","page":"/p/{{{i}}}","ts":{{{1767225600000L + i}}},"amount":{{{i * 1.25}}},"tags":[{{{tags}}}],"geo":{"country":"DE"}}""");
            var compression = i % 3 == 0 ? GsrCompression.Zlib : GsrCompression.None;
            avroCorpus.Add(avroSerializer.Encode(avroRecord.RootElement, compression));
            jsonCorpus.Add(jsonSerializer.Encode(jsonRecord.RootElement, compression));
        }
        const string documented = "GsrFormatException, SchemaVersionNotFoundException, SchemaDataException";
        foreach (var (name, corpus, inputs) in new[] { ("GSR record, Avro", avroCorpus, context.Scale(120_000, 12_000)), ("GSR record, JSON Schema", jsonCorpus, context.Scale(60_000, 6_000)) })
        {
            yield return new FuzzTarget
            {
                Name = name,
                Decoder = "`GsrDeserializer.DecodeAsync` (header, zlib, payload decoder)",
                Documented = documented,
                Corpus = corpus,
                Inputs = inputs,
                // The payload's own lengths (Avro zig-zag varints) sit at unknown offsets: random offsets past the header.
                LengthFields = d => d.Length > GsrWireFormat.HeaderLength ? [.. Enumerable.Range(GsrWireFormat.HeaderLength, d.Length - GsrWireFormat.HeaderLength)] : [],
                Decode = data => deserializer.DecodeAsync(data).AsTask().GetAwaiter().GetResult(),
                IsTyped = e => e is GsrFormatException or SchemaVersionNotFoundException or SchemaDataException,
            };
        }
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

    // ------------------------------------------------------------------ Lambda events

    private static readonly JsonNode?[] OddValues =
    [
        null, JsonValue.Create(-1), JsonValue.Create(0), JsonValue.Create(1e308), JsonValue.Create(long.MaxValue), JsonValue.Create(""),
        JsonValue.Create("x"), JsonValue.Create("!!not base64!!"), JsonValue.Create(true), JsonValue.Create(new string('A', 4096)),
        JsonValue.Create("9999-99-99T99:99:99Z"), JsonValue.Create("1970-01-01T00:00:00Z"),
    ];

    private static FuzzTarget EventTarget(ReportContext context, List<byte[]> aggregates)
    {
        var function = new Function(new AggregatorConfig { TableName = "fuzz", SumFields = ["amount", "durationMs"], TopKField = "page" }, new NullAggregateSink());
        var corpus = new List<byte[]>();
        long reported = 0;
        int n = 0;
        foreach (var packing in Enum.GetValues<ConsumerBenchData.Packing>())
        {
            foreach (int records in new[] { 1, 5, 40 })
            {
                var evt = ConsumerBenchData.WindowEvent(records, packing);
                if (n % 2 == 1)
                {
                    // the state a previous invoke returned, so damage reaches the state parser too
                    var state = function.ProcessAsync(evt).GetAwaiter().GetResult().Response.State;
                    evt = evt with { State = state };
                }
                if (n++ % 3 == 2)
                {
                    evt = evt with { IsFinalInvokeForWindow = true };
                }
                corpus.Add(JsonSerializer.SerializeToUtf8Bytes(evt, KinesisEventsJsonContext.Default.KinesisTimeWindowEvent));
            }
        }
        return new FuzzTarget
        {
            Name = "Lambda event document",
            Decoder = "Aggregator `Function.FunctionHandler` (event JSON stream in, response out)",
            Documented = "JsonException, AggregatorEventException, AggregatorStateException (bad records become batch item failures)",
            Corpus = corpus,
            Inputs = context.Scale(120_000, 12_000),
            Structured = (random, document) => MutateEvent(random, document, aggregates),
            Decode = data =>
            {
                using var input = new MemoryStream(data, writable: false);
                using var output = function.FunctionHandler(input).GetAwaiter().GetResult();
                var response = JsonSerializer.Deserialize(output, KinesisEventsJsonContext.Default.KinesisTimeWindowResponse);
                if (response?.BatchItemFailures is { Count: > 0 })
                {
                    reported++;
                }
            },
            ReportedRecordFailures = () => reported,
            IsTyped = e => e is JsonException or AggregatorEventException or AggregatorStateException,
        };
    }

    /// <summary>Format-aware damage to an event: a record's data replaced by a damaged aggregate or frame, a property
    /// set to a value of another type or range, a property removed, records duplicated.</summary>
    private static byte[] MutateEvent(Random random, byte[] document, List<byte[]> aggregates)
    {
        var root = JsonNode.Parse(document)!.AsObject();
        var records = root["Records"]?.AsArray();
        switch (random.Next(4))
        {
            case 0 when records is { Count: > 0 }:
            {
                var record = records[random.Next(records.Count)]!["kinesis"]!.AsObject();
                byte[] data = aggregates[random.Next(aggregates.Count)];
                if (random.Next(2) == 0)
                {
                    data = CompressedFrame.Encode(data, (CompressionCodec)random.Next(5));
                }
                var (damaged, _) = Mutator.Mutate(random, data, aggregates, CompressedFrame.HasMagic(data) ? FrameLengthFields : Mutator.KplLengthFields);
                damaged = CompressedFrame.HasMagic(damaged) ? FixFrameCrc(damaged) : FixKplDigest(damaged);
                record["data"] = Convert.ToBase64String(damaged);
                break;
            }
            case 1 when records is { Count: > 0 }:
                records.Add(records[random.Next(records.Count)]!.DeepClone());
                break;
            default:
            {
                var nodes = new List<JsonNode>();
                Collect(root, nodes);
                var target = nodes[random.Next(nodes.Count)];
                if (target.Parent is JsonObject parent)
                {
                    string name = target.GetPropertyName();
                    if (random.Next(3) == 0)
                    {
                        parent.Remove(name);
                    }
                    else
                    {
                        parent[name] = random.Next(3) == 0 ? new JsonArray() : random.Next(2) == 0 ? new JsonObject() : OddValues[random.Next(OddValues.Length)]?.DeepClone();
                    }
                }
                else if (target.Parent is JsonArray array)
                {
                    array[target.GetElementIndex()] = OddValues[random.Next(OddValues.Length)]?.DeepClone();
                }
                break;
            }
        }
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    private static void Collect(JsonNode node, List<JsonNode> into)
    {
        if (node.Parent is not null)
        {
            into.Add(node);
        }
        if (node is JsonObject obj)
        {
            foreach (var (_, child) in obj)
            {
                if (child is not null)
                {
                    Collect(child, into);
                }
            }
        }
        else if (node is JsonArray array)
        {
            foreach (var child in array)
            {
                if (child is not null)
                {
                    Collect(child, into);
                }
            }
        }
    }
}
