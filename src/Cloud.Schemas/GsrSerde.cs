using System.Collections.Concurrent;
using System.Text.Json;

namespace Cloud.Schemas;

/// <summary>
/// Producer side: validates JSON records against one schema version and writes them in the GSR wire format. The
/// version is resolved once, when the serializer is created; serializing a record never calls the registry.
/// </summary>
public sealed class GsrSerializer
{
    private readonly RecordCodec _codec;
    private readonly GsrCompression _compression;

    private GsrSerializer(RecordCodec codec, GsrCompression compression)
    {
        _codec = codec;
        _compression = compression;
    }

    /// <summary>The schema version every record is written with.</summary>
    public SchemaVersion Version => _codec.Version;

    /// <summary>Resolves version <paramref name="versionNumber"/> (or the latest) of <paramref name="schemaName"/> once.</summary>
    /// <exception cref="SchemaNotFoundException">No such schema.</exception>
    /// <exception cref="SchemaVersionNotFoundException">No such version.</exception>
    public static async Task<GsrSerializer> CreateAsync(ISchemaRegistry registry, string schemaName, int? versionNumber = null,
        GsrCompression compression = GsrCompression.None, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        SchemaVersion version = await registry.GetVersionAsync(schemaName, versionNumber, cancellationToken).ConfigureAwait(false);
        return new GsrSerializer(RecordCodec.Create(version), compression);
    }

    /// <summary>A serializer for an already resolved version.</summary>
    public static GsrSerializer For(SchemaVersion version, GsrCompression compression = GsrCompression.None) =>
        new(RecordCodec.Create(version), compression);

    /// <summary>Validates and encodes one record.</summary>
    /// <exception cref="RecordValidationException">The record does not match the schema (names the field); nothing is produced.</exception>
    public byte[] Serialize(JsonElement record) => _codec.Encode(record, _compression);

    /// <summary>Parses a JSON text, validates and encodes it.</summary>
    /// <exception cref="RecordValidationException">Not JSON, or not matching the schema.</exception>
    public byte[] Serialize(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new RecordValidationException("$", $"not JSON (line {ex.LineNumber + 1}, position {ex.BytePositionInLine + 1})", ex);
        }

        using (document)
        {
            return Serialize(document.RootElement);
        }
    }
}

/// <summary>A GSR record decoded to its JSON view.</summary>
/// <param name="Version">The writer's schema version (name, number, id).</param>
/// <param name="Json">The record as UTF-8 JSON.</param>
public sealed record GsrDecodedRecord(SchemaVersion Version, ReadOnlyMemory<byte> Json);

/// <summary>
/// Consumer side: decodes GSR records to their JSON view with the writer's schema, fetched by the version id in the
/// header (through the registry, which should be a <see cref="CachingSchemaRegistry"/>) and kept as a parsed codec.
/// Thread-safe.
/// </summary>
public sealed class GsrDeserializer
{
    private readonly ISchemaRegistry _registry;
    private readonly ConcurrentDictionary<Guid, RecordCodec> _codecs = new();
    private readonly int _maxCodecs;

    /// <summary>Creates the deserializer.</summary>
    /// <param name="registry">Where versions are looked up.</param>
    /// <param name="maxCodecs">Most parsed schemas kept (the cache is cleared when it would grow past it).</param>
    public GsrDeserializer(ISchemaRegistry registry, int maxCodecs = 1000)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCodecs, 1);
        _registry = registry;
        _maxCodecs = maxCodecs;
    }

    /// <summary>Decodes one GSR record.</summary>
    /// <exception cref="GsrFormatException">A bad header or compressed payload.</exception>
    /// <exception cref="SchemaVersionNotFoundException">The header's version id is not registered.</exception>
    /// <exception cref="SchemaDataException">The payload does not match the schema.</exception>
    public async ValueTask<GsrDecodedRecord> DecodeAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        GsrMessage message = GsrWireFormat.Decode(data);
        if (!_codecs.TryGetValue(message.SchemaVersionId, out RecordCodec? codec))
        {
            SchemaVersion version = await _registry.GetVersionAsync(message.SchemaVersionId, cancellationToken).ConfigureAwait(false);
            codec = RecordCodec.Create(version);
            if (_codecs.Count >= _maxCodecs)
            {
                _codecs.Clear();
            }

            _codecs[message.SchemaVersionId] = codec;
        }

        return new GsrDecodedRecord(codec.Version, codec.DecodeToJson(message.Payload));
    }
}
