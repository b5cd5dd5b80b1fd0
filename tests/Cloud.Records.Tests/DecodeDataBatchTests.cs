using CsCheck;

namespace Cloud.Records.Tests;

/// <summary>
/// <see cref="RecordDecoder.DecodeDataBatch"/> (frames decompressed first, all MD5 trailers in one multi-buffer pass)
/// gives each record what <see cref="RecordDecoder.DecodeData"/> gives it when the records are decoded one after the
/// other: the same user records, the same typed error (a bad record fails alone), the same budget left.
/// </summary>
public class DecodeDataBatchTests
{
    /// <summary>What each record gave: its user records (data and sub-sequence number) or its error; then the budget used.</summary>
    private static List<string> OneByOne(RecordDecoder decoder, byte[][] batch, out long used)
    {
        var budget = decoder.CreateBatchBudget();
        using var buffers = new RecordDecodeBuffers();
        var outcome = new List<string>();
        for (int i = 0; i < batch.Length; i++)
        {
            var users = new List<UserRecordData>();
            try
            {
                decoder.DecodeData(batch[i], "seq-" + i, users, budget, buffers);
                outcome.Add(string.Join(";", users.Select(u => $"{u.SubSequenceNumber}:{Convert.ToHexString(u.Data.Span)}")));
            }
            catch (RecordFormatException ex)
            {
                outcome.Add(ex.GetType().Name + ": " + ex.Message);
            }
        }
        used = budget.UsedBytes;
        return outcome;
    }

    private static List<string> Batched(RecordDecoder decoder, byte[][] batch, out long used)
    {
        var budget = decoder.CreateBatchBudget();
        using var buffers = new RecordDecodeBuffers();
        var users = new List<UserRecordData> { new(new byte[] { 42 }, 7) }; // appended after what is there
        int[] counts = new int[batch.Length];
        var errors = new RecordFormatException?[batch.Length];
        decoder.DecodeDataBatch(batch.Select(b => (ReadOnlyMemory<byte>)b).ToList(), users, counts, errors, budget, buffers, i => "seq-" + i);
        Assert.Equal(1 + counts.Sum(), users.Count);
        Assert.Equal([42], users[0].Data.ToArray());
        var outcome = new List<string>();
        int at = 1;
        for (int i = 0; i < batch.Length; i++)
        {
            if (errors[i] is { } ex)
            {
                Assert.Equal(0, counts[i]);
                outcome.Add(ex.GetType().Name + ": " + ex.Message);
                continue;
            }
            outcome.Add(string.Join(";", users.Skip(at).Take(counts[i]).Select(u => $"{u.SubSequenceNumber}:{Convert.ToHexString(u.Data.Span)}")));
            at += counts[i];
        }
        used = budget.UsedBytes;
        return outcome;
    }

    [Fact]
    public void A_batch_decodes_each_record_as_DecodeData_does_one_after_the_other()
    {
        Gen.Select(KinesisDataGen.Any.Array[0, 40], Gen.Int[0, 3], Gen.Int[1, 40_000]).Sample((batch, budgetKind, budgetBytes) =>
        {
            // Mostly the default budget; sometimes one so small that the batch runs out of it (then decoded one by one).
            var decoder = budgetKind == 0 ? new RecordDecoder(new RecordDecoderOptions { MaxDecompressedBytesPerBatch = budgetBytes }) : RecordDecoder.Default;
            var expected = OneByOne(decoder, batch, out long expectedUsed);
            var actual = Batched(decoder, batch, out long actualUsed);
            Assert.Equal(expected, actual);
            Assert.Equal(expectedUsed, actualUsed);
        }, iter: 1_500);
    }

    [Fact]
    public void A_corrupt_record_fails_alone_and_is_named()
    {
        byte[][] records = [[1, 2, 3], [4, 5], [6]];
        byte[] good = CompressedFrame.Encode(KinesisDataGen.Make(records, 1, 0), CompressionCodec.Zstd);
        byte[] badFrame = (byte[])good.Clone();
        badFrame[^1] ^= 1;
        byte[] malformed = KinesisDataGen.Make(records, 8, 0);
        byte[][] batch = [good, badFrame, good, malformed, good];
        var users = new List<UserRecordData>();
        int[] counts = new int[batch.Length];
        var errors = new RecordFormatException?[batch.Length];
        RecordDecoder.Default.DecodeDataBatch(batch.Select(b => (ReadOnlyMemory<byte>)b).ToList(), users, counts, errors, RecordDecoder.Default.CreateBatchBudget(), null, i => "seq-" + i);
        Assert.Equal([3, 0, 3, 0, 3], counts);
        Assert.Null(errors[0]);
        Assert.IsType<CompressedFrameException>(errors[1]);
        Assert.Equal("seq-1", errors[1]!.SequenceNumber);
        Assert.IsType<AggregateFormatException>(errors[3]);
        Assert.Contains("in record seq-3", errors[3]!.Message, StringComparison.Ordinal);
        Assert.Equal(9, users.Count);
        Assert.Equal([6], users[8].Data.ToArray());
        Assert.Equal(2, users[8].SubSequenceNumber);
    }

    [Fact]
    public void Short_result_spans_are_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => RecordDecoder.Default.DecodeDataBatch([new byte[1], new byte[2]], [], new int[1], new RecordFormatException?[2]));
        Assert.Contains("2 records", ex.Message, StringComparison.Ordinal);
    }
}
