using Cloud.Schemas;

namespace Cloud.Consumer.Schemas;

/// <summary>
/// <see cref="IUserRecordTransform"/> that turns AWS Glue Schema Registry records (header byte 3 and a known
/// compression byte, <see cref="GsrWireFormat.IsGsr"/>) into their JSON view, with the writer's schema fetched by the
/// version id in the header (use a <see cref="CachingSchemaRegistry"/>: one lookup per version, not per record).
/// Other records pass through untouched, so plain JSON and GSR records can share a stream. An unknown version id, a
/// bad header or bytes that do not match the schema throw a typed <see cref="SchemaException"/> or
/// <see cref="GsrFormatException"/>, which fails that record only (stage <see cref="RecordFailureStage.Transform"/>).
/// Put it before stages that read JSON (for example <see cref="Privacy.DecryptingTransform"/>).
/// </summary>
public sealed class GsrDecodingTransform : IUserRecordTransform
{
    private readonly GsrDeserializer _deserializer;

    /// <summary>Creates the stage over <paramref name="registry"/>.</summary>
    public GsrDecodingTransform(ISchemaRegistry registry)
        : this(new GsrDeserializer(registry))
    {
    }

    /// <summary>Creates the stage over a shared deserializer.</summary>
    public GsrDecodingTransform(GsrDeserializer deserializer)
    {
        ArgumentNullException.ThrowIfNull(deserializer);
        _deserializer = deserializer;
    }

    /// <inheritdoc />
    public async ValueTask<UserRecordContext> TransformAsync(UserRecordContext record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!GsrWireFormat.IsGsr(record.Data.Span))
        {
            return record;
        }

        GsrDecodedRecord decoded = await _deserializer.DecodeAsync(record.Data, cancellationToken).ConfigureAwait(false);
        return record with { Data = decoded.Json, Schema = decoded.Version };
    }
}
