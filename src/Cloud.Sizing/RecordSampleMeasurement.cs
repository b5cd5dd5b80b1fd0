namespace Cloud.Sizing;

/// <summary>
/// What encoding a sample of real records produced: user records and bytes in, Kinesis records and bytes out.
/// Bytes include partition keys (they count against the 1 MiB/s shard limit).
/// </summary>
/// <param name="UserRecords">User records read from the sample.</param>
/// <param name="UserBytes">Their data plus partition-key bytes (UTF-8).</param>
/// <param name="KinesisRecords">Kinesis records the encoder produced.</param>
/// <param name="KinesisBytes">Their data plus partition-key bytes.</param>
public sealed record RecordSampleMeasurement(long UserRecords, long UserBytes, long KinesisRecords, long KinesisBytes)
{
    /// <summary>Average user record size in bytes (data + partition key).</summary>
    public double AverageUserRecordBytes => UserRecords == 0 ? 0 : (double)UserBytes / UserRecords;

    /// <summary>User records per Kinesis record.</summary>
    public double AggregationRatio => KinesisRecords == 0 ? 1 : (double)UserRecords / KinesisRecords;

    /// <summary>User bytes ÷ Kinesis bytes (compression net of aggregation framing).</summary>
    public double CompressionRatio => KinesisBytes == 0 ? 1 : (double)UserBytes / KinesisBytes;

    /// <summary>Average Kinesis record size in bytes.</summary>
    public double AverageKinesisRecordBytes => KinesisRecords == 0 ? 0 : (double)KinesisBytes / KinesisRecords;
}
