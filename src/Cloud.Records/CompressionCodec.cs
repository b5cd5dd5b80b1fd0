namespace Cloud.Records;

/// <summary>Codecs of the compressed frame; the numeric value is the codec id byte written in the frame.</summary>
public enum CompressionCodec : byte
{
    /// <summary>Stored: no compression (the frame still adds its checksum and marks the bytes as framed).</summary>
    None = 0,

    /// <summary>gzip (RFC 1952) via System.IO.Compression; the payload is readable by <c>gzip -d</c>.</summary>
    Gzip = 1,

    /// <summary>Zstandard frame (RFC 8878) via ZstdSharp.Port; the payload is readable by <c>zstd -d</c>.</summary>
    Zstd = 2,

    /// <summary>LZ4 block format (no LZ4 frame header; lengths come from our frame) via K4os.Compression.LZ4.</summary>
    Lz4 = 3,

    /// <summary>Snappy raw block format (with its own leading length varint) via Snappier.</summary>
    Snappy = 4,
}
