using System.Text;
using Cloud.Records.Internal;

namespace Cloud.Records;

/// <summary>
/// Splits KPL aggregated records into user records. A record without the magic, or whose MD5 does not match,
/// is not an aggregate and passes through unchanged as one user record (as the KPL and KCL do); a record with
/// magic and a good MD5 but a malformed body raises <see cref="AggregateFormatException"/>.
/// </summary>
public static class KplDeaggregator
{
    /// <summary>True when <paramref name="data"/> is a KPL aggregate: magic, at least magic + MD5 long, and a matching MD5.</summary>
    public static bool IsAggregated(ReadOnlySpan<byte> data)
    {
        if (data.Length < KplFormat.Overhead || !KplFormat.HasMagic(data))
        {
            return false;
        }
        Span<byte> digest = stackalloc byte[KplFormat.DigestLength];
        int end = data.Length - KplFormat.DigestLength;
        Md5.Hash(data[KplFormat.MagicLength..end], digest);
        return digest.SequenceEqual(data[end..]);
    }

    /// <summary>Decodes one Kinesis record into user records.</summary>
    /// <param name="data">The Kinesis record's data.</param>
    /// <param name="partitionKey">The Kinesis record's partition key (used when it passes through).</param>
    /// <param name="sequenceNumber">The Kinesis record's sequence number, copied to every user record.</param>
    /// <param name="explicitHashKey">The Kinesis record's explicit hash key, if known (used when it passes through).</param>
    /// <returns>The user records, in order.</returns>
    /// <exception cref="AggregateFormatException">The record is an aggregate but malformed.</exception>
    public static List<UserRecord> Deaggregate(ReadOnlyMemory<byte> data, string partitionKey, string? sequenceNumber = null, string? explicitHashKey = null)
    {
        var list = new List<UserRecord>();
        Deaggregate(data, partitionKey, sequenceNumber, explicitHashKey, list);
        return list;
    }

    /// <summary>
    /// Decodes one Kinesis record and appends its user records to <paramref name="destination"/>. All or nothing:
    /// when the aggregate is malformed nothing is appended.
    /// </summary>
    /// <returns>The number of user records appended.</returns>
    /// <exception cref="AggregateFormatException">The record is an aggregate but malformed.</exception>
    public static int Deaggregate(ReadOnlyMemory<byte> data, string partitionKey, string? sequenceNumber, string? explicitHashKey, List<UserRecord> destination)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(destination);
        if (!IsAggregated(data.Span))
        {
            destination.Add(new UserRecord(partitionKey, explicitHashKey, data, sequenceNumber, 0, isAggregated: false));
            return 1;
        }
        return DeaggregateVerified(data, sequenceNumber, destination);
    }

    /// <summary>
    /// Decodes one record of a batch whose MD5 trailers <see cref="RecordFormat.Detect(IReadOnlyList{ReadOnlyMemory{byte}}, Span{DetectedRecord})"/>
    /// checked all at once; otherwise as <see cref="Deaggregate(ReadOnlyMemory{byte}, string, string?, string?, List{UserRecord})"/>
    /// (a compressed frame is not an aggregate here either: it passes through).
    /// </summary>
    /// <returns>The number of user records appended.</returns>
    /// <exception cref="AggregateFormatException">The record is an aggregate but malformed.</exception>
    public static int Deaggregate(DetectedRecord record, string partitionKey, string? sequenceNumber, string? explicitHashKey, List<UserRecord> destination)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(destination);
        if (record.Kind != RecordKind.KplAggregated)
        {
            destination.Add(new UserRecord(partitionKey, explicitHashKey, record.Data, sequenceNumber, 0, isAggregated: false));
            return 1;
        }
        return DeaggregateVerified(record.Data, sequenceNumber, destination);
    }

    /// <summary>Deaggregates a record whose magic and MD5 were already verified.</summary>
    internal static int DeaggregateVerified(ReadOnlyMemory<byte> data, string? sequenceNumber, List<UserRecord> destination)
    {
        int before = destination.Count;
        KplAggregateReader reader = default;
        try
        {
            reader = KplAggregateReader.CreateVerified(data.Span);
            if (reader.RecordCount == 0)
            {
                // The KPL never writes one, and the KCL would yield nothing for it: a record that disappears without
                // a trace. It is an error instead, so it reaches the consumer's failure path.
                throw new AggregateFormatException(KplFormat.MagicLength, "the aggregate holds no records (MD5 valid, records field absent)");
            }
            var keys = new string[reader.PartitionKeyCount];
            for (int i = 0; i < keys.Length; i++)
            {
                keys[i] = Encoding.UTF8.GetString(reader.GetPartitionKeyUtf8(i));
            }
            string[]? hashKeys = null;
            destination.EnsureCapacity(before + reader.RecordCount);
            while (reader.TryRead(out var sub))
            {
                string? ehk = null;
                if (sub.ExplicitHashKeyIndex >= 0)
                {
                    hashKeys ??= new string[reader.ExplicitHashKeyCount];
                    ehk = hashKeys[sub.ExplicitHashKeyIndex] ??= Encoding.UTF8.GetString(reader.GetExplicitHashKeyUtf8(sub.ExplicitHashKeyIndex));
                }
                destination.Add(new UserRecord(
                    keys[sub.PartitionKeyIndex],
                    ehk,
                    data.Slice(sub.DataOffset, sub.Data.Length),
                    sequenceNumber,
                    sub.Index,
                    isAggregated: true));
            }
        }
        catch (AggregateFormatException ex)
        {
            destination.RemoveRange(before, destination.Count - before);
            ex.SequenceNumber ??= sequenceNumber;
            throw;
        }
        finally
        {
            reader.Dispose();
        }
        return destination.Count - before;
    }
}
