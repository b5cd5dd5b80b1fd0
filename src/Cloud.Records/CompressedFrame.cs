using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using Cloud.Records.Internal;

namespace Cloud.Records;

/// <summary>
/// This project's self-describing compressed record format (version 1):
/// <code>
/// offset  size  field
/// 0       4     magic C1 4B 43 46 (0xC1 never occurs in UTF-8, then "KCF")
/// 4       1     version = 1
/// 5       1     codec id (0 None, 1 Gzip, 2 Zstd, 3 Lz4, 4 Snappy)
/// 6       1-5   uncompressed length, unsigned LEB128 varint (protobuf style), at most 2^31 - 1
/// ...     1-5   compressed length, unsigned LEB128 varint
/// ...     n     payload (compressed length bytes)
/// end-4   4     CRC-32 (IEEE 802.3 / zlib polynomial) of every preceding byte of the frame, little-endian
/// </code>
/// The frame ends right after the CRC; trailing bytes are an error. Decoding bounds the declared uncompressed
/// length (10 MiB by default) before allocating, so a small frame cannot claim a huge output.
/// </summary>
public static class CompressedFrame
{
    /// <summary>The frame format version this library writes and reads.</summary>
    public const byte Version = 1;

    /// <summary>Length of the magic prefix.</summary>
    public const int MagicLength = 4;

    /// <summary>Smallest possible frame: magic, version, codec, two one-byte lengths, CRC.</summary>
    public const int MinimumLength = MagicLength + 1 + 1 + 1 + 1 + ChecksumLength;

    /// <summary>Length of the CRC-32 trailer.</summary>
    public const int ChecksumLength = 4;

    /// <summary>Default bound on a frame's declared uncompressed length: 10 MiB, the largest Kinesis record.</summary>
    public const int DefaultMaxDecompressedSize = 10 * 1024 * 1024;

    private const int MaxHeaderLength = MagicLength + 2 + 5 + 5;

    /// <summary>The magic bytes C1 4B 43 46 that start every frame.</summary>
    public static ReadOnlySpan<byte> Magic => [0xC1, 0x4B, 0x43, 0x46];

    /// <summary>True when <paramref name="data"/> starts with the frame magic (nothing else is checked).</summary>
    public static bool HasMagic(ReadOnlySpan<byte> data) => data.Length >= MagicLength && data[..MagicLength].SequenceEqual(Magic);

