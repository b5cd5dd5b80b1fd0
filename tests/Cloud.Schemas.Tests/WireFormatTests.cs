using System.Text;

namespace Cloud.Schemas.Tests;

/// <summary>
/// Golden GSR records from awslabs/aws-glue-schema-registry's own tests
/// (kafkastreams-serde GlueSchemaRegistryKafkaStreamsSerdeTest: avroGenericBytes, avroSpecificBytes, jsonGenericBytes),
/// written by the Java serializer for schema version id b7b4a7f0-9c96-4e4a-a687-fb5de9ef0c63 and the schema
/// serializer-deserializer/src/test/resources/avro/user.avsc.
/// </summary>
public class WireFormatTests
{
    internal static readonly Guid GoldenVersionId = Guid.Parse("b7b4a7f0-9c96-4e4a-a687-fb5de9ef0c63");

    internal const string UserAvsc = """
        {
          "namespace": "com.amazonaws.services.schemaregistry.serializers.avro",
          "type": "record",
          "name": "User",
          "fields": [
              {"name": "name", "type": "string" },
              {"name": "favorite_number",  "type": ["int", "null"] },
              {"name": "favorite_color", "type": ["string", "null"] }
          ]
        }
        """;

    // Java's byte is signed: these are the literal arrays from the GSR test.
    internal static readonly sbyte[] AvroGeneric =
    [
        3, 0, -73, -76, -89, -16, -100, -106, 78, 74, -90, -121, -5, 93, -23, -17, 12, 99, 10, 115, 97,
        110, 115, 97, 0, -58, 1, 0, 6, 114, 101, 100,
    ];

    internal static readonly sbyte[] AvroSpecific =
    [
        3, 0, -73, -76, -89, -16, -100, -106, 78, 74, -90, -121, -5, 93, -23, -17, 12, 99, 8, 116, 101,
        115, 116, 0, 20, 0, 12, 118, 105, 111, 108, 101, 116,
    ];

    internal static readonly sbyte[] JsonGeneric =
    [
        3, 0, -73, -76, -89, -16, -100, -106, 78, 74, -90, -121, -5, 93, -23, -17, 12, 99, 123, 34,
        102, 105, 114, 115, 116, 78, 97, 109, 101, 34, 58, 34, 74, 111, 104, 110, 34, 44, 34, 108, 97,
        115, 116, 78, 97, 109, 101, 34, 58, 34, 68, 111, 101, 34, 44, 34, 97, 103, 101, 34, 58, 50, 49,
        125,
    ];

    internal static byte[] Bytes(sbyte[] java) => java.Select(b => unchecked((byte)b)).ToArray();

    internal static SchemaVersion UserVersion(Guid? id = null) => new()
    {
        VersionId = id ?? GoldenVersionId,
        SchemaName = "User-Topic",
        VersionNumber = 1,
        Format = SchemaFormat.Avro,
        Definition = SchemaDefinitions.Normalize(SchemaFormat.Avro, UserAvsc),
    };

    [Fact]
    public void Schema_version_id_is_written_as_java_writes_a_UUID_not_as_Guid_ToByteArray()
    {
        Span<byte> bytes = stackalloc byte[16];
        GsrWireFormat.WriteSchemaVersionId(GoldenVersionId, bytes);
        Assert.Equal(Bytes(AvroGeneric)[2..18], bytes.ToArray());
        Assert.NotEqual(GoldenVersionId.ToByteArray(), bytes.ToArray());
        Assert.Equal(GoldenVersionId, GsrWireFormat.ReadSchemaVersionId(bytes));
    }

    [Theory]
    [InlineData("generic", "sansa", 99, "red")]
    [InlineData("specific", "test", 10, "violet")]
    public void Our_avro_serializer_writes_the_golden_bytes_of_gsr_java(string which, string name, int number, string color)
    {
        byte[] golden = Bytes(which == "generic" ? AvroGeneric : AvroSpecific);
        GsrSerializer serializer = GsrSerializer.For(UserVersion());
        byte[] ours = serializer.Serialize($$"""{"name":"{{name}}","favorite_number":{{number}},"favorite_color":"{{color}}"}""");
        Assert.Equal(golden, ours);
    }

