using Cloud.Consumer.Events;
using Cloud.Records;

namespace Cloud.Consumer;

/// <summary>Bridge to Cloud.Records: decompress our frames, then deaggregate KPL aggregates (bad MD5 / no magic pass through).</summary>
internal static class UserRecordDecoding
{
    [ThreadStatic]
    private static List<UserRecord>? t_scratch;

    /// <exception cref="RecordFormatException">Damaged frame, unknown codec or malformed aggregate.</exception>
    public static void Decode(RecordDecoder decoder, DecompressionBudget? batch, ReadOnlyMemory<byte> data, string partitionKey, string sequenceNumber,
        List<UserRecordContext> output, KinesisEventRecord parent, int parentIndex) =>
        Decode(decoder, batch, data, default, partitionKey, sequenceNumber, output, parent, parentIndex, detected: false);

    /// <summary>As above for a record whose kind (and MD5) a batch detection found.</summary>
    /// <exception cref="RecordFormatException">Damaged frame, unknown codec or malformed aggregate.</exception>
    public static void Decode(RecordDecoder decoder, DecompressionBudget? batch, DetectedRecord record, string partitionKey, string sequenceNumber,
        List<UserRecordContext> output, KinesisEventRecord parent, int parentIndex) =>
        Decode(decoder, batch, default, record, partitionKey, sequenceNumber, output, parent, parentIndex, detected: true);

    private static void Decode(RecordDecoder decoder, DecompressionBudget? batch, ReadOnlyMemory<byte> data, DetectedRecord record, string partitionKey, string sequenceNumber,
        List<UserRecordContext> output, KinesisEventRecord parent, int parentIndex, bool detected)
    {
        List<UserRecord> scratch = t_scratch ??= new List<UserRecord>(16);
        scratch.Clear();
        try
        {
            if (detected)
            {
                decoder.Decode(record, partitionKey, sequenceNumber, null, scratch, batch);
            }
            else
            {
                decoder.Decode(data, partitionKey, sequenceNumber, null, scratch, batch);
            }
            foreach (UserRecord user in scratch)
            {
                output.Add(new UserRecordContext
                {
                    Parent = parent,
                    ParentIndex = parentIndex,
                    PartitionKey = user.PartitionKey,
                    ExplicitHashKey = user.ExplicitHashKey,
                    Data = user.Data,
                    SubSequenceNumber = user.IsAggregated ? user.SubSequenceNumber : null,
                });
            }
        }
        finally
        {
            scratch.Clear();
        }
    }
}
