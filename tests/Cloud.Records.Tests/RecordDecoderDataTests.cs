using CsCheck;

namespace Cloud.Records.Tests;

/// <summary><see cref="RecordDecoder.DecodeData"/> (no strings, pooled frames) gives what <see cref="RecordDecoder.Decode(ReadOnlyMemory{byte}, string, string?, string?)"/> gives.</summary>
public class RecordDecoderDataTests
{
    [Fact]
    public void DecodeData_yields_the_same_user_records_and_errors_as_Decode()
    {
        KinesisDataGen.Any.Sample(data =>
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
