using System.Buffers;
using System.IO.Compression;

namespace Cloud.Schemas;

/// <summary>Compression of a GSR payload (byte 1 of the header).</summary>
public enum GsrCompression : byte
{
    /// <summary>Byte <c>0</c>: the payload follows as is.</summary>
    None = 0,

    /// <summary>Byte <c>5</c>: the payload is zlib (RFC 1950, as <c>java.util.zip.Deflater</c> writes it).</summary>
    Zlib = 5,
}

/// <summary>
/// The AWS Glue Schema Registry wire format, as the GSR serializers for Java, Python and Node write it
/// (<c>SerializationDataEncoder</c> and <c>GlueSchemaRegistryDeserializerDataParser</c> in awslabs/aws-glue-schema-registry):
/// <code>
/// byte 0      header version, 3
/// byte 1      compression: 0 none, 5 zlib
/// bytes 2-17  schema version id: a UUID, most- then least-significant 64 bits, each big-endian (java.util.UUID)
/// bytes 18-   the payload: Avro binary encoding of the datum (no container, no single-object header) or JSON text
/// </code>
/// The UUID order is RFC 4122's, not <see cref="Guid.ToByteArray()"/>'s mixed-endian order.
/// </summary>
public static class GsrWireFormat
{
    /// <summary>The only header version GSR writes.</summary>
    public const byte HeaderVersion = 3;

    /// <summary>Header length: version, compression and the 16-byte schema version id.</summary>
    public const int HeaderLength = 18;

    /// <summary>Largest payload a zlib record may inflate to, so a small record cannot expand without bound.</summary>
    /// <value>10 MiB, the largest Kinesis record.</value>
    public const int MaxDecompressedLength = 10 * 1024 * 1024;

    /// <summary>
    /// True when <paramref name="data"/> looks like a GSR record: at least <see cref="HeaderLength"/> bytes, header
    /// version 3 and a known compression byte. Consumers use this to detect GSR records without configuration.
    /// </summary>
    public static bool IsGsr(ReadOnlySpan<byte> data) =>
        data.Length >= HeaderLength && data[0] == HeaderVersion && data[1] is (byte)GsrCompression.None or (byte)GsrCompression.Zlib;

    /// <summary>Writes the 16 bytes of a schema version id as Java's <c>UUID</c> does (big-endian most-, then least-significant bits).</summary>
    public static void WriteSchemaVersionId(Guid schemaVersionId, Span<byte> destination)
    {
        if (!schemaVersionId.TryWriteBytes(destination, bigEndian: true, out int written) || written != 16)
        {
            throw new ArgumentException("The destination must hold 16 bytes.", nameof(destination));
        }
    }

    /// <summary>Reads a schema version id written by <see cref="WriteSchemaVersionId"/> (or by GSR).</summary>
    public static Guid ReadSchemaVersionId(ReadOnlySpan<byte> source) =>
        source.Length < 16 ? throw new ArgumentException("A schema version id has 16 bytes.", nameof(source)) : new Guid(source[..16], bigEndian: true);

    /// <summary>Builds a GSR record: header, then <paramref name="payload"/> (zlib-compressed when asked).</summary>
    public static byte[] Encode(ReadOnlySpan<byte> payload, Guid schemaVersionId, GsrCompression compression = GsrCompression.None)
    {
        switch (compression)
        {
            case GsrCompression.None:
                {
                    byte[] output = new byte[HeaderLength + payload.Length];
                    WriteHeader(output, schemaVersionId, compression);
                    payload.CopyTo(output.AsSpan(HeaderLength));
                    return output;
                }

            case GsrCompression.Zlib:
                {
                    using var buffer = new MemoryStream(HeaderLength + (payload.Length / 2) + 16);
                    Span<byte> header = stackalloc byte[HeaderLength];
                    WriteHeader(header, schemaVersionId, compression);
                    buffer.Write(header);
                    using (var zlib = new ZLibStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
                    {
                        zlib.Write(payload);
                    }

                    return buffer.ToArray();
                }

            default:
                throw new ArgumentOutOfRangeException(nameof(compression), compression, "GSR knows compression 0 (none) and 5 (zlib).");
        }
    }

    /// <summary>Writes the 18-byte header.</summary>
    public static void WriteHeader(Span<byte> destination, Guid schemaVersionId, GsrCompression compression)
    {
        if (destination.Length < HeaderLength)
        {
            throw new ArgumentException($"The header needs {HeaderLength} bytes.", nameof(destination));
        }

        destination[0] = HeaderVersion;
        destination[1] = (byte)compression;
        WriteSchemaVersionId(schemaVersionId, destination.Slice(2, 16));
    }

    /// <summary>Reads the header of a GSR record without touching the payload.</summary>
    /// <exception cref="GsrFormatException">Too short for a header, unknown header version or unknown compression byte.</exception>
    public static GsrHeader ReadHeader(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0)
        {
            throw new GsrFormatException(GsrFormatError.Truncated, 0, "the record is empty; a GSR record has an 18-byte header");
        }

        if (data[0] != HeaderVersion)
        {
            throw new GsrFormatException(GsrFormatError.UnknownHeaderVersion, 0, $"unknown GSR header version byte {data[0]} at offset 0 (expected {HeaderVersion})");
        }

        if (data.Length < 2)
        {
            throw new GsrFormatException(GsrFormatError.Truncated, 1, "the record ends before the compression byte at offset 1");
        }

        if (data[1] is not ((byte)GsrCompression.None or (byte)GsrCompression.Zlib))
        {
            throw new GsrFormatException(GsrFormatError.UnknownCompression, 1, $"unknown GSR compression byte {data[1]} at offset 1 (expected 0 none or 5 zlib)");
        }

        if (data.Length < HeaderLength)
        {
            throw new GsrFormatException(GsrFormatError.Truncated, data.Length,
                $"the schema version id at offsets 2-17 is truncated: the record has {data.Length} bytes, the header needs {HeaderLength}");
        }

        return new GsrHeader(ReadSchemaVersionId(data.Slice(2, 16)), (GsrCompression)data[1]);
    }