    [Fact]
    public async Task Golden_avro_bytes_decode_to_their_json_view()
    {
        var deserializer = new GsrDeserializer(new InMemoryRegistry(UserVersion()));
        GsrDecodedRecord decoded = await deserializer.DecodeAsync(Bytes(AvroGeneric));
        Assert.Equal("""{"name":"sansa","favorite_number":99,"favorite_color":"red"}""", Encoding.UTF8.GetString(decoded.Json.Span));
        Assert.Equal("User-Topic", decoded.Version.SchemaName);
    }

    [Fact]
    public async Task Golden_json_bytes_decode_with_a_json_schema()
    {
        var version = new SchemaVersion
        {
            VersionId = GoldenVersionId,
            SchemaName = "Person",
            VersionNumber = 1,
            Format = SchemaFormat.Json,
            Definition = """{"type":"object","properties":{"firstName":{"type":"string"},"lastName":{"type":"string"},"age":{"type":"integer","minimum":0}},"required":["firstName"]}""",
        };
        var deserializer = new GsrDeserializer(new InMemoryRegistry(version));
        GsrDecodedRecord decoded = await deserializer.DecodeAsync(Bytes(JsonGeneric));
        Assert.Equal("""{"firstName":"John","lastName":"Doe","age":21}""", Encoding.UTF8.GetString(decoded.Json.Span));

        // and our serializer writes the same bytes
        Assert.Equal(Bytes(JsonGeneric), GsrSerializer.For(version).Serialize("""{"firstName":"John","lastName":"Doe","age":21}"""));
    }

    [Fact]
    public void Zlib_compression_byte_5_round_trips_and_is_rfc1950()
    {
        byte[] payload = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("clickstream ", 50)));
        byte[] record = GsrWireFormat.Encode(payload, GoldenVersionId, GsrCompression.Zlib);
        Assert.Equal(3, record[0]);
        Assert.Equal(5, record[1]);
        Assert.Equal(0x78, record[18]); // zlib header (CMF), as java.util.zip.Deflater writes it
        Assert.True(record.Length < payload.Length);
        GsrMessage message = GsrWireFormat.Decode(record);
        Assert.Equal(payload, message.Payload.ToArray());
        Assert.Equal(GsrCompression.Zlib, message.Compression);
    }

    [Theory]
    [InlineData(new byte[] { 2, 0 }, GsrFormatError.UnknownHeaderVersion, 0)]
    [InlineData(new byte[] { 3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, GsrFormatError.UnknownCompression, 1)]
    [InlineData(new byte[] { 3, 0, 1, 2, 3, 4, 5, 6, 7, 8 }, GsrFormatError.Truncated, 10)]
    [InlineData(new byte[] { 3 }, GsrFormatError.Truncated, 1)]
    [InlineData(new byte[] { }, GsrFormatError.Truncated, 0)]
    public void Bad_headers_are_typed_errors_naming_the_offset(byte[] data, GsrFormatError error, int offset)
    {
        var ex = Assert.Throws<GsrFormatException>(() => GsrWireFormat.Decode(data));
        Assert.Equal(error, ex.Error);
        Assert.Equal(offset, ex.Offset);
        Assert.False(GsrWireFormat.IsGsr(data));
    }

    [Fact]
    public void Corrupt_zlib_payload_is_a_typed_error()
    {
        byte[] record = GsrWireFormat.Encode(Encoding.UTF8.GetBytes("{\"a\":1}"), GoldenVersionId, GsrCompression.Zlib);
        record[^3] ^= 0xFF;
        record[20] ^= 0xFF;
        var ex = Assert.Throws<GsrFormatException>(() => GsrWireFormat.Decode(record));
        Assert.Equal(GsrFormatError.BadCompressedData, ex.Error);
    }

    [Fact]
    public async Task Bytes_not_matching_the_schema_are_a_typed_error()
    {
        var deserializer = new GsrDeserializer(new InMemoryRegistry(UserVersion()));
        byte[] golden = Bytes(AvroGeneric);
        byte[] truncated = golden[..24];
        await Assert.ThrowsAsync<SchemaDataException>(async () => await deserializer.DecodeAsync(truncated));
        byte[] extra = [.. golden, 1, 2, 3];
        await Assert.ThrowsAsync<SchemaDataException>(async () => await deserializer.DecodeAsync(extra));
    }

    [Fact]
    public async Task Unknown_version_id_is_a_typed_error()
    {
        var deserializer = new GsrDeserializer(new InMemoryRegistry());
        var ex = await Assert.ThrowsAsync<SchemaVersionNotFoundException>(async () => await deserializer.DecodeAsync(Bytes(AvroGeneric)));
        Assert.Equal(GoldenVersionId, ex.VersionId);
    }
}

