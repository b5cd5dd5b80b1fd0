using System.Buffers;
using System.Text.Json;
using Avro;
using Avro.Generic;
using Avro.IO;
using Cloud.Schemas.Avro;
using Json.Schema;

namespace Cloud.Schemas;

/// <summary>
/// Encodes records of one schema version to their payload (Avro binary or JSON text) and decodes payloads back to
/// their JSON view. Built once per version and shared: thread-safe.
/// </summary>
public abstract class RecordCodec
{
    private protected RecordCodec(SchemaVersion version) => Version = version;

    /// <summary>The schema version this codec writes and reads.</summary>
    public SchemaVersion Version { get; }

    /// <summary>Builds the codec of <paramref name="version"/>.</summary>
    /// <exception cref="InvalidSchemaException">The stored definition does not parse.</exception>
    public static RecordCodec Create(SchemaVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        return version.Format switch
        {
            SchemaFormat.Avro => new AvroCodec(version),
            SchemaFormat.Json => new JsonCodec(version),
            _ => throw new ArgumentOutOfRangeException(nameof(version), version.Format, "unknown format"),
        };
    }

    /// <summary>Validates <paramref name="record"/> and returns its payload (without the GSR header).</summary>
    /// <exception cref="RecordValidationException">The record does not match the schema; nothing is produced.</exception>
    public abstract byte[] EncodePayload(JsonElement record);

    /// <summary>Validates <paramref name="record"/> and returns the complete GSR record (header + payload).</summary>
    /// <exception cref="RecordValidationException">The record does not match the schema; nothing is produced.</exception>
    public byte[] Encode(JsonElement record, GsrCompression compression = GsrCompression.None) =>
        GsrWireFormat.Encode(EncodePayload(record), Version.VersionId, compression);

    /// <summary>Decodes a payload written with this version and writes its JSON view.</summary>
    /// <exception cref="SchemaDataException">The bytes do not match the schema.</exception>
    public abstract void WriteJson(ReadOnlyMemory<byte> payload, Utf8JsonWriter writer);

    /// <summary>Decodes a payload written with this version to its JSON view (UTF-8).</summary>
    /// <exception cref="SchemaDataException">The bytes do not match the schema.</exception>
    public byte[] DecodeToJson(ReadOnlyMemory<byte> payload)
    {
        var buffer = new ArrayBufferWriter<byte>(Math.Max(64, payload.Length * 2));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteJson(payload, writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private sealed class AvroCodec : RecordCodec
    {
        private readonly Schema _schema;

        public AvroCodec(SchemaVersion version)
            : base(version) => _schema = SchemaDefinitions.ParseAvro(version.Definition);

        public override byte[] EncodePayload(JsonElement record)
        {
            object? datum = AvroJson.ToDatum(_schema, record);
            using var stream = new MemoryStream(64);
            var writer = new GenericDatumWriter<object?>(_schema);
            try
            {
                writer.Write(datum, new BinaryEncoder(stream));
            }
            catch (AvroException ex)
            {
                // ToDatum validated the shape; Avro's own checks (e.g. a union branch it cannot pick) land here.
                throw new RecordValidationException("$", $"Avro refused the record: {ex.GetType().Name}", ex);
            }

            return stream.ToArray();
        }

        public override void WriteJson(ReadOnlyMemory<byte> payload, Utf8JsonWriter writer)
        {
            object? datum;
            using var stream = new MemoryStream(payload.ToArray(), writable: false);
            try
            {
                var reader = new GenericDatumReader<object?>(_schema, _schema);
                datum = reader.Read(null, new BoundedBinaryDecoder(stream, Version.VersionId));
            }
            catch (Exception ex) when (ex is AvroException or EndOfStreamException or IOException or InvalidCastException
                or ArgumentException or IndexOutOfRangeException or OverflowException or OutOfMemoryException or FormatException)
            {
                throw new SchemaDataException(Version.VersionId, $"Avro binary decoding failed ({ex.GetType().Name})", ex);
            }

            if (stream.Position != stream.Length)
            {
                throw new SchemaDataException(Version.VersionId, $"{stream.Length - stream.Position} bytes are left over after the record");
            }

            AvroJson.Write(writer, _schema, datum);
        }
    }

    private sealed class JsonCodec : RecordCodec
    {
        private readonly JsonSchema _schema;

        public JsonCodec(SchemaVersion version)
            : base(version) => _schema = SchemaDefinitions.ParseJsonSchema(version.Definition);

        public override byte[] EncodePayload(JsonElement record)
        {
            Validate(record);
            var buffer = new ArrayBufferWriter<byte>(256);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                record.WriteTo(writer);
            }

            return buffer.WrittenSpan.ToArray();
        }

        public override void WriteJson(ReadOnlyMemory<byte> payload, Utf8JsonWriter writer)
        {
            // JsonDocument checks UTF-8 only when a string is read, and then throws InvalidOperationException.
            if (FirstInvalidUtf8(payload.Span) is int bad and >= 0)
            {
                throw new SchemaDataException(Version.VersionId, $"the payload is not UTF-8 JSON: invalid UTF-8 at byte {bad}");
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(payload);
            }
            catch (JsonException ex)
            {
                throw new SchemaDataException(Version.VersionId, $"the payload is not JSON (byte {ex.BytePositionInLine})", ex);
            }

            using (document)
            {
                try
                {
                    Validate(document.RootElement);
                }
                catch (RecordValidationException ex)
                {
                    throw new SchemaDataException(Version.VersionId, ex.Message, ex);
                }

                document.RootElement.WriteTo(writer);
            }
        }

        private static int FirstInvalidUtf8(ReadOnlySpan<byte> text)
        {
            if (System.Text.Unicode.Utf8.IsValid(text))
            {
                return -1;
            }

            int at = 0;
            while (System.Text.Rune.DecodeFromUtf8(text[at..], out _, out int consumed) == System.Buffers.OperationStatus.Done)
            {
                at += consumed;
            }

            return at;
        }

        private static readonly EvaluationOptions Flag = new() { OutputFormat = OutputFormat.Flag };
        private static readonly EvaluationOptions List = new() { OutputFormat = OutputFormat.List };

        private void Validate(JsonElement record)
        {
            // The flag evaluation stops at the first failure; only an invalid record pays for the located report.
            if (_schema.Evaluate(record, Flag).IsValid)
            {
                return;
            }

            EvaluationResults results = _schema.Evaluate(record, List);

            foreach (EvaluationResults detail in results.Details ?? [])
            {
                if (detail.Errors is { Count: > 0 } errors)
                {
                    string location = detail.InstanceLocation.ToString();
                    string path = "$" + location.Replace('/', '.');
                    var rule = errors.First();
                    throw new RecordValidationException(path, $"violates '{rule.Key}'");
                }
            }

            throw new RecordValidationException("$", "does not match the JSON Schema");
        }
    }
}
