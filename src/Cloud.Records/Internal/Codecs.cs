using System.Buffers;
using System.IO.Compression;
using K4os.Compression.LZ4;
using Snappier;
using ZstdSharp;

namespace Cloud.Records.Internal;

/// <summary>Block compression for the frame's codecs: compress a span into a span, and decompress into an exactly sized span.</summary>
internal static class Codecs
{
    [ThreadStatic]
    private static Compressor?[]? t_zstdCompressors;

    [ThreadStatic]
    private static Decompressor? t_zstdDecompressor;

    /// <summary>Upper bound of the compressed size of <paramref name="length"/> bytes.</summary>
    public static int MaxCompressedLength(CompressionCodec codec, int length) => codec switch
    {
        CompressionCodec.None => length,
        // zlib-ng's quick strategy can expand literals by 1/8; add header, trailer and block overhead.
        CompressionCodec.Gzip => checked(length + (length >> 3) + (length >> 12) + 64),
        CompressionCodec.Zstd => Compressor.GetCompressBound(length),
        CompressionCodec.Lz4 => LZ4Codec.MaximumOutputSize(length),
        CompressionCodec.Snappy => Snappy.GetMaxCompressedLength(length),
        _ => throw new ArgumentOutOfRangeException(nameof(codec), codec, "Unknown compression codec."),
    };

    /// <summary>Compresses <paramref name="source"/> into <paramref name="destination"/> (at least <see cref="MaxCompressedLength"/> long).</summary>
    public static int Compress(CompressionCodec codec, CompressionLevel level, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        switch (codec)
        {
            case CompressionCodec.None:
                source.CopyTo(destination);
                return source.Length;
            case CompressionCodec.Gzip:
                return GzipCompress(level, source, destination);
            case CompressionCodec.Zstd:
                return ZstdCompressor(level).Wrap(source, destination);
            case CompressionCodec.Lz4:
                int n = LZ4Codec.Encode(source, destination, Lz4Level(level));
                if (n < 0 || (n == 0 && !source.IsEmpty))
                {
                    throw new InvalidOperationException("LZ4 encoder reported an output buffer too small.");
                }
                return n;
            case CompressionCodec.Snappy:
                return Snappy.Compress(source, destination);
            default:
                throw new ArgumentOutOfRangeException(nameof(codec), codec, "Unknown compression codec.");
        }
    }

    /// <summary>
    /// Decompresses <paramref name="source"/> into <paramref name="destination"/>, which must be exactly the declared
    /// uncompressed length; returns the bytes produced (the caller checks it equals the declared length).
    /// Codec errors surface as <see cref="InvalidDataException"/>.
    /// </summary>
    public static int Decompress(CompressionCodec codec, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        switch (codec)
        {
            case CompressionCodec.None:
                if (source.Length != destination.Length)
                {
                    throw new InvalidDataException($"stored payload has {source.Length} bytes, header says {destination.Length}");
                }
                source.CopyTo(destination);
                return source.Length;
            case CompressionCodec.Gzip:
                return GzipDecompress(source, destination);
            case CompressionCodec.Zstd:
                try
                {
                    // RFC 8878 makes Frame_Content_Size optional (streaming encoders, `zstd -c` from a pipe, leave it
                    // out), so it is not required here. Decoding into a span of exactly the declared length bounds the
                    // output either way: more data fails as "destination too small", less is caught by the caller,
                    // and a frame that does state its size is checked against it by zstd itself.
                    return ZstdDecompressor().Unwrap(source, destination);
                }
                catch (ZstdException ex)
                {
                    throw new InvalidDataException(ex.Message, ex);
                }
            case CompressionCodec.Lz4:
                int n = LZ4Codec.Decode(source, destination);
                if (n < 0)
                {
                    throw new InvalidDataException("LZ4 block is corrupt or decodes to more than the declared length");
                }
                return n;
            case CompressionCodec.Snappy:
                try
                {
                    int declared = Snappy.GetUncompressedLength(source);
                    if (declared != destination.Length)
                    {
                        throw new InvalidDataException($"snappy block declares {declared} bytes, header says {destination.Length}");
                    }
                    return Snappy.Decompress(source, destination);
                }
                catch (ArgumentException ex)
                {
                    throw new InvalidDataException(ex.Message, ex);
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(codec), codec, "Unknown compression codec.");
        }
    }

    private static int GzipCompress(CompressionLevel level, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        using var output = new MemoryStream(Math.Min(destination.Length, source.Length / 2 + 64));
        using (var gzip = new GZipStream(output, level, leaveOpen: true))
        {
            gzip.Write(source);
        }
        if (output.Length > destination.Length)
        {
            throw new InvalidOperationException($"gzip output of {output.Length} bytes exceeds the bound {destination.Length}.");
        }
        output.GetBuffer().AsSpan(0, (int)output.Length).CopyTo(destination);
        return (int)output.Length;
    }

    private static int GzipDecompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        byte[] copy = ArrayPool<byte>.Shared.Rent(source.Length);
        try
        {
            source.CopyTo(copy);
            using var input = new MemoryStream(copy, 0, source.Length, writable: false);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            int read = gzip.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
            if (read == destination.Length)
            {
                Span<byte> probe = stackalloc byte[1];
                if (gzip.Read(probe) != 0)
                {
                    throw new InvalidDataException($"gzip payload decodes to more than the declared {destination.Length} bytes");
                }
            }
            return read;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    private static Compressor ZstdCompressor(CompressionLevel level)
    {
        var cache = t_zstdCompressors ??= new Compressor?[4];
        int slot = (int)level;
        return cache[slot] ??= new Compressor(level switch
        {
            CompressionLevel.Fastest => 1,
            CompressionLevel.SmallestSize => 19,
            CompressionLevel.NoCompression => 1,
            _ => 3,
        });
    }

    private static Decompressor ZstdDecompressor() => t_zstdDecompressor ??= new Decompressor();

    private static LZ4Level Lz4Level(CompressionLevel level) => level switch
    {
        CompressionLevel.SmallestSize => LZ4Level.L12_MAX,
        _ => LZ4Level.L00_FAST,
    };
}