public class HostileBytesTests
{
    [Theory]
    [InlineData(new byte[] { 0xFE, 0xFF, 0xFF, 0xFF, 0x0F })] // string length 2^31-1
    [InlineData(new byte[] { 0x01 })] // negative length
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })] // varint too long
    public async Task A_hostile_length_prefix_is_a_typed_error_not_a_huge_allocation(byte[] payload)
    {
        var deserializer = new GsrDeserializer(new InMemoryRegistry(WireFormatTests.UserVersion()));
        byte[] record = GsrWireFormat.Encode(payload, WireFormatTests.GoldenVersionId);
        long before = GC.GetAllocatedBytesForCurrentThread();
        await Assert.ThrowsAsync<SchemaDataException>(async () => await deserializer.DecodeAsync(record));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024 * 1024, "decoding allocated more than 64 MiB for a 23-byte record");
    }
}

public class HostileBlockCountTests
{
    [Theory]
    [InlineData("""{"type":"array","items":"int"}""")]
    [InlineData("""{"type":"map","values":"int"}""")]
    public async Task A_hostile_array_or_map_block_count_is_a_typed_error(string type)
    {
        var version = new SchemaVersion
        {
            VersionId = Guid.NewGuid(), SchemaName = "xs", VersionNumber = 1, Format = SchemaFormat.Avro,
            Definition = SchemaDefinitions.Normalize(SchemaFormat.Avro, $$"""{"type":"record","name":"A","fields":[{"name":"xs","type":{{type}}}]}"""),
        };
        var deserializer = new GsrDeserializer(new InMemoryRegistry(version));
        byte[] record = GsrWireFormat.Encode([0xFE, 0xFF, 0xFF, 0xFF, 0x0F, 0x02], version.VersionId); // 2^31-1 items, then one
        long before = GC.GetAllocatedBytesForCurrentThread();
        await Assert.ThrowsAsync<SchemaDataException>(async () => await deserializer.DecodeAsync(record));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024 * 1024, "decoding allocated more than 64 MiB for a 24-byte record");
    }
}

/// <summary>Found by the report's fuzzing (bench `fuzz` section): inputs a few dozen bytes long that made a decoder allocate gigabytes or throw an untyped error.</summary>
public class FuzzFoundTests
{
    private static SchemaVersion Version(string definition, SchemaFormat format = SchemaFormat.Avro) => new()
    {
        VersionId = Guid.NewGuid(), SchemaName = "fuzz", VersionNumber = 1, Format = format,
        Definition = SchemaDefinitions.Normalize(format, definition),
    };

