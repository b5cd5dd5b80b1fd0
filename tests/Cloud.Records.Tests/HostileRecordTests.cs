using System.Text;
using ZstdSharp;

namespace Cloud.Records.Tests;

/// <summary>
/// Records an independent fuzzer found (issue 12): a decompression bomb spread over many small frames, valid zstd
/// frames without a content-size field, an MD5-valid aggregate with no records, overlong varints in frame headers.
/// </summary>
public class HostileRecordTests
{
    /// <summary>
    /// One ~36 KB aggregate of 100 sub-records, each a zstd frame of 10 MiB of zeros: every frame is under the 10 MiB
    /// per-frame limit, together they declare 1,000 MiB.
    /// </summary>
    internal static byte[] Bomb(int frames = 100)
    {
        byte[] frame = CompressedFrame.Encode(new byte[CompressedFrame.DefaultMaxDecompressedSize], CompressionCodec.Zstd);
        using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = KplFormat.MaxKinesisRecordSize });
        for (int i = 0; i < frames; i++)
        {
            Assert.True(builder.TryAdd("k", null, frame));
        }
        return builder.ToArray();
    }

    [Fact]
    public void A_record_whose_frames_together_declare_more_than_the_per_record_limit_fails_with_a_typed_error_before_allocating_it()
    {
        byte[] bomb = Bomb();
        Assert.True(bomb.Length < 64 * 1024, $"the bomb is small: {bomb.Length} bytes");
        var destination = new List<UserRecord> { new("keep", null, new byte[1], "0", 0, false) };
        long before = GC.GetAllocatedBytesForCurrentThread();

        var ex = Assert.Throws<DecompressionLimitException>(() => RecordDecoder.Default.Decode(bomb, "k", "seq-7", null, destination));

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(DecompressionLimitScope.Record, ex.Scope);
        Assert.Equal(RecordDecoderOptions.DefaultMaxDecompressedBytesPerRecord, ex.Limit);
        Assert.Contains("seq-7", ex.Message, StringComparison.Ordinal);
        Assert.Contains("per Kinesis record", ex.Message, StringComparison.Ordinal);
        Assert.Single(destination); // all or nothing
        // The decoder stopped at the limit: it never produced anything near the 1,000 MiB the frames declare.
        Assert.True(allocated < RecordDecoderOptions.DefaultMaxDecompressedBytesPerRecord + (8 << 20), $"allocated {allocated} bytes");
    }

    [Fact]
    public void The_records_after_a_bomb_still_decode()
    {
        byte[] good = CompressedFrame.Encode(OracleTests.EncodeWithOracle([new("a", null, "one"u8.ToArray()), new("b", null, "two"u8.ToArray())]), CompressionCodec.Zstd);
        var decoder = new RecordDecoder();
        var batch = decoder.CreateBatchBudget();
        var decoded = new List<UserRecord>();
        int failed = 0;
        foreach (byte[] record in new[] { good, Bomb(), good })
        {
            try
            {
                decoder.Decode(record, "k", "s", null, decoded, batch);
            }
            catch (DecompressionLimitException)
            {
                failed++;
            }
        }
        Assert.Equal(1, failed);
        Assert.Equal(["one", "two", "one", "two"], decoded.Select(u => Encoding.UTF8.GetString(u.Data.Span)));
        // The failed record's reservations were given back: only the two good records' frames count against the batch.
        Assert.Equal(2L * CompressedFrame.ReadInfo(good).UncompressedLength, batch.UsedBytes);
    }

    [Fact]
    public void The_batch_budget_fails_the_records_that_would_exceed_it_and_lets_smaller_ones_through()
    {
        var decoder = new RecordDecoder(new RecordDecoderOptions { MaxDecompressedBytesPerRecord = 1_000_000, MaxDecompressedBytesPerBatch = 2_500_000 });
        byte[] big = CompressedFrame.Encode(new byte[1_000_000], CompressionCodec.Lz4);
        byte[] small = CompressedFrame.Encode(new byte[100], CompressionCodec.Lz4);
        var batch = decoder.CreateBatchBudget();
        var decoded = new List<UserRecord>();
        decoder.Decode(big, "k", "1", null, decoded, batch);
        decoder.Decode(big, "k", "2", null, decoded, batch);
        var ex = Assert.Throws<DecompressionLimitException>(() => decoder.Decode(big, "k", "3", null, decoded, batch));
        Assert.Equal(DecompressionLimitScope.Batch, ex.Scope);
        Assert.Equal(2_500_000, ex.Limit);
        decoder.Decode(small, "k", "4", null, decoded, batch);
        Assert.Equal(3, decoded.Count);
        Assert.Equal(2_000_100, batch.UsedBytes);
    }

    [Fact]
    public void Limits_are_validated_together()
    {
        var ex = Assert.Throws<ArgumentException>(() => new RecordDecoder(new RecordDecoderOptions { MaxDecompressedBytesPerRecord = 0, MaxDecompressedBytesPerBatch = -1 }));
        Assert.Contains("MaxDecompressedBytesPerRecord", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxDecompressedBytesPerBatch", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<int> StreamedSizes => [1, 34, 131_072, 131_073, 1_000_000];

    [Theory]
    [MemberData(nameof(StreamedSizes))]
    public void A_zstd_frame_without_a_content_size_field_decodes(int size)
    {
        // What `zstd -c < pipe` or any streaming encoder writes: RFC 8878 Frame_Content_Size absent.
        byte[] data = new byte[size];
        new Random(size).NextBytes(data.AsSpan(0, size / 2));
        byte[] zstd = StreamCompress(data);
        Assert.False(HasContentSize(zstd), "the streaming encoder leaves the content size out");
        byte[] frame = WrapZstd(zstd, size);

        Assert.Equal(data, CompressedFrame.Decode(frame));
        Assert.Equal(data, RecordDecoder.Default.Decode(frame, "k").Single().Data.ToArray());
    }

    [Fact]
    public void A_zstd_frame_without_a_content_size_field_must_still_match_the_declared_length()
    {
        byte[] zstd = StreamCompress(new byte[1000]);
        Assert.ThrowsAny<CompressedFrameException>(() => CompressedFrame.Decode(WrapZstd(zstd, 999)));
        Assert.ThrowsAny<CompressedFrameException>(() => CompressedFrame.Decode(WrapZstd(zstd, 1001)));
    }

    [Fact]
    public void The_zstd_command_line_tool_reading_a_pipe_is_understood_when_it_is_installed()
    {
        string? zstdTool = new[] { "/usr/bin/zstd", "/usr/local/bin/zstd" }.FirstOrDefault(File.Exists);
        if (zstdTool is null)
        {
            return; // the in-process streaming encoder above covers the same frame shape
        }
        byte[] data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"page\":\"/home\",\"n\":1}\n", 5000)));
        var start = new System.Diagnostics.ProcessStartInfo(zstdTool, "-c -q")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
        process.StandardInput.BaseStream.Write(data);
        process.StandardInput.Close();
        copy.GetAwaiter().GetResult();
        process.WaitForExit();
        byte[] zstd = output.ToArray();
        Assert.False(HasContentSize(zstd));
        Assert.Equal(data, CompressedFrame.Decode(WrapZstd(zstd, data.Length)));
    }

    [Fact]
    public void An_MD5_valid_aggregate_with_no_records_is_a_typed_error_not_a_silent_disappearance()
    {
        byte[] empty = OracleTests.Frame([]);
        byte[] tablesOnly = OracleTests.Frame(Convert.FromHexString("0A0161")); // a key table, no records
        foreach (byte[] aggregate in new[] { empty, tablesOnly })
        {
            Assert.Equal(RecordKind.KplAggregated, RecordFormat.Detect(aggregate));
            var ex = Assert.Throws<AggregateFormatException>(() => RecordDecoder.Default.Decode(aggregate, "pk", "seq-3"));
            Assert.Contains("no records", ex.Message, StringComparison.Ordinal);
            Assert.Contains("seq-3", ex.Message, StringComparison.Ordinal);
            Assert.Throws<AggregateFormatException>(() => KplDeaggregator.Deaggregate(aggregate, "pk"));
            // Inside a frame too.
            Assert.Throws<AggregateFormatException>(() => RecordDecoder.Default.Decode(CompressedFrame.Encode(aggregate, CompressionCodec.Gzip), "pk"));
        }
    }

    public static TheoryData<string, string, int> OverlongHeaders => new()
    {
        // "abc" stored: C1 4B 43 46 01 00 | uncompressed | compressed | 61 62 63 | CRC
        { "uncompressed length 3 in two bytes", "8300" + "03", 6 },
        { "compressed length 3 in two bytes", "03" + "8300", 7 },
        { "uncompressed length 3 in five bytes", "8380808000" + "03", 6 },
    };

    [Theory]
    [MemberData(nameof(OverlongHeaders))]
    public void Overlong_varints_in_a_frame_header_are_refused(string name, string lengthsHex, int offset)
    {
        byte[] frame = CompressedFrameTests.Resign([0xC1, 0x4B, 0x43, 0x46, 1, 0, .. Convert.FromHexString(lengthsHex), 0x61, 0x62, 0x63, 0, 0, 0, 0]);
        var ex = Assert.Throws<CompressedFrameException>(() => CompressedFrame.ReadInfo(frame));
        Assert.True(ex.Offset == offset, $"{name}: offset {ex.Offset}: {ex.Message}");
        Assert.Contains("not minimal", ex.Message, StringComparison.Ordinal);
        Assert.Throws<CompressedFrameException>(() => RecordDecoder.Default.Decode(frame, "pk"));
    }

    [Fact]
    public void Minimal_varints_at_every_width_still_read()
    {
        foreach (int size in new[] { 0, 127, 128, 16_383, 16_384, 2_097_152 })
        {
            byte[] data = new byte[size];
            Assert.Equal(size, CompressedFrame.Decode(CompressedFrame.Encode(data, CompressionCodec.None)).Length);
        }
    }

    private static byte[] StreamCompress(byte[] data)
    {
        var output = new MemoryStream();
        using (var stream = new CompressionStream(output, 3, leaveOpen: true))
        {
            // Several writes, as a pipe delivers them.
            for (int at = 0; at < data.Length; at += 4096)
            {
                stream.Write(data, at, Math.Min(4096, data.Length - at));
            }
        }
        return output.ToArray();
    }

    [Fact]
    public void A_gzip_payload_zlib_refuses_with_an_error_code_is_a_typed_error()
    {
        // The deflate stream of the report fuzzer's GSR input #22610 (seed 20261207), whose zlib error code .NET throws
        // as ZLibException (an IOException), here inside a gzip member of a frame.
        byte[] deflate = Convert.FromHexString("a4e328d535348ad12f28ca4f294d2e29d62f2002cc5870f5edbb340630d0736060612931602931646090800841018b8b2b0383872300a5d01c3b");
        byte[] gzip = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, .. deflate, 0, 0, 0, 0, 0, 0, 0, 0];
        byte[] frame = CompressedFrameTests.Resign([0xC1, 0x4B, 0x43, 0x46, 1, (byte)CompressionCodec.Gzip, .. Leb(200), .. Leb(gzip.Length), .. gzip, 0, 0, 0, 0]);

        var ex = Assert.ThrowsAny<CompressedFrameException>(() => CompressedFrame.Decode(frame));

        Assert.Equal(CompressionCodec.Gzip, ex.Codec);
    }

    // RFC 8878 3.1.1.1.1: Frame_Content_Size is present when FCS_Field_Size flag (bits 7-6) is non-zero or Single_Segment_flag (bit 5) is set.
    private static bool HasContentSize(byte[] zstd) => (zstd[4] >> 6) != 0 || ((zstd[4] >> 5) & 1) != 0;

    private static byte[] WrapZstd(byte[] zstd, int declared) =>
        CompressedFrameTests.Resign([0xC1, 0x4B, 0x43, 0x46, 1, (byte)CompressionCodec.Zstd, .. Leb(declared), .. Leb(zstd.Length), .. zstd, 0, 0, 0, 0]);

    private static byte[] Leb(int v)
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
