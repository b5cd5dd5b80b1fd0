using System.IO.Compression;
using System.Text;
using CsCheck;

namespace Cloud.Records.Tests;

public class CompressedFrameTests
{
    public static TheoryData<CompressionCodec> Codecs => [CompressionCodec.None, CompressionCodec.Gzip, CompressionCodec.Zstd, CompressionCodec.Lz4, CompressionCodec.Snappy];

    private static readonly Gen<CompressionCodec> AnyCodec = Gen.Enum<CompressionCodec>();

    /// <summary>Bytes that compress: JSON-like text with repetition, or random bytes.</summary>
    private static readonly Gen<byte[]> Payload = Gen.OneOf(
        Gen.Byte.Array[0, 2_000],
        Gen.Int[0, 200].Select(n => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, n).Select(i => $"{{\"user\":\"u{i % 7}\",\"n\":{i}}}")))));

    [Fact]
    public void Golden_stored_frame_matches_the_documented_layout()
    {
        // magic C1 4B 43 46, version 1, codec 0, ulen 3, clen 3, "abc", CRC-32 (zlib.crc32 in Python = 0x5c100cf9) little-endian.
        byte[] expected = Convert.FromHexString("C14B434601000303616263" + "F90C105C");
        Assert.Equal(expected, CompressedFrame.Encode("abc"u8, CompressionCodec.None));
        Assert.Equal("abc"u8.ToArray(), CompressedFrame.Decode(expected));
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void Payload_is_the_codecs_standard_format(CompressionCodec codec)
    {
        byte[] input = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"event\":\"click\",\"page\":\"/home\"}", 50)));
        byte[] frame = CompressedFrame.Encode(input, codec);
        var info = CompressedFrame.ReadInfo(frame);
        Assert.Equal(codec, info.Codec);
        Assert.Equal(input.Length, info.UncompressedLength);
        Assert.Equal(frame.Length - info.PayloadOffset - 4, info.CompressedLength);
        var payload = frame.AsSpan(info.PayloadOffset, info.CompressedLength).ToArray();
        byte[] decoded = codec switch
        {
            CompressionCodec.None => payload,
            CompressionCodec.Gzip => Inflate(payload),
            CompressionCodec.Zstd => new ZstdSharp.Decompressor().Unwrap(payload).ToArray(),
            CompressionCodec.Lz4 => K4os.Compression.LZ4.LZ4Pickler.Unpickle(Pickle(payload, input.Length)),
            _ => Snappier.Snappy.DecompressToArray(payload),
        };
        Assert.Equal(input, decoded);
        if (codec != CompressionCodec.None)
        {
            Assert.True(frame.Length < input.Length / 4, $"{codec}: {frame.Length} bytes for {input.Length}");
        }

        static byte[] Inflate(byte[] gz)
        {
            using var s = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
            using var o = new MemoryStream();
            s.CopyTo(o);
            return o.ToArray();
        }

        static byte[] Pickle(byte[] block, int length)
        {
            // Decode the raw LZ4 block independently of our frame code.
            var output = new byte[length];
            Assert.Equal(length, K4os.Compression.LZ4.LZ4Codec.Decode(block, output));
            return K4os.Compression.LZ4.LZ4Pickler.Pickle(output);
        }
    }

    [Fact]
    public void Every_codec_round_trips()
    {
        Gen.Select(Payload, AnyCodec, Gen.Enum<CompressionLevel>()).Sample((data, codec, level) =>
        {
            byte[] frame = CompressedFrame.Encode(data, codec, level);
            Assert.True(frame.Length <= CompressedFrame.GetMaxEncodedLength(data.Length, codec));
            Assert.Equal(RecordKind.Compressed, RecordFormat.Detect(frame));
            Assert.Equal(data, CompressedFrame.Decode(frame));
            var into = new byte[data.Length + 3];
            Assert.Equal(data.Length, CompressedFrame.Decode(frame, into));
            Assert.Equal(data, into[..data.Length]);
        }, iter: 3_000);
    }

    [Fact]
    public void Random_bit_flips_never_yield_silent_garbage()
    {
        // Any flips past the magic raise CompressedFrameException; flips inside the magic make it not a frame at all.
        Gen.Select(Payload, AnyCodec, Gen.Int[1, 4].SelectMany(n => Gen.Int.Array[n]), Gen.Int[0, 7]).Sample((data, codec, positions, bit) =>
        {
            byte[] frame = CompressedFrame.Encode(data, codec);
            foreach (int index in positions.Select(p => 4 + (int)((uint)p % (uint)(frame.Length - 4))).Distinct())
            {
                frame[index] ^= (byte)(1 << bit);
            }
            var ex = Assert.ThrowsAny<CompressedFrameException>(() => CompressedFrame.Decode(frame));
            Assert.InRange(ex.Offset, 0, frame.Length);
            Assert.ThrowsAny<CompressedFrameException>(() => RecordDecoder.Default.Decode(frame, "pk", "seq"));
        }, iter: 5_000);
    }

    [Fact]
    public void Truncated_frames_raise_typed_errors()
    {
        Gen.Select(Payload, AnyCodec, Gen.Int).Sample((data, codec, at) =>
        {
            byte[] frame = CompressedFrame.Encode(data, codec);
            int cut = 4 + (int)((uint)at % (uint)(frame.Length - 4));
            Assert.ThrowsAny<CompressedFrameException>(() => CompressedFrame.Decode(frame.AsSpan(0, cut)));
            Assert.ThrowsAny<CompressedFrameException>(() => CompressedFrame.Decode([.. frame, 0]));
        }, iter: 2_000);
    }

    [Fact]
    public void Unknown_codec_with_a_valid_checksum_is_a_typed_error()
    {
        byte[] frame = Resign(Convert.FromHexString("C14B434601090303616263" + "00000000"));
        var ex = Assert.Throws<UnknownCodecException>(() => CompressedFrame.Decode(frame));
        Assert.Equal(9, ex.CodecId);
        Assert.Equal(5, ex.Offset);
        Assert.Contains("unknown codec id 9", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsupported_version_is_named()
    {
        byte[] frame = Resign(Convert.FromHexString("C14B434602000303616263" + "00000000"));
        var ex = Assert.Throws<CompressedFrameException>(() => CompressedFrame.Decode(frame));
        Assert.Equal(4, ex.Offset);
        Assert.Contains("version 2", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void Declared_sizes_over_the_limit_are_refused_before_decompressing(CompressionCodec codec)
    {
        byte[] big = new byte[1_000_000]; // zeros: a tiny frame that expands a lot
        byte[] frame = CompressedFrame.Encode(big, codec);
        var ex = Assert.Throws<CompressedFrameException>(() => CompressedFrame.Decode(frame, maxDecompressedSize: 100_000));
        Assert.Equal(codec, ex.Codec);
        Assert.Contains("over the limit of 100000", ex.Message, StringComparison.Ordinal);
        var decoder = new RecordDecoder(new RecordDecoderOptions { MaxDecompressedSize = 100_000 });
        Assert.Throws<CompressedFrameException>(() => decoder.Decode(frame, "pk", "seq-1"));
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void A_payload_that_lies_about_its_length_is_rejected(CompressionCodec codec)
    {
        // A well-formed, correctly checksummed frame whose header claims a different uncompressed length.
        byte[] data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("hello world ", 20)));
        byte[] frame = CompressedFrame.Encode(data, codec);
        var info = CompressedFrame.ReadInfo(frame);
        foreach (int claimed in new[] { data.Length - 1, data.Length + 1 })
        {
            var payload = frame.AsSpan(info.PayloadOffset, info.CompressedLength).ToArray();
            byte[] forged = Resign([0xC1, 0x4B, 0x43, 0x46, 1, (byte)codec, .. Varint(claimed), .. Varint(payload.Length), .. payload, 0, 0, 0, 0]);
            var ex = Assert.ThrowsAny<CompressedFrameException>(() => CompressedFrame.Decode(forged));
            Assert.Equal(codec, ex.Codec);
        }
    }

    [Fact]
    public void Frames_need_room_and_known_codecs_to_encode()
    {
        Assert.Throws<ArgumentException>(() => CompressedFrame.Encode("abc"u8, CompressionCodec.Zstd, new byte[5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => CompressedFrame.Encode("abc"u8, (CompressionCodec)42));
    }

    internal static byte[] Resign(byte[] frame)
    {
        uint crc = System.IO.Hashing.Crc32.HashToUInt32(frame.AsSpan(0, frame.Length - 4));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(frame.Length - 4), crc);
        return frame;
    }

    private static byte[] Varint(int v)
    {
        var list = new List<byte>();
        uint u = (uint)v;
        while (u >= 0x80)
        {
            list.Add((byte)(u | 0x80));
            u >>= 7;
        }
        list.Add((byte)u);
        return [.. list];
    }
}