    /// <summary>Largest frame <see cref="Encode(ReadOnlySpan{byte}, CompressionCodec, Span{byte}, CompressionLevel)"/> can produce for this input length.</summary>
    public static int GetMaxEncodedLength(int uncompressedLength, CompressionCodec codec)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(uncompressedLength);
        ValidateCodec(codec);
        return checked(MaxHeaderLength + Codecs.MaxCompressedLength(codec, uncompressedLength) + ChecksumLength);
    }

    /// <summary>Compresses <paramref name="source"/> into a frame written to <paramref name="destination"/>.</summary>
    /// <returns>The frame length.</returns>
    /// <exception cref="ArgumentException">
    /// <paramref name="destination"/> is shorter than <see cref="GetMaxEncodedLength"/>, or the codec is not defined.
    /// </exception>
    public static int Encode(ReadOnlySpan<byte> source, CompressionCodec codec, Span<byte> destination, CompressionLevel level = CompressionLevel.Optimal)
    {
        int max = GetMaxEncodedLength(source.Length, codec);
        if (destination.Length < max)
        {
            throw new ArgumentException($"Destination has {destination.Length} bytes; a {codec} frame of {source.Length} input bytes may need {max}.", nameof(destination));
        }
        int bound = Codecs.MaxCompressedLength(codec, source.Length);
        Magic.CopyTo(destination);
        destination[4] = Version;
        destination[5] = (byte)codec;
        int pos = 6 + ProtoWire.WriteVarint(destination[6..], (uint)source.Length);
        // Compress after room for the widest length varint, then move the payload back if the real varint is shorter.
        int reserved = ProtoWire.VarintSize((uint)bound);
        int payloadAt = pos + reserved;
        int compressed = Codecs.Compress(codec, level, source, destination.Slice(payloadAt, bound));
        int lengthSize = ProtoWire.WriteVarint(destination[pos..], (uint)compressed);
        if (lengthSize != reserved)
        {
            destination.Slice(payloadAt, compressed).CopyTo(destination[(pos + lengthSize)..]);
        }
        pos += lengthSize + compressed;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[pos..], Crc32.HashToUInt32(destination[..pos]));
        return pos + ChecksumLength;
    }

    /// <summary>Compresses <paramref name="source"/> into a new frame array.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> source, CompressionCodec codec, CompressionLevel level = CompressionLevel.Optimal)
    {
        int max = GetMaxEncodedLength(source.Length, codec);
        byte[] rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            int n = Encode(source, codec, rented, level);
            return rented.AsSpan(0, n).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Compresses <paramref name="source"/> into a frame appended to <paramref name="writer"/>; returns its length.</summary>
    public static int Encode(ReadOnlySpan<byte> source, CompressionCodec codec, IBufferWriter<byte> writer, CompressionLevel level = CompressionLevel.Optimal)
    {
        ArgumentNullException.ThrowIfNull(writer);
        int n = Encode(source, codec, writer.GetSpan(GetMaxEncodedLength(source.Length, codec)), level);
        writer.Advance(n);
        return n;
    }

    /// <summary>
    /// Reads and checks a frame's header, lengths and CRC without decompressing.
    /// </summary>
    /// <exception cref="CompressedFrameException">The frame is damaged (message names the codec and offset).</exception>
    public static CompressedFrameInfo ReadInfo(ReadOnlySpan<byte> frame)
    {
        if (!HasMagic(frame))
        {
            throw new CompressedFrameException(0, "missing magic C1 4B 43 46");
        }
        if (frame.Length < MinimumLength)
        {
            throw new CompressedFrameException(frame.Length, $"truncated: {frame.Length} bytes, a frame has at least {MinimumLength}");
        }
        if (frame[4] != Version)
        {
            throw new CompressedFrameException(4, $"unsupported frame version {frame[4]} (this library reads version {Version})");
        }
        byte codecId = frame[5];
        var bodyEnd = frame.Length - ChecksumLength;
        var header = frame[..bodyEnd];
        int pos = 6;
        CompressionCodec? codec = codecId <= (byte)CompressionCodec.Snappy ? (CompressionCodec)codecId : null;
        ulong uncompressed = ReadLength(header, ref pos, "uncompressed length", codec);
        int compressedAt = pos;
        ulong compressed = ReadLength(header, ref pos, "compressed length", codec);
        if (compressed != (ulong)(bodyEnd - pos))
        {
            string problem = compressed > (ulong)(bodyEnd - pos)
                ? $"compressed length {compressed} runs past the end: {bodyEnd - pos} payload bytes before the checksum (truncated frame?)"
                : $"compressed length {compressed} leaves {(ulong)(bodyEnd - pos) - compressed} trailing bytes before the checksum";
            throw new CompressedFrameException(compressedAt, problem, codec);
        }
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(frame[bodyEnd..]);
        uint actual = Crc32.HashToUInt32(header);
        if (stored != actual)
        {
            throw new CompressedFrameException(bodyEnd, $"CRC-32 mismatch: frame says 0x{stored:X8}, bytes 0..{bodyEnd - 1} hash to 0x{actual:X8} (corrupt frame)", codec);
        }
        if (codec is null)
        {
            throw new UnknownCodecException(5, codecId);
        }
        return new CompressedFrameInfo(codec.Value, (int)uncompressed, pos, (int)compressed);
    }

    /// <summary>Decompresses a frame into a new array.</summary>
    /// <param name="frame">The whole frame (magic to CRC).</param>
    /// <param name="maxDecompressedSize">Refuse frames that declare more output than this.</param>
    /// <exception cref="CompressedFrameException">The frame is damaged, names an unknown codec, or declares more than the limit.</exception>
    public static byte[] Decode(ReadOnlySpan<byte> frame, int maxDecompressedSize = DefaultMaxDecompressedSize)
    {
        var info = ReadInfo(frame);
        CheckLimit(info, maxDecompressedSize);
        var output = GC.AllocateUninitializedArray<byte>(info.UncompressedLength);
        DecodePayload(frame, info, output);
        return output;
    }

    /// <summary>Decompresses a frame into <paramref name="destination"/>; returns the bytes written.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than the declared uncompressed length.</exception>
    /// <exception cref="CompressedFrameException">The frame is damaged, names an unknown codec, or declares more than the limit.</exception>
    public static int Decode(ReadOnlySpan<byte> frame, Span<byte> destination, int maxDecompressedSize = DefaultMaxDecompressedSize)
    {
        var info = ReadInfo(frame);
        CheckLimit(info, maxDecompressedSize);
        if (destination.Length < info.UncompressedLength)
        {
            throw new ArgumentException($"Destination has {destination.Length} bytes; the frame decodes to {info.UncompressedLength}.", nameof(destination));
        }
        DecodePayload(frame, info, destination[..info.UncompressedLength]);
        return info.UncompressedLength;
    }

    /// <summary>Decompresses a frame whose header was already read (and limit-checked) by the caller.</summary>
    internal static byte[] Decode(ReadOnlySpan<byte> frame, CompressedFrameInfo info)
    {
        var output = GC.AllocateUninitializedArray<byte>(info.UncompressedLength);
        DecodePayload(frame, info, output);
        return output;
    }

    /// <summary>Decompresses a frame whose header was already read into <paramref name="output"/> (exactly the uncompressed length).</summary>
    internal static void Decode(ReadOnlySpan<byte> frame, CompressedFrameInfo info, Span<byte> output) => DecodePayload(frame, info, output);

    private static void DecodePayload(ReadOnlySpan<byte> frame, CompressedFrameInfo info, Span<byte> output)
    {
        int produced;
        try
        {
            produced = Codecs.Decompress(info.Codec, frame.Slice(info.PayloadOffset, info.CompressedLength), output);
        }
        catch (InvalidDataException ex)
        {
            throw new CompressedFrameException(info.PayloadOffset, $"payload does not decode: {ex.Message}", info.Codec, ex);
        }
        if (produced != info.UncompressedLength)
        {
            throw new CompressedFrameException(info.PayloadOffset, $"payload decodes to {produced} bytes, header declares {info.UncompressedLength}", info.Codec);
        }
    }

    private static void CheckLimit(CompressedFrameInfo info, int maxDecompressedSize)
    {
        if (info.UncompressedLength > maxDecompressedSize)
        {
            throw new CompressedFrameException(6, $"declares {info.UncompressedLength} uncompressed bytes, over the limit of {maxDecompressedSize}", info.Codec);
        }
    }

    private static ulong ReadLength(ReadOnlySpan<byte> header, ref int pos, string what, CompressionCodec? codec)
    {
        int start = pos;
        var status = ProtoWire.TryReadVarint(header, ref pos, out ulong value);
        if (status != VarintStatus.Ok)
        {
            throw new CompressedFrameException(start, status == VarintStatus.Truncated ? $"truncated {what}" : $"{what} varint overflows", codec);
        }
        if (value > int.MaxValue || pos - start > 5)
        {
            throw new CompressedFrameException(start, $"{what} {value} is out of range (at most 2^31 - 1 in at most 5 bytes)", codec);
        }
        if (pos - start != ProtoWire.VarintSize(value))
        {
            // The format says minimal LEB128: one spelling per frame, so padded lengths cannot smuggle bytes past a reader.
            throw new CompressedFrameException(start, $"{what} varint is not minimal: {pos - start} bytes for {value}, which takes {ProtoWire.VarintSize(value)}", codec);
        }
        return value;
    }

    private static void ValidateCodec(CompressionCodec codec)
    {
        if ((byte)codec > (byte)CompressionCodec.Snappy)
        {
            throw new ArgumentOutOfRangeException(nameof(codec), codec, "Unknown compression codec.");
        }
    }
}

/// <summary>What a compressed frame's header says (its CRC already verified).</summary>
/// <param name="Codec">The codec.</param>
/// <param name="UncompressedLength">Declared length after decompression.</param>
/// <param name="PayloadOffset">Offset of the compressed payload in the frame.</param>
/// <param name="CompressedLength">Length of the compressed payload.</param>
public readonly record struct CompressedFrameInfo(CompressionCodec Codec, int UncompressedLength, int PayloadOffset, int CompressedLength);
