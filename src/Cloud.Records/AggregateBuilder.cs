using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Cloud.Records.Internal;

namespace Cloud.Records;

/// <summary>
/// Builds one KPL aggregated record incrementally with exact size accounting. Records are encoded into pooled
/// buffers as they are added (partition keys and explicit hash keys are deduplicated into the key tables), so a
/// reused builder allocates nothing per record. Not thread-safe; <see cref="Reset"/> to reuse, dispose to
/// return the buffers to the pool.
/// </summary>
/// <remarks>
/// Wire format: <c>[F3 89 9A C2][AggregatedRecord][MD5(AggregatedRecord)]</c> with the key tables written before
/// the records (field order 1, 2, 3, as protobuf serializers do); a record's optional tags (field 4) follow its data.
/// </remarks>
public sealed class AggregateBuilder : IDisposable
{
    private const byte PartitionKeyTableTag = (1 << 3) | ProtoWire.WireLengthDelimited;   // 0x0A
    private const byte HashKeyTableTag = (2 << 3) | ProtoWire.WireLengthDelimited;        // 0x12
    private const byte RecordTag = (3 << 3) | ProtoWire.WireLengthDelimited;              // 0x1A
    private const byte PartitionKeyIndexTag = (1 << 3) | ProtoWire.WireVarint;            // 0x08
    private const byte HashKeyIndexTag = (2 << 3) | ProtoWire.WireVarint;                 // 0x10
    private const byte DataTag = (3 << 3) | ProtoWire.WireLengthDelimited;                // 0x1A

    private readonly Dictionary<string, int> _partitionKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _hashKeys = new(StringComparer.Ordinal);
    private readonly int _limit;
    private readonly bool _countOuterKey;
    private GrowableBuffer _partitionKeyTable;
    private GrowableBuffer _hashKeyTable;
    private GrowableBuffer _records;
    private int _count;
    private string? _firstPartitionKey;
    private string? _firstHashKey;
    private int _firstPartitionKeyBytes;
    private bool _disposed;

    /// <summary>Creates a builder with <see cref="AggregateBuilderOptions.Default"/>.</summary>
    public AggregateBuilder()
        : this(AggregateBuilderOptions.Default)
    {
    }

