namespace Cloud.Records;

/// <summary>
/// Base of the typed errors raised when a Kinesis record's bytes claim a format (KPL aggregate, compressed
/// frame) but do not follow it. Carries the byte offset where decoding failed.
/// </summary>
public abstract class RecordFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="offset">Byte offset in the decoded buffer where the problem was found.</param>
    /// <param name="problem">What is wrong, without the offset.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    protected RecordFormatException(int offset, string problem, Exception? innerException = null)
        : base(problem, innerException)
    {
        Offset = offset;
        Problem = problem;
    }

    /// <summary>Byte offset, within the bytes given to the decoder, where decoding failed.</summary>
    public int Offset { get; }

    /// <summary>What is wrong (the message without the location prefix).</summary>
    public string Problem { get; }

    /// <summary>Sequence number of the Kinesis record being decoded, when the caller supplied one.</summary>
    public string? SequenceNumber { get; internal set; }

    /// <summary>Short name of the format, used in the message.</summary>
    protected abstract string FormatName { get; }

    /// <inheritdoc />
    public override string Message =>
        SequenceNumber is null
            ? $"{FormatName} at byte {Offset}: {Problem}"
            : $"{FormatName} in record {SequenceNumber} at byte {Offset}: {Problem}";
}

/// <summary>
/// A record carries the KPL magic and a matching MD5, so it is an aggregate, but its protobuf body is
/// malformed (truncated varint, bad key-table index, missing required field, wrong wire type, ...).
/// </summary>
public sealed class AggregateFormatException : RecordFormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="offset">Byte offset from the start of the aggregate (magic included).</param>
    /// <param name="problem">What is wrong.</param>
    /// <param name="subRecordIndex">Index of the sub-record being read, or -1 when the error is outside records.</param>
    public AggregateFormatException(int offset, string problem, int subRecordIndex = -1)
        : base(offset, problem)
    {
        SubRecordIndex = subRecordIndex;
    }

    /// <summary>Index of the sub-record being read when the error was found, or -1.</summary>
    public int SubRecordIndex { get; }

    /// <inheritdoc />
    protected override string FormatName => SubRecordIndex >= 0 ? $"KPL aggregate (sub-record {SubRecordIndex})" : "KPL aggregate";
}

/// <summary>
/// A record starts with the compressed-frame magic but the frame is damaged: unknown version, truncated
/// header, bad lengths, checksum mismatch, a payload the codec rejects, or a declared size over the limit.
/// </summary>
public class CompressedFrameException : RecordFormatException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="offset">Byte offset from the start of the frame.</param>
    /// <param name="problem">What is wrong.</param>
    /// <param name="codec">The frame's codec when it was already read.</param>
    /// <param name="innerException">The codec's own error, if any.</param>
    public CompressedFrameException(int offset, string problem, CompressionCodec? codec = null, Exception? innerException = null)
        : base(offset, problem, innerException)
    {
        Codec = codec;
    }

    /// <summary>The frame's codec, or null when the error came before (or in) the codec byte.</summary>
    public CompressionCodec? Codec { get; }

    /// <inheritdoc />
    protected override string FormatName => Codec is { } c ? $"Compressed frame ({c})" : "Compressed frame";
}

/// <summary>A compressed frame names a codec id this library does not know.</summary>
public sealed class UnknownCodecException : CompressedFrameException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="offset">Offset of the codec byte.</param>
    /// <param name="codecId">The unknown id.</param>
    public UnknownCodecException(int offset, byte codecId)
        : base(offset, $"unknown codec id {codecId} (known: 0 None, 1 Gzip, 2 Zstd, 3 Lz4, 4 Snappy)")
    {
        CodecId = codecId;
    }

    /// <summary>The codec id found in the frame.</summary>
    public byte CodecId { get; }
}

/// <summary>Which bound a <see cref="DecompressionLimitException"/> hit.</summary>
public enum DecompressionLimitScope
{
    /// <summary>All frames of one Kinesis record together (<see cref="RecordDecoderOptions.MaxDecompressedBytesPerRecord"/>).</summary>
    Record,

    /// <summary>All records decoded against one <see cref="DecompressionBudget"/> (<see cref="RecordDecoderOptions.MaxDecompressedBytesPerBatch"/>).</summary>
    Batch,
}

/// <summary>
/// Decompressing a record would produce more bytes than a bound allows: every frame may be under the per-frame
/// limit while together they are not (a decompression bomb of many small frames). Raised from the frames' declared
/// lengths, before the bytes are allocated. Only this record fails; the decoder can go on with the next one.
/// </summary>
public sealed class DecompressionLimitException : CompressedFrameException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="offset">Offset, in the frame that would cross the bound, of its uncompressed length.</param>
    /// <param name="problem">What was refused.</param>
    /// <param name="scope">Which bound.</param>
    /// <param name="limit">The bound in bytes.</param>
    /// <param name="codec">The codec of the frame that would cross the bound.</param>
    public DecompressionLimitException(int offset, string problem, DecompressionLimitScope scope, long limit, CompressionCodec? codec = null)
        : base(offset, problem, codec)
    {
        Scope = scope;
        Limit = limit;
    }

    /// <summary>Which bound was hit.</summary>
    public DecompressionLimitScope Scope { get; }

    /// <summary>The bound, in bytes.</summary>
    public long Limit { get; }
}
