using System.Buffers;

namespace Cloud.Producer.Internal;

/// <summary>A user record held by the producer from acceptance until completion.</summary>
internal sealed class UserRecord
{
    public UserRecord(byte[] buffer, int length, string? partitionKey, string? explicitHashKey, UInt128 hash, long gateBytes)
    {
        Buffer = buffer;
        Length = length;
        OriginalPartitionKey = partitionKey;
        OriginalExplicitHashKey = explicitHashKey;
        PartitionKey = partitionKey ?? explicitHashKey ?? "";
        ExplicitHashKey = explicitHashKey;
        Hash = hash;
        GateBytes = gateBytes;
        Completion = new TaskCompletionSource<SendResult>(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>KPL per-record tags (the trace context when propagation is on); empty otherwise.</summary>
    public Cloud.Records.KplRecordTags Tags { get; init; }

    public byte[] Buffer { get; }

    public int Length { get; }

    public ReadOnlySpan<byte> Data => Buffer.AsSpan(0, Length);

    public string? OriginalPartitionKey { get; }

    public string? OriginalExplicitHashKey { get; }

    /// <summary>True when neither key was given: the producer picks the shard.</summary>
    public bool Keyless => OriginalPartitionKey is null && OriginalExplicitHashKey is null;

    /// <summary>Partition key sent (assigned by the balancer for keyless records).</summary>
    public string PartitionKey { get; set; }

    /// <summary>Explicit hash key sent, if any.</summary>
    public string? ExplicitHashKey { get; set; }

    public int PartitionKeyBytes { get; set; }

    /// <summary>128-bit hash key that routes the record.</summary>
    public UInt128 Hash { get; set; }

    public long GateBytes { get; }

    public long Id { get; set; }

    public long EnqueuedAt { get; set; }

    public long Deadline { get; set; }

    public int Attempts { get; set; }

    public string? LastErrorCode { get; set; }

    public Exception? LastError { get; set; }

    /// <summary>Bytes counted against Kinesis limits when sent alone (data + partition key).</summary>
    public long Size => Length + PartitionKeyBytes;

    public ShardState? Shard { get; set; }

    public TaskCompletionSource<SendResult> Completion { get; }

    public void ReturnBuffer() => ArrayPool<byte>.Shared.Return(Buffer);
}

/// <summary>Double-ended queue of records (ring buffer): new records at the back, retried ones back at the front.</summary>
internal sealed class RecordDeque
{
    private UserRecord[] _items = new UserRecord[16];
    private int _head;

    public int Count { get; private set; }

    public UserRecord this[int index] => _items[(_head + index) & (_items.Length - 1)];

    public UserRecord Front => _items[_head];

    private void Grow()
    {
        var bigger = new UserRecord[_items.Length * 2];
        for (int i = 0; i < Count; i++)
        {
            bigger[i] = this[i];
        }
        _items = bigger;
        _head = 0;
    }

    public void PushBack(UserRecord record)
    {
        if (Count == _items.Length)
        {
            Grow();
        }
        _items[(_head + Count) & (_items.Length - 1)] = record;
        Count++;
    }

    public void PushFront(UserRecord record)
    {
        if (Count == _items.Length)
        {
            Grow();
        }
        _head = (_head - 1) & (_items.Length - 1);
        _items[_head] = record;
        Count++;
    }

    public UserRecord PopFront()
    {
        var r = _items[_head];
        _items[_head] = null!;
        _head = (_head + 1) & (_items.Length - 1);
        Count--;
        return r;
    }

    /// <summary>Puts <paramref name="records"/> back at the front keeping their order.</summary>
    public void PushFrontRange(List<UserRecord> records)
    {
        for (int i = records.Count - 1; i >= 0; i--)
        {
            PushFront(records[i]);
        }
    }
}
