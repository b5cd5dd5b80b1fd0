namespace Cloud.EventSourceMapping;

/// <summary>
/// One Kinesis record as the runner carries it from a shard reader (GetRecords or SubscribeToShard) to the event
/// JSON: the fields Lambda's Kinesis event holds, with the data as bytes and the arrival time in UTC.
/// </summary>
/// <param name="SequenceNumber">The record's sequence number.</param>
/// <param name="PartitionKey">Its partition key.</param>
/// <param name="Data">Its data (not base64).</param>
/// <param name="ApproximateArrivalTimestamp">When Kinesis accepted it.</param>
public sealed record StreamRecord(string SequenceNumber, string PartitionKey, ReadOnlyMemory<byte> Data, DateTimeOffset ApproximateArrivalTimestamp)
{
    /// <summary>Copies an AWSSDK.Kinesis record (its data stream is read once, from the start).</summary>
    /// <exception cref="ArgumentException">The record has no sequence number.</exception>
    public static StreamRecord From(Amazon.Kinesis.Model.Record record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (string.IsNullOrEmpty(record.SequenceNumber))
        {
            throw new ArgumentException("A Kinesis record without a sequence number.", nameof(record));
        }
        byte[] data = record.Data is null ? [] : record.Data.ToArray();
        return new StreamRecord(record.SequenceNumber, record.PartitionKey ?? "", data, ToUtc(record.ApproximateArrivalTimestamp));
    }

    /// <summary>
    /// The SDK's timestamps are UTC (an unspecified kind is read as UTC, a local one converted), rounded to the
    /// millisecond: Kinesis stamps arrival to the millisecond, and the SDK's epoch-seconds double can land a tick
    /// below it (…142.9998 for …143).
    /// </summary>
    internal static DateTimeOffset ToUtc(DateTime? time)
    {
        if (time is not { } t)
        {
            return DateTimeOffset.UnixEpoch;
        }
        var utc = t.Kind switch
        {
            DateTimeKind.Local => t.ToUniversalTime(),
            _ => DateTime.SpecifyKind(t, DateTimeKind.Utc),
        };
        long ms = (long)Math.Round((utc - DateTime.UnixEpoch).TotalMilliseconds, MidpointRounding.AwayFromZero);
        return DateTimeOffset.FromUnixTimeMilliseconds(ms);
    }
}
