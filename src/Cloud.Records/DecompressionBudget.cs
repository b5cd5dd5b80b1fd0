namespace Cloud.Records;

/// <summary>
/// Bytes that decompression may still produce across the Kinesis records of one batch (one Lambda invoke, one
/// GetRecords page). Create one per batch with <see cref="RecordDecoder.CreateBatchBudget"/> and pass it to every
/// <see cref="RecordDecoder.Decode(ReadOnlyMemory{byte}, string, string?, string?, List{UserRecord}, DecompressionBudget?)"/>
/// of that batch. A record that fails gives its reservation back. Thread-safe.
/// </summary>
public sealed class DecompressionBudget
{
    private long _used;

    /// <summary>Creates a budget of <paramref name="maxBytes"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBytes"/> is not positive.</exception>
    public DecompressionBudget(long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        MaxBytes = maxBytes;
    }

    /// <summary>The bound.</summary>
    public long MaxBytes { get; }

    /// <summary>Bytes reserved by the records decoded so far.</summary>
    public long UsedBytes => Interlocked.Read(ref _used);

    internal bool TryReserve(long bytes)
    {
        while (true)
        {
            long used = Interlocked.Read(ref _used);
            if (bytes > MaxBytes - used)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _used, used + bytes, used) == used)
            {
                return true;
            }
        }
    }

    internal void Release(long bytes) => Interlocked.Add(ref _used, -bytes);
}