    /// <summary>Splits a GSR record into its header and its (decompressed) payload.</summary>
    /// <exception cref="GsrFormatException">A bad header, or zlib data that is corrupt or inflates past <see cref="MaxDecompressedLength"/>.</exception>
    public static GsrMessage Decode(ReadOnlyMemory<byte> data)
    {
        GsrHeader header = ReadHeader(data.Span);
        ReadOnlyMemory<byte> body = data[HeaderLength..];
        return header.Compression == GsrCompression.None
            ? new GsrMessage(header.SchemaVersionId, header.Compression, body)
            : new GsrMessage(header.SchemaVersionId, header.Compression, Inflate(body));
    }

    private static byte[] Inflate(ReadOnlyMemory<byte> body)
    {
        byte[] chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            using var input = new MemoryStream(body.ToArray(), writable: false);
            using var zlib = new ZLibStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            int read;
            while ((read = zlib.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (output.Length + read > MaxDecompressedLength)
                {
                    throw new GsrFormatException(GsrFormatError.BadCompressedData, HeaderLength,
                        $"the zlib payload inflates past {MaxDecompressedLength} bytes");
                }

                output.Write(chunk, 0, read);
            }

            return output.ToArray();
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            // zlib's own error codes surface as ZLibException, an IOException (found by the report's fuzzing).
            throw new GsrFormatException(GsrFormatError.BadCompressedData, HeaderLength, $"the zlib payload at offset {HeaderLength} is corrupt: {ex.Message}", ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }
}

/// <summary>The header of a GSR record.</summary>
/// <param name="SchemaVersionId">The writer schema's version id.</param>
/// <param name="Compression">How the payload is compressed.</param>
public readonly record struct GsrHeader(Guid SchemaVersionId, GsrCompression Compression);

/// <summary>A decoded GSR record.</summary>
/// <param name="SchemaVersionId">The writer schema's version id.</param>
/// <param name="Compression">How the payload was compressed on the wire.</param>
/// <param name="Payload">The payload after decompression (Avro binary or JSON text).</param>
public sealed record GsrMessage(Guid SchemaVersionId, GsrCompression Compression, ReadOnlyMemory<byte> Payload);

/// <summary>What is wrong with bytes that should be a GSR record.</summary>
public enum GsrFormatError
{
    /// <summary>Fewer bytes than the 18-byte header (for example a truncated schema version id).</summary>
    Truncated,

    /// <summary>Byte 0 is not 3.</summary>
    UnknownHeaderVersion,

    /// <summary>Byte 1 is neither 0 nor 5.</summary>
    UnknownCompression,

    /// <summary>The zlib payload is corrupt or too large.</summary>
    BadCompressedData,
}

/// <summary>Bytes that are not a valid GSR record. The message names the offset, never the data.</summary>
public sealed class GsrFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public GsrFormatException(GsrFormatError error, int offset, string message, Exception? inner = null)
        : base(message, inner)
    {
        Error = error;
        Offset = offset;
    }

    /// <summary>What is wrong.</summary>
    public GsrFormatError Error { get; }

    /// <summary>Byte offset where the problem was found.</summary>
    public int Offset { get; }
}