    /// <summary>Creates a builder.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public AggregateBuilder(AggregateBuilderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _countOuterKey = options.FillPayloadUnits;
        _limit = options.FillPayloadUnits
            ? options.MaxAggregateSize / KplFormat.PutPayloadUnitSize * KplFormat.PutPayloadUnitSize
            : options.MaxAggregateSize;
    }

    /// <summary>The options this builder was created with.</summary>
    public AggregateBuilderOptions Options { get; }

    /// <summary>Number of user records in the aggregate.</summary>
    public int Count => _count;

    /// <summary>Exact size in bytes of the aggregate <see cref="WriteTo(Span{byte})"/> writes (magic + protobuf + MD5).</summary>
    public int EncodedSize => KplFormat.Overhead + ProtobufSize;

    /// <summary>
    /// Size Kinesis counts for the record that carries this aggregate: <see cref="EncodedSize"/> plus the UTF-8
    /// bytes of <see cref="PartitionKey"/> (the first user record's key).
    /// </summary>
    public int KinesisRecordSize => EncodedSize + _firstPartitionKeyBytes;

    /// <summary>PUT payload units (25 KB each) a record of <see cref="KinesisRecordSize"/> bytes is billed.</summary>
    public int PayloadUnits => (KinesisRecordSize + KplFormat.PutPayloadUnitSize - 1) / KplFormat.PutPayloadUnitSize;

    /// <summary>The size bound TryAdd enforces: on <see cref="EncodedSize"/>, or on <see cref="KinesisRecordSize"/> when filling payload units.</summary>
    public int SizeLimit => _limit;

    /// <summary>Partition key for the Kinesis record carrying the aggregate: the first user record's key (as the KPL does); null when empty.</summary>
    public string? PartitionKey => _firstPartitionKey;

    /// <summary>Explicit hash key of the first user record, if it had one; null otherwise.</summary>
    public string? ExplicitHashKey => _firstHashKey;

    /// <summary>Number of distinct partition keys in the key table.</summary>
    public int PartitionKeyCount => _partitionKeys.Count;

    /// <summary>Number of distinct explicit hash keys in the key table.</summary>
    public int ExplicitHashKeyCount => _hashKeys.Count;

    private int ProtobufSize => _partitionKeyTable.Length + _hashKeyTable.Length + _records.Length;

    /// <summary>
    /// Adds a user record if the aggregate stays within <see cref="SizeLimit"/>; otherwise leaves the builder
    /// unchanged and returns false (flush and start a new aggregate, or send a record too large for any
    /// aggregate on its own).
    /// </summary>
    /// <param name="partitionKey">The record's partition key (1–256 characters).</param>
    /// <param name="explicitHashKey">Optional explicit hash key (decimal 0..2^128-1).</param>
    /// <param name="data">The record's data.</param>
    /// <exception cref="ArgumentException">The partition key or explicit hash key is invalid.</exception>
    public bool TryAdd(string partitionKey, string? explicitHashKey, ReadOnlySpan<byte> data) =>
        TryAdd(partitionKey, explicitHashKey, data, default);

    /// <summary>
    /// Adds a user record carrying KPL per-record <paramref name="tags"/> (Record field 4, which KPL deaggregators
    /// skip), e.g. <see cref="KplTraceTags.Create(string, string?)"/>; otherwise as
    /// <see cref="TryAdd(string, string?, ReadOnlySpan{byte})"/>. The tags count towards the size limit.
    /// </summary>
    /// <exception cref="ArgumentException">The partition key or explicit hash key is invalid.</exception>
    public bool TryAdd(string partitionKey, string? explicitHashKey, ReadOnlySpan<byte> data, KplRecordTags tags)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        PartitionKeyHash.ValidatePartitionKey(partitionKey);

        // Explicit hash keys are rare: look them up (and validate new ones) before touching any state.
        int ehkIndex = -1, ehkEntrySize = 0;
        if (explicitHashKey is not null && !_hashKeys.TryGetValue(explicitHashKey, out ehkIndex))
        {
            if (!PartitionKeyHash.TryParseHashKey(explicitHashKey, out _, out string problem))
            {
                throw new ArgumentException($"Invalid explicit hash key for partition key \"{partitionKey}\": {problem}.", nameof(explicitHashKey));
            }
            ehkIndex = _hashKeys.Count;
            ehkEntrySize = ProtoWire.LengthDelimitedSize(explicitHashKey.Length); // validated ASCII digits
        }

        // One hash computation per key: add the key now and take it out again if the record does not fit.
        ref int pkSlot = ref CollectionsMarshal.GetValueRefOrAddDefault(_partitionKeys, partitionKey, out bool knownKey);
        int pkIndex, pkEntrySize = 0, pkBytes = 0;
        if (knownKey)
        {
            pkIndex = pkSlot;
        }
        else
        {
            pkIndex = _partitionKeys.Count - 1;
            pkSlot = pkIndex;
            // Transcode straight into the table buffer (tag + 2-byte length room); committed only if the record fits.
            var entry = _partitionKeyTable.GetSpan(3 + partitionKey.Length * 3);
            pkBytes = Encoding.UTF8.GetBytes(partitionKey, entry[3..]);
            pkEntrySize = ProtoWire.LengthDelimitedSize(pkBytes);
        }

        int inner = RecordBodySize(pkIndex, ehkIndex, data.Length) + tags.Encoded.Length;
        long recordEntrySize = 1 + ProtoWire.VarintSize((ulong)inner) + (long)inner;
        long newSize = KplFormat.Overhead + (long)ProtobufSize + pkEntrySize + ehkEntrySize + recordEntrySize;
        if (_countOuterKey)
        {
            newSize += _count == 0 ? (pkBytes != 0 ? pkBytes : Encoding.UTF8.GetByteCount(partitionKey)) : _firstPartitionKeyBytes;
        }
        if (newSize > _limit)
        {
            if (!knownKey)
            {
                _partitionKeys.Remove(partitionKey);
            }
            return false;
        }

        if (!knownKey)
        {
            var entry = _partitionKeyTable.GetSpan(3 + pkBytes); // within the span reserved above: no regrowth
            int prefix = 1 + ProtoWire.VarintSize((uint)pkBytes);
            if (prefix != 3)
            {
                entry.Slice(3, pkBytes).CopyTo(entry[prefix..]);
            }
            entry[0] = PartitionKeyTableTag;
            ProtoWire.WriteVarint(entry[1..], (uint)pkBytes);
            _partitionKeyTable.Advance(pkEntrySize);
        }
        if (ehkEntrySize != 0)
        {
            _hashKeys.Add(explicitHashKey!, ehkIndex);
            var span = _hashKeyTable.GetSpan(ehkEntrySize);
            span[0] = HashKeyTableTag;
            int p = 1 + ProtoWire.WriteVarint(span[1..], (uint)explicitHashKey!.Length);
            Encoding.ASCII.GetBytes(explicitHashKey, span[p..]);
            _hashKeyTable.Advance(ehkEntrySize);
        }

        var rec = _records.GetSpan((int)recordEntrySize);
        rec[0] = RecordTag;
        int pos = 1 + ProtoWire.WriteVarint(rec[1..], (uint)inner);
        rec[pos++] = PartitionKeyIndexTag;
        pos += ProtoWire.WriteVarint(rec[pos..], (uint)pkIndex);
        if (ehkIndex >= 0)
        {
            rec[pos++] = HashKeyIndexTag;
            pos += ProtoWire.WriteVarint(rec[pos..], (uint)ehkIndex);
        }
        rec[pos++] = DataTag;
        pos += ProtoWire.WriteVarint(rec[pos..], (uint)data.Length);
        data.CopyTo(rec[pos..]);
        tags.Encoded.CopyTo(rec[(pos + data.Length)..]);
        _records.Advance((int)recordEntrySize);

        if (_count++ == 0)
        {
            _firstPartitionKey = partitionKey;
            _firstHashKey = explicitHashKey;
            _firstPartitionKeyBytes = pkBytes != 0 ? pkBytes : Encoding.UTF8.GetByteCount(partitionKey);
        }
        return true;
    }

    /// <summary>Adds a record whose data is a byte array; see <see cref="TryAdd(string, string?, ReadOnlySpan{byte})"/>.</summary>
    public bool TryAdd(string partitionKey, string? explicitHashKey, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return TryAdd(partitionKey, explicitHashKey, data.AsSpan());
    }

    /// <summary>
    /// Exact <see cref="EncodedSize"/> of an aggregate holding only this record: use it to decide whether a record
    /// can be aggregated at all.
    /// </summary>
    public static long EncodedSizeOfSingle(string partitionKey, string? explicitHashKey, int dataLength) =>
        EncodedSizeOfSingle(partitionKey, explicitHashKey, dataLength, default);

    /// <summary>Exact <see cref="EncodedSize"/> of an aggregate holding only this record with <paramref name="tags"/>.</summary>
    public static long EncodedSizeOfSingle(string partitionKey, string? explicitHashKey, int dataLength, KplRecordTags tags)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentOutOfRangeException.ThrowIfNegative(dataLength);
        long size = KplFormat.Overhead + ProtoWire.LengthDelimitedSize(Encoding.UTF8.GetByteCount(partitionKey));
        if (explicitHashKey is not null)
        {
            size += ProtoWire.LengthDelimitedSize(explicitHashKey.Length);
        }
        int inner = RecordBodySize(0, explicitHashKey is null ? -1 : 0, dataLength) + tags.Encoded.Length;
        return size + 1 + ProtoWire.VarintSize((ulong)inner) + inner;
    }

    /// <summary>Writes the aggregate (magic, protobuf, MD5) and returns the bytes written (<see cref="EncodedSize"/>).</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="EncodedSize"/>.</exception>
    public int WriteTo(Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int size = EncodedSize;
        if (destination.Length < size)
        {
            throw new ArgumentException($"Destination has {destination.Length} bytes; the aggregate needs {size}.", nameof(destination));
        }
        int pos = WriteWithoutDigest(destination);
        Md5.Hash(destination[KplFormat.MagicLength..pos], destination.Slice(pos, KplFormat.DigestLength));
        return size;
    }

    /// <summary>
    /// Writes magic and protobuf, leaving the 16 trailer bytes for the caller (<see cref="AggregateBatchEncoder"/>
    /// hashes many aggregates at once); returns where the trailer starts. The caller has checked the length.
    /// </summary>
    internal int WriteWithoutDigest(Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        KplFormat.Magic.CopyTo(destination);
        int pos = KplFormat.MagicLength;
        _partitionKeyTable.WrittenSpan.CopyTo(destination[pos..]);
        pos += _partitionKeyTable.Length;
        _hashKeyTable.WrittenSpan.CopyTo(destination[pos..]);
        pos += _hashKeyTable.Length;
        _records.WrittenSpan.CopyTo(destination[pos..]);
        pos += _records.Length;
        return pos;
    }

    /// <summary>Writes the aggregate into <paramref name="writer"/> and returns the bytes written.</summary>
    public int WriteTo(IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        int size = EncodedSize;
        int written = WriteTo(writer.GetSpan(size));
        writer.Advance(written);
        return written;
    }

    /// <summary>Returns the aggregate as a new array.</summary>
    public byte[] ToArray()
    {
        var result = GC.AllocateUninitializedArray<byte>(EncodedSize);
        WriteTo(result);
        return result;
    }

    /// <summary>Empties the builder, keeping its buffers and key-table capacity for the next aggregate.</summary>
    public void Reset()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _partitionKeys.Clear();
        _hashKeys.Clear();
        _partitionKeyTable.Clear();
        _hashKeyTable.Clear();
        _records.Clear();
        _count = 0;
        _firstPartitionKey = null;
        _firstHashKey = null;
        _firstPartitionKeyBytes = 0;
    }

    /// <summary>Returns pooled buffers.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _partitionKeyTable.Release();
        _hashKeyTable.Release();
        _records.Release();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RecordBodySize(int pkIndex, int ehkIndex, int dataLength)
    {
        int size = 1 + ProtoWire.VarintSize((uint)pkIndex) + 1 + ProtoWire.VarintSize((uint)dataLength) + dataLength;
        if (ehkIndex >= 0)
        {
            size += 1 + ProtoWire.VarintSize((uint)ehkIndex);
        }
        return size;
    }
}
