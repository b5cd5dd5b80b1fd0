using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Cloud.Records.Internal;

namespace Cloud.Records;

/// <summary>
/// Zero-copy reader over one KPL aggregate: validates the magic and MD5, indexes the key tables, then yields
/// sub-records whose data are slices of the input. Rents its index arrays from the pool: dispose it.
/// </summary>
/// <example>
/// <code>
/// if (KplAggregateReader.TryCreate(bytes, out var reader))
/// {
///     using (reader)
///     {
///         while (reader.TryRead(out var sub)) { Handle(reader.GetPartitionKeyUtf8(sub.PartitionKeyIndex), sub.Data); }
///     }
/// }
/// </code>
/// </example>
public ref struct KplAggregateReader
{
    private readonly ReadOnlySpan<byte> _record;
    private readonly int _end;
    private int[]? _keyTable;       // pairs (offset, length) for partition keys
    private int[]? _hashKeyTable;   // pairs (offset, length) for explicit hash keys
    private int _keyCount;
    private int _hashKeyCount;
    private int _recordCount;
    private int _position;
    private int _nextIndex;

    private KplAggregateReader(ReadOnlySpan<byte> record)
    {
        _record = record;
        _end = record.Length - KplFormat.DigestLength;
        _position = KplFormat.MagicLength;
    }

    /// <summary>Number of entries in the partition key table.</summary>
    public readonly int PartitionKeyCount => _keyCount;

    /// <summary>Number of entries in the explicit hash key table.</summary>
    public readonly int ExplicitHashKeyCount => _hashKeyCount;

    /// <summary>Number of sub-records in the aggregate.</summary>
    public readonly int RecordCount => _recordCount;

    /// <summary>
    /// Opens <paramref name="record"/> as an aggregate. Returns false, with nothing to dispose, when it is not one
    /// (no magic, shorter than magic + MD5, or MD5 mismatch): such a record passes through unchanged.
    /// </summary>
    /// <exception cref="AggregateFormatException">Magic and MD5 match but the protobuf message is malformed.</exception>
    public static bool TryCreate(ReadOnlySpan<byte> record, out KplAggregateReader reader)
    {
        if (!KplDeaggregator.IsAggregated(record))
        {
            reader = default;
            return false;
        }
        reader = CreateVerified(record);
        return true;
    }

    /// <summary>
    /// Opens a record of a batch whose MD5 trailers <see cref="RecordFormat.Detect(IReadOnlyList{ReadOnlyMemory{byte}}, Span{DetectedRecord})"/>
    /// checked all at once: false, with nothing to dispose, unless it is a <see cref="RecordKind.KplAggregated"/> record;
    /// otherwise as <see cref="TryCreate(ReadOnlySpan{byte}, out KplAggregateReader)"/>.
    /// </summary>
    /// <exception cref="AggregateFormatException">Magic and MD5 match but the protobuf message is malformed.</exception>
    public static bool TryCreate(in DetectedRecord record, out KplAggregateReader reader)
    {
        if (record.Kind != RecordKind.KplAggregated)
        {
            reader = default;
            return false;
        }
        reader = CreateVerified(record.Data.Span);
        return true;
    }

    /// <summary>Opens an aggregate whose magic and MD5 the caller has already checked.</summary>
    internal static KplAggregateReader CreateVerified(ReadOnlySpan<byte> record)
    {
        var reader = new KplAggregateReader(record);
        try
        {
            reader.IndexTables();
        }
        catch
        {
            reader.Dispose();
            throw;
        }
        return reader;
    }

    /// <summary>UTF-8 bytes of partition key table entry <paramref name="index"/>.</summary>
    public readonly ReadOnlySpan<byte> GetPartitionKeyUtf8(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_keyCount, nameof(index));
        return _record.Slice(_keyTable![index * 2], _keyTable[index * 2 + 1]);
    }

    /// <summary>UTF-8 bytes of explicit hash key table entry <paramref name="index"/>.</summary>
    public readonly ReadOnlySpan<byte> GetExplicitHashKeyUtf8(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_hashKeyCount, nameof(index));
        return _record.Slice(_hashKeyTable![index * 2], _hashKeyTable[index * 2 + 1]);
    }

    /// <summary>Reads the next sub-record; false after the last one.</summary>
    /// <exception cref="AggregateFormatException">The sub-record is malformed (offset and problem in the message).</exception>
    public bool TryRead(out KplSubRecord record)
    {
        var span = _record;
        while (_position < _end)
        {
            int fieldStart = _position;
            ulong tag = ReadVarint(span, ref _position, "field tag", -1);
            int wire = (int)(tag & 7);
            if (tag >> 3 == 3)
            {
                int length = ReadLength(span, ref _position, _end, fieldStart, "records", -1);
                int bodyStart = _position;
                _position += length;
                record = ParseRecord(span, fieldStart, bodyStart, bodyStart + length, _nextIndex++);
                return true;
            }
            SkipField(span, ref _position, _end, wire, fieldStart, -1);
        }
        record = default;
        return false;
    }

    /// <summary>Returns the rented index arrays to the pool.</summary>
    public void Dispose()
    {
        if (_keyTable is not null)
        {
            ArrayPool<int>.Shared.Return(_keyTable);
            _keyTable = null;
        }
        if (_hashKeyTable is not null)
        {
            ArrayPool<int>.Shared.Return(_hashKeyTable);
            _hashKeyTable = null;
        }
    }

    private void IndexTables()
    {
        var span = _record;
        int pos = KplFormat.MagicLength;
        while (pos < _end)
        {
            int fieldStart = pos;
            ulong tag = ReadVarint(span, ref pos, "field tag", -1);
            ulong field = tag >> 3;
            int wire = (int)(tag & 7);
            if (field == 0)
            {
                throw new AggregateFormatException(fieldStart, "field number 0 is not valid protobuf");
            }
            switch (field)
            {
                case 1:
                {
                    ExpectWire(wire, ProtoWire.WireLengthDelimited, fieldStart, "partition_key_table (1)", -1);
                    int length = ReadLength(span, ref pos, _end, fieldStart, "partition_key_table", -1);
                    Append(ref _keyTable, ref _keyCount, pos, length);
                    pos += length;
                    break;
                }
                case 2:
                {
                    ExpectWire(wire, ProtoWire.WireLengthDelimited, fieldStart, "explicit_hash_key_table (2)", -1);
                    int length = ReadLength(span, ref pos, _end, fieldStart, "explicit_hash_key_table", -1);
                    Append(ref _hashKeyTable, ref _hashKeyCount, pos, length);
                    pos += length;
                    break;
                }
                case 3:
                {
                    ExpectWire(wire, ProtoWire.WireLengthDelimited, fieldStart, "records (3)", _recordCount);
                    int length = ReadLength(span, ref pos, _end, fieldStart, "records", _recordCount);
                    pos += length;
                    _recordCount++;
                }
                    break;
                default:
                    SkipField(span, ref pos, _end, wire, fieldStart, -1);
                    break;
            }
        }
    }

    private static void Append(ref int[]? table, ref int count, int start, int length)
    {
        if (table is null || table.Length < (count + 1) * 2)
        {
            var next = ArrayPool<int>.Shared.Rent(Math.Max(64, (count + 1) * 4));
            if (table is not null)
            {
                table.AsSpan(0, count * 2).CopyTo(next);
                ArrayPool<int>.Shared.Return(table);
            }
            table = next;
        }
        table[count * 2] = start;
        table[count * 2 + 1] = length;
        count++;
    }

    private readonly KplSubRecord ParseRecord(ReadOnlySpan<byte> span, int recordStart, int start, int end, int index)
    {
        int pos = start;
        ulong pkIndex = 0, ehkIndex = 0;
        bool hasPk = false, hasEhk = false, hasData = false;
        int dataStart = 0, dataLength = 0;
        while (pos < end)
        {
            int fieldStart = pos;
            ulong tag = ReadVarint(span, ref pos, "field tag", index, end);
            ulong field = tag >> 3;
            int wire = (int)(tag & 7);
            switch (field)
            {
                case 0:
                    throw new AggregateFormatException(fieldStart, "field number 0 is not valid protobuf", index);
                case 1:
                    ExpectWire(wire, ProtoWire.WireVarint, fieldStart, "partition_key_index (1)", index);
                    pkIndex = ReadVarint(span, ref pos, "partition_key_index", index, end);
                    hasPk = true;
                    break;
                case 2:
                    ExpectWire(wire, ProtoWire.WireVarint, fieldStart, "explicit_hash_key_index (2)", index);
                    ehkIndex = ReadVarint(span, ref pos, "explicit_hash_key_index", index, end);
                    hasEhk = true;
                    break;
                case 3:
                    ExpectWire(wire, ProtoWire.WireLengthDelimited, fieldStart, "data (3)", index);
                    dataLength = ReadLength(span, ref pos, end, fieldStart, "data", index);
                    dataStart = pos;
                    pos += dataLength;
                    hasData = true;
                    break;
                default:
                    SkipField(span, ref pos, end, wire, fieldStart, index);
                    break;
            }
        }
        if (!hasPk)
        {
            throw new AggregateFormatException(recordStart, "missing required field partition_key_index (1)", index);
        }
        if (!hasData)
        {
            throw new AggregateFormatException(recordStart, "missing required field data (3)", index);
        }
        if (pkIndex >= (ulong)_keyCount)
        {
            throw new AggregateFormatException(recordStart, $"partition_key_index {pkIndex} is out of range: the partition key table has {_keyCount} entries", index);
        }
        if (hasEhk && ehkIndex >= (ulong)_hashKeyCount)
        {
            throw new AggregateFormatException(recordStart, $"explicit_hash_key_index {ehkIndex} is out of range: the explicit hash key table has {_hashKeyCount} entries", index);
        }
        return new KplSubRecord(index, (int)pkIndex, hasEhk ? (int)ehkIndex : -1, span.Slice(dataStart, dataLength), dataStart)
        {
            Body = span[start..end],
        };
    }

    // Varints and lengths are read for every field of every sub-record: the one-byte case is inlined, the rest (and the
    // errors, whose messages are formatted) stay out of line.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly ulong ReadVarint(ReadOnlySpan<byte> span, ref int pos, string what, int index, int end = -1, bool isLength = false)
    {
        int limit = end < 0 ? _end : end;
        int p = pos;
        if ((uint)p < (uint)limit && (uint)p < (uint)span.Length && span[p] < 0x80)
        {
            pos = p + 1;
            return span[p];
        }
        return ReadVarintSlow(span, ref pos, what, index, limit, isLength);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ulong ReadVarintSlow(ReadOnlySpan<byte> span, ref int pos, string what, int index, int limit, bool isLength)
    {
        int start = pos;
        var status = ProtoWire.TryReadVarint(span[..limit], ref pos, out ulong value);
        if (status != VarintStatus.Ok)
        {
            what = isLength ? "length of " + what : what;
            throw new AggregateFormatException(
                start,
                status == VarintStatus.Truncated ? $"truncated varint in {what}" : $"varint in {what} is longer than 10 bytes or overflows 64 bits",
                index);
        }
        return value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly int ReadLength(ReadOnlySpan<byte> span, ref int pos, int end, int fieldStart, string what, int index)
    {
        ulong length = ReadVarint(span, ref pos, what, index, end, isLength: true);
        if (length > (ulong)(end - pos))
        {
            ThrowLengthPastEnd(fieldStart, what, length, end - pos, index);
        }
        return (int)length;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowLengthPastEnd(int fieldStart, string what, ulong length, int remaining, int index) =>
        throw new AggregateFormatException(fieldStart, $"{what} declares {length} bytes but only {remaining} remain in the enclosing message", index);

    private readonly void SkipField(ReadOnlySpan<byte> span, ref int pos, int end, int wire, int fieldStart, int index)
    {
        switch (wire)
        {
            case ProtoWire.WireVarint:
                ReadVarint(span, ref pos, "unknown varint field", index, end);
                break;
            case ProtoWire.WireFixed64:
                if (end - pos < 8)
                {
                    throw new AggregateFormatException(fieldStart, "truncated 64-bit field", index);
                }
                pos += 8;
                break;
            case ProtoWire.WireLengthDelimited:
                int length = ReadLength(span, ref pos, end, fieldStart, "length-delimited field", index);
                pos += length;
                break;
            case ProtoWire.WireFixed32:
                if (end - pos < 4)
                {
                    throw new AggregateFormatException(fieldStart, "truncated 32-bit field", index);
                }
                pos += 4;
                break;
            default:
                throw new AggregateFormatException(fieldStart, $"unsupported wire type {wire}", index);
        }
    }

    private static void ExpectWire(int actual, int expected, int offset, string field, int index)
    {
        if (actual != expected)
        {
            throw new AggregateFormatException(offset, $"{field} has wire type {actual}; expected {expected}", index);
        }
    }
}

/// <summary>One sub-record read by <see cref="KplAggregateReader"/>.</summary>
public readonly ref struct KplSubRecord
{
    internal KplSubRecord(int index, int partitionKeyIndex, int explicitHashKeyIndex, ReadOnlySpan<byte> data, int dataOffset)
    {
        Index = index;
        PartitionKeyIndex = partitionKeyIndex;
        ExplicitHashKeyIndex = explicitHashKeyIndex;
        Data = data;
        DataOffset = dataOffset;
    }

    /// <summary>Position in the aggregate, starting at 0: the sub-sequence number.</summary>
    public int Index { get; }

    /// <summary>Index into the partition key table.</summary>
    public int PartitionKeyIndex { get; }

    /// <summary>Index into the explicit hash key table, or -1 when the sub-record has none.</summary>
    public int ExplicitHashKeyIndex { get; }

    /// <summary>The sub-record's data, a slice of the aggregate.</summary>
    public ReadOnlySpan<byte> Data { get; }

    /// <summary>Offset of <see cref="Data"/> within the aggregate bytes.</summary>
    public int DataOffset { get; }

    /// <summary>The sub-record's whole Record message (all fields, including tags: see <see cref="KplTraceTags"/>).</summary>
    public ReadOnlySpan<byte> Body { get; init; }
}
