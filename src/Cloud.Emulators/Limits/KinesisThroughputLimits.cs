namespace Cloud.Emulators.Limits;

/// <summary>
/// Per-shard throughput accounting as Kinesis Data Streams enforces it on provisioned streams
/// (https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html): writes up to 1,000 records and
/// 1 MiB (data blob before base64 + partition key) per second per shard, reads up to 5 GetRecords calls per second
/// per shard. Each is a token bucket holding one second of its rate, refilled continuously.
/// </summary>
/// <remarks>Thread-safe. Time comes from the given <see cref="TimeProvider"/> so tests drive it.</remarks>
public sealed class KinesisThroughputLimits
{
    /// <summary>Records per second a shard accepts.</summary>
    public const double WriteRecordsPerSecond = 1000;

    /// <summary>Bytes (data + partition key) per second a shard accepts: 1 MiB.</summary>
    public const double WriteBytesPerSecond = 1024 * 1024;

    /// <summary>GetRecords calls per second a shard serves.</summary>
    public const double ReadCallsPerSecond = 5;

    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Bucket> _writeRecords = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Bucket> _writeBytes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Bucket> _reads = new(StringComparer.Ordinal);
    private long _writeThrottled;
    private long _readThrottled;

    /// <summary>Creates the accounting; <paramref name="time"/> defaults to the system clock.</summary>
    public KinesisThroughputLimits(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>Records and calls refused so far (<see cref="WriteThrottled"/> + <see cref="ReadThrottled"/>).</summary>
    public long Throttled => Interlocked.Read(ref _writeThrottled) + Interlocked.Read(ref _readThrottled);

    /// <summary>Records refused so far (PutRecords entries and PutRecord calls over a shard's write limits).</summary>
    public long WriteThrottled => Interlocked.Read(ref _writeThrottled);

    /// <summary>GetRecords calls refused so far (over a shard's 5 calls per second).</summary>
    public long ReadThrottled => Interlocked.Read(ref _readThrottled);

    /// <summary>
    /// Accounts one record of <paramref name="bytes"/> (data + partition key) written to a shard; false when the
    /// shard's records or bytes budget of the last second is spent (the record must fail with
    /// ProvisionedThroughputExceededException and consumes nothing).
    /// </summary>
    public bool TryWrite(string stream, string shardId, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        string key = stream + "/" + shardId;
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            var records = Get(_writeRecords, key, WriteRecordsPerSecond, now);
            var volume = Get(_writeBytes, key, WriteBytesPerSecond, now);
            records.Refill(now, _time.TimestampFrequency);
            volume.Refill(now, _time.TimestampFrequency);
            if (records.Tokens < 1 || volume.Tokens < bytes)
            {
                Interlocked.Increment(ref _writeThrottled);
                return false;
            }
            records.Tokens -= 1;
            volume.Tokens -= bytes;
            return true;
        }
    }

    /// <summary>Accounts one GetRecords call on a shard; false when the shard already served 5 in the last second.</summary>
    public bool TryRead(string stream, string shardId)
    {
        string key = stream + "/" + shardId;
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            var calls = Get(_reads, key, ReadCallsPerSecond, now);
            calls.Refill(now, _time.TimestampFrequency);
            if (calls.Tokens < 1)
            {
                Interlocked.Increment(ref _readThrottled);
                return false;
            }
            calls.Tokens -= 1;
            return true;
        }
    }

    private static Bucket Get(Dictionary<string, Bucket> buckets, string key, double rate, long now)
    {
        if (!buckets.TryGetValue(key, out var bucket))
        {
            bucket = new Bucket(rate, now);
            buckets.Add(key, bucket);
        }
        return bucket;
    }

    private sealed class Bucket(double rate, long now)
    {
        private readonly double _rate = rate;
        private long _last = now;

        public double Tokens { get; set; } = rate; // a fresh shard starts with one full second

        public void Refill(long now, long frequency)
        {
            if (now <= _last)
            {
                return;
            }
            Tokens = Math.Min(_rate, Tokens + (_rate * (now - _last) / frequency));
            _last = now;
        }
    }
}
