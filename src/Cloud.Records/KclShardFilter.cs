namespace Cloud.Records;

/// <summary>
/// The KCL's shard-range rule for aggregates (<c>AggregatorUtil.deaggregate(records, startingHashKey, endingHashKey)</c>):
/// when any user record of an aggregate hashes outside the hash key range of the shard the aggregate was read from
/// (a reshard raced the producer's shard map), the KCL drops the <em>whole</em> aggregate. Consumers that opt in behave
/// exactly like the KCL; producers must therefore never count a wrong-shard aggregate as delivered.
/// </summary>
public static class KclShardFilter
{
    /// <summary>
    /// Whether the KCL keeps the user records of one Kinesis record read from a shard with the given range.
    /// Records that were not aggregated are always kept (the KCL checks only aggregates).
    /// </summary>
    /// <param name="records">The user records of one Kinesis record, as deaggregated.</param>
    /// <param name="startingHashKey">The shard's StartingHashKey.</param>
    /// <param name="endingHashKey">The shard's EndingHashKey (inclusive).</param>
    public static bool Keeps(IReadOnlyList<UserRecord> records, UInt128 startingHashKey, UInt128 endingHashKey)
    {
        ArgumentNullException.ThrowIfNull(records);
        for (int i = 0; i < records.Count; i++)
        {
            var r = records[i];
            if (!r.IsAggregated)
            {
                continue;
            }
            if (!TryHash(r, out var hash) || hash < startingHashKey || hash > endingHashKey)
            {
                return false;
            }
        }
        return true;
    }

    private static bool TryHash(UserRecord r, out UInt128 hash)
    {
        try
        {
            hash = PartitionKeyHash.ForRecord(r.PartitionKey, r.ExplicitHashKey);
            return true;
        }
        catch (ArgumentException)
        {
            hash = default; // a key the KCL cannot hash: it cannot place the record in the shard either
            return false;
        }
    }
}
