namespace Cloud.Producer.Internal;

/// <summary>
/// Per-shard token buckets (records/s and bytes/s) with additive-increase / multiplicative-decrease:
/// every throttle halves the refill rate (down to <see cref="MinFactor"/>), and the rate climbs back by
/// <see cref="RecoveryPerSecond"/> of the configured limit per second without throttles.
/// </summary>
/// <remarks>Not thread-safe: owned by the producer's single loop. Times are <see cref="TimeProvider"/> timestamps.</remarks>
internal sealed class ShardRateLimiter
{
    public const double MinFactor = 1.0 / 64;
    public const double DecreaseFactor = 0.5;
    public const double RecoveryPerSecond = 0.1;

    private readonly double _recordsPerSecond;
    private readonly double _bytesPerSecond;
    private readonly long _frequency;
    private double _records;
    private double _bytes;
    private long _last;
    private long _lastDecrease = long.MinValue;

    public ShardRateLimiter(double recordsPerSecond, double bytesPerSecond, long timestampFrequency, long now)
    {
        _recordsPerSecond = recordsPerSecond;
        _bytesPerSecond = bytesPerSecond;
        _frequency = timestampFrequency;
        _records = recordsPerSecond;
        _bytes = bytesPerSecond;
        _last = now;
    }

    /// <summary>Current share of the configured rate, in (0, 1].</summary>
    public double Factor { get; private set; } = 1.0;

    public double RecordTokens => _records;

    public double ByteTokens => _bytes;

    private double RecordCapacity => _recordsPerSecond * Factor;

    private double ByteCapacity => _bytesPerSecond * Factor;

    private void Refill(long now)
    {
        if (now <= _last)
        {
            return;
        }
        double seconds = (double)(now - _last) / _frequency;
        _last = now;
        Factor = Math.Min(1.0, Factor + (RecoveryPerSecond * seconds));
        _records = Math.Min(RecordCapacity, _records + (seconds * _recordsPerSecond * Factor));
        _bytes = Math.Min(ByteCapacity, _bytes + (seconds * _bytesPerSecond * Factor));
    }

    /// <summary>
    /// Takes one record of <paramref name="bytes"/> if the buckets allow it. A record larger than a full byte bucket
    /// is let through when the bucket is full (the bucket goes into debt) so that it is never starved.
    /// </summary>
    public bool TryTake(long bytes, long now)
    {
        Refill(now);
        if (_records < 1.0)
        {
            return false;
        }
        if (bytes > _bytes && _bytes < ByteCapacity)
        {
            return false;
        }
        _records -= 1.0;
        _bytes -= bytes;
        return true;
    }

    /// <summary>
    /// Corrects a <see cref="TryTake"/> once the record's real size is known: Kinesis counts the bytes it stores, and an
    /// aggregate is compressed only after the request is filled, so the tokens taken for its uncompressed size are
    /// given back (or, for a frame that grew, taken) by the difference.
    /// </summary>
    public void Resize(long charged, long actual) => _bytes = Math.Min(ByteCapacity, _bytes + (charged - actual));

    /// <summary>Timestamp at which <see cref="TryTake"/> for <paramref name="bytes"/> can next succeed.</summary>
    public long AvailableAt(long bytes, long now)
    {
        Refill(now);
        double wait = 0;
        if (_records < 1.0)
        {
            wait = (1.0 - _records) / (_recordsPerSecond * Factor);
        }
        double needBytes = Math.Min(bytes, ByteCapacity);
        if (_bytes < needBytes)
        {
            wait = Math.Max(wait, (needBytes - _bytes) / (_bytesPerSecond * Factor));
        }
        return now + (long)Math.Ceiling(wait * _frequency);
    }

    /// <summary>Multiplicative decrease after a ProvisionedThroughputExceeded answer; at most once per 100 ms.</summary>
    public bool OnThrottled(long now)
    {
        Refill(now);
        if (_lastDecrease != long.MinValue && now - _lastDecrease < _frequency / 10)
        {
            return false;
        }
        _lastDecrease = now;
        Factor = Math.Max(MinFactor, Factor * DecreaseFactor);
        _records = Math.Min(_records, 0);
        _bytes = Math.Min(_bytes, 0);
        return true;
    }
}
