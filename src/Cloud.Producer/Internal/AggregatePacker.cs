using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Cloud.Producer.Internal;

/// <summary>
/// Plans one KPL aggregated record from consecutive user records: tracks the exact encoded size
/// (magic + protobuf AggregatedRecord + MD5) as records are added, then encodes them.
/// </summary>
internal sealed class AggregatePacker
{
    public const int MagicSize = 4;
    public const int DigestSize = 16;
    public static ReadOnlySpan<byte> Magic => [0xF3, 0x89, 0x9A, 0xC2];

    private readonly Dictionary<string, int> _partitionKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _hashKeys = new(StringComparer.Ordinal);
    private readonly List<UserRecord> _records = [];
    private long _protobufSize;

    public int Count => _records.Count;

    /// <summary>Encoded size of the aggregate so far.</summary>
    public long Size => MagicSize + _protobufSize + DigestSize;

    public IReadOnlyList<UserRecord> Records => _records;

    public void Reset()
    {
        _partitionKeys.Clear();
        _hashKeys.Clear();
        _records.Clear();
        _protobufSize = 0;
    }

    internal static int VarintSize(ulong value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }
        return n;
    }

    private static int FieldSize(int payload) => 1 + VarintSize((ulong)payload) + payload;

    /// <summary>Adds <paramref name="record"/> if the aggregate then stays within <paramref name="limit"/> bytes.</summary>
    public bool TryAdd(UserRecord record, long limit)
    {
        long added = 0;
        int pkIndex;
        bool newPk = !_partitionKeys.TryGetValue(record.PartitionKey, out pkIndex);
        if (newPk)
        {
            pkIndex = _partitionKeys.Count;
            added += FieldSize(record.PartitionKeyBytes);
        }
        int ehkIndex = -1;
        bool newEhk = false;
        if (record.ExplicitHashKey is { } ehk)
        {
            newEhk = !_hashKeys.TryGetValue(ehk, out ehkIndex);
            if (newEhk)
            {
                ehkIndex = _hashKeys.Count;
                added += FieldSize(ehk.Length);
            }
        }
        int inner = 1 + VarintSize((ulong)pkIndex)
            + (ehkIndex >= 0 ? 1 + VarintSize((ulong)ehkIndex) : 0)
            + FieldSize(record.Length);
        added += FieldSize(inner);
        if (Size + added > limit)
        {
            return false;
        }
        if (newPk)
        {
            _partitionKeys.Add(record.PartitionKey, pkIndex);
        }
        if (newEhk)
        {
            _hashKeys.Add(record.ExplicitHashKey!, ehkIndex);
        }
        _protobufSize += added;
        _records.Add(record);
        return true;
    }

    /// <summary>Encodes the planned aggregate into a pooled buffer of exactly <see cref="Size"/> used bytes.</summary>
    public byte[] Encode(out int length)
    {
        length = checked((int)Size);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
        var span = buffer.AsSpan(0, length);
        Magic.CopyTo(span);
        int pos = MagicSize;
        var pkTable = new string[_partitionKeys.Count];
        foreach (var (key, index) in _partitionKeys)
        {
            pkTable[index] = key;
        }
        var ehkTable = new string[_hashKeys.Count];
        foreach (var (key, index) in _hashKeys)
        {
            ehkTable[index] = key;
        }
        foreach (var key in pkTable)
        {
            WriteString(span, ref pos, 0x0A, key);
        }
        foreach (var key in ehkTable)
        {
            WriteString(span, ref pos, 0x12, key);
        }
        foreach (var r in _records)
        {
            int pkIndex = _partitionKeys[r.PartitionKey];
            int ehkIndex = r.ExplicitHashKey is { } ehk ? _hashKeys[ehk] : -1;
            int inner = 1 + VarintSize((ulong)pkIndex)
                + (ehkIndex >= 0 ? 1 + VarintSize((ulong)ehkIndex) : 0)
                + FieldSize(r.Length);
            span[pos++] = 0x1A;
            WriteVarint(span, ref pos, (ulong)inner);
            span[pos++] = 0x08;
            WriteVarint(span, ref pos, (ulong)pkIndex);
            if (ehkIndex >= 0)
            {
                span[pos++] = 0x10;
                WriteVarint(span, ref pos, (ulong)ehkIndex);
            }
            span[pos++] = 0x1A;
            WriteVarint(span, ref pos, (ulong)r.Length);
            r.Data.CopyTo(span[pos..]);
            pos += r.Length;
        }
#pragma warning disable CA5351 // the KPL format mandates an MD5 trailer (integrity, not security)
        MD5.HashData(span[MagicSize..pos], span[pos..]);
#pragma warning restore CA5351
        pos += DigestSize;
        if (pos != length)
        {
            throw new InvalidOperationException($"Aggregate size mismatch: planned {length}, wrote {pos}.");
        }
        return buffer;
    }

    private static void WriteVarint(Span<byte> span, ref int pos, ulong value)
    {
        while (value >= 0x80)
        {
            span[pos++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[pos++] = (byte)value;
    }

    private static void WriteString(Span<byte> span, ref int pos, byte tag, string value)
    {
        span[pos++] = tag;
        int n = Encoding.UTF8.GetByteCount(value);
        WriteVarint(span, ref pos, (ulong)n);
        pos += Encoding.UTF8.GetBytes(value, span[pos..]);
    }
}
