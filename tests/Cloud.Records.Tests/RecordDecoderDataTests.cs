using CsCheck;

namespace Cloud.Records.Tests;

/// <summary><see cref="RecordDecoder.DecodeData"/> (no strings, pooled frames) gives what <see cref="RecordDecoder.Decode(ReadOnlyMemory{byte}, string, string?, string?)"/> gives.</summary>
public class RecordDecoderDataTests
{
    private static readonly Gen<byte[]> Payload = Gen.Byte.Array[0, 300];

    /// <summary>A Kinesis record's data: plain, an aggregate, a compressed frame of either, sub-records in frames, or damaged.</summary>
    private static readonly Gen<byte[]> KinesisData =
        from records in Payload.Array[1, 20]
        from kind in Gen.Int[0, 6]
        from flip in Gen.Int[0, 10_000]
        select Make(records, kind, flip);

    private static byte[] Make(byte[][] records, int kind, int flip)
    {
        byte[] data;
        if (kind == 0)
        {
            data = records[0];
        }
        else
        {
            using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = 1024 * 1024 });
            foreach (byte[] r in records)
            {
                Assert.True(builder.TryAdd("pk-" + r.Length % 4, r.Length % 5 == 0 ? "12345" : null, kind == 4 ? CompressedFrame.Encode(r, CompressionCodec.Lz4) : r));
            }
            data = builder.ToArray();
        }
        if (kind is 2 or 3)
        {
            data = CompressedFrame.Encode(data, kind == 2 ? CompressionCodec.Zstd : CompressionCodec.Gzip);
        }
        if (kind >= 5 && data.Length > 0)
        {
            data[flip % data.Length] ^= (byte)(1 + flip % 255);
        }
        return data;
    }

    [Fact]
    public void DecodeData_yields_the_same_user_records_and_errors_as_Decode()
    {
        KinesisData.Sample(data =>
        {
            var expected = new List<UserRecord>();
            string? expectedError = null;
            try
            {
                RecordDecoder.Default.Decode(data, "pk", "4711", null, expected, RecordDecoder.Default.CreateBatchBudget());
            }
            catch (RecordFormatException ex)
            {
                expectedError = ex.GetType().Name + ": " + ex.Message;
            }

            using var buffers = new RecordDecodeBuffers();
            var actual = new List<UserRecordData>();
            string? error = null;
            var budget = RecordDecoder.Default.CreateBatchBudget();
            try
            {
                RecordDecoder.Default.DecodeData(data, "4711", actual, budget, buffers);
            }
            catch (RecordFormatException ex)
            {
                error = ex.GetType().Name + ": " + ex.Message;
                Assert.Empty(actual);
                Assert.Equal(0, budget.UsedBytes);
            }

            Assert.Equal(expectedError, error);
            Assert.Equal(expected.Count, actual.Count);
            for (int i = 0; i < actual.Count; i++)
            {
                Assert.Equal(expected[i].Data.ToArray(), actual[i].Data.ToArray());
                Assert.Equal(expected[i].IsAggregated ? expected[i].SubSequenceNumber : null, actual[i].SubSequenceNumber);
            }
        }, iter: 3_000);
    }
}