    [Theory]
    // A negative block count means "count, then the block's byte size": zig-zag 2^31-1 is -(2^30) items, 8 GiB of slots.
    [InlineData("""{"type":"array","items":"int"}""", new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x02, 0x02, 0x00 })]
    [InlineData("""{"type":"map","values":"int"}""", new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x02, 0x02, 0x61, 0x02, 0x00 })]
    [InlineData("""{"type":"array","items":"string"}""", new byte[] { 0xFE, 0xFF, 0xFF, 0x7F, 0x02, 0x61, 0x00 })] // 134M items, one byte left
    [InlineData("""{"type":"array","items":"string"}""", new byte[] { 0x02, 0xFE, 0xFF, 0xFF, 0x7F, 0x61, 0x00 })] // a 134 MB string, one byte left
    public async Task A_block_count_or_length_beyond_the_bytes_left_is_refused_before_anything_is_allocated(string type, byte[] payload)
    {
        var version = Version($$"""{"type":"record","name":"A","fields":[{"name":"xs","type":{{type}}}]}""");
        var deserializer = new GsrDeserializer(new InMemoryRegistry(version));
        byte[] record = GsrWireFormat.Encode(payload, version.VersionId);
        long before = GC.GetAllocatedBytesForCurrentThread();

        var ex = await Assert.ThrowsAsync<SchemaDataException>(async () => await deserializer.DecodeAsync(record));

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1024 * 1024, $"decoding a {record.Length}-byte record allocated {GC.GetAllocatedBytesForCurrentThread() - before:N0} bytes");
        Assert.Contains("byte", ex.Message, StringComparison.Ordinal); // says where
    }

    [Fact]
    public void Blocks_and_strings_that_fit_still_decode()
    {
        var version = Version("""{"type":"record","name":"A","fields":[{"name":"xs","type":{"type":"array","items":"string"}},{"name":"m","type":{"type":"map","values":"long"}},{"name":"b","type":"bytes"}]}""");
        var codec = RecordCodec.Create(version);
        using var json = System.Text.Json.JsonDocument.Parse("""{"xs":["a","bc",""],"m":{"k":1,"l":-2},"b":"AAEC"}""");
        byte[] payload = codec.EncodePayload(json.RootElement);

        string back = Encoding.UTF8.GetString(codec.DecodeToJson(payload));

        Assert.Equal("""{"xs":["a","bc",""],"m":{"k":1,"l":-2},"b":"AAEC"}""", back);
    }

    [Fact]
    public async Task A_json_payload_that_is_not_utf8_is_a_typed_error_naming_the_byte()
    {
        var version = Version("""{"type":"object","properties":{"page":{"type":"string"}}}""", SchemaFormat.Json);
        var deserializer = new GsrDeserializer(new InMemoryRegistry(version));
        byte[] payload = [.. "{\"pa"u8, 0xFF, .. "ge\":\"/p\"}"u8];
        byte[] record = GsrWireFormat.Encode(payload, version.VersionId);

        var ex = await Assert.ThrowsAsync<SchemaDataException>(async () => await deserializer.DecodeAsync(record));

        Assert.Contains("UTF-8", ex.Message, StringComparison.Ordinal);
        Assert.Contains("byte 4", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_zlib_payload_the_inflater_refuses_is_a_typed_error()
    {
        // Fuzzing input #22610 of "GSR record, Avro" (seed 20261207): a byte inserted into the deflate stream makes
        // zlib report an error code that .NET surfaces as ZLibException (an IOException), not InvalidDataException.
        byte[] record = Convert.FromHexString("03058d6b7f436a0e4c1e9d1e2f6a1b0c3d4e787da4e328d535348ad12f28ca4f294d2e29d62f2002cc5870f5edbb340630d0736060612931602931646090800841018b8b2b0383872300a5d01c3b");

        var ex = Assert.Throws<GsrFormatException>(() => GsrWireFormat.Decode(record));

        Assert.Equal(GsrFormatError.BadCompressedData, ex.Error);
        Assert.Equal(GsrWireFormat.HeaderLength, ex.Offset);
    }
}
