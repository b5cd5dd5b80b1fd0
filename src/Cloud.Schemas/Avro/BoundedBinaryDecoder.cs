using Avro.IO;

namespace Cloud.Schemas.Avro;

/// <summary>
/// Avro's <see cref="BinaryDecoder"/> with every declared size checked against the bytes left before anything is
/// allocated: a string or bytes length, and an array or map block count (each item takes at least one byte), larger
/// than what remains is refused with <see cref="SchemaDataException"/> naming the byte offset. Without it a record of a
/// few dozen bytes could declare 2^30 array items and make the generic reader allocate 8 GiB of slots.
/// </summary>
/// <remarks>
/// The one legal payload refused is an array block of more zero-byte items (null, empty records) than bytes left;
/// no schema of this project has one. Not thread-safe, like the decoder it wraps.
/// </remarks>
internal sealed class BoundedBinaryDecoder(MemoryStream stream, Guid versionId) : global::Avro.IO.Decoder
{
    private readonly BinaryDecoder _inner = new(stream);

    private long Remaining => stream.Length - stream.Position;

    private int CheckLength(long length, string what, long at)
    {
        if (length < 0 || length > Remaining)
        {
            throw new SchemaDataException(versionId, $"the {what} at byte {at} declares {length} bytes, but {Remaining} are left");
        }
        return (int)length;
    }

    private long CheckCount(long count, string what, long at)
    {
        // Items of a block take at least one byte each (see the remarks), so no block holds more items than bytes left.
        if (count > Remaining)
        {
            throw new SchemaDataException(versionId, $"the {what} block at byte {at} declares {count} items, but {Remaining} bytes are left");
        }
        return count;
    }

    public bool ReadBoolean() => _inner.ReadBoolean();

    public double ReadDouble() => _inner.ReadDouble();

    public int ReadEnum() => _inner.ReadEnum();

    public void ReadFixed(byte[] buffer) => _inner.ReadFixed(buffer);

    public void ReadFixed(byte[] buffer, int start, int length) => _inner.ReadFixed(buffer, start, length);

    public float ReadFloat() => _inner.ReadFloat();

    public int ReadInt() => _inner.ReadInt();

    public long ReadLong() => _inner.ReadLong();

    public void ReadNull() => _inner.ReadNull();

    public int ReadUnionIndex() => _inner.ReadUnionIndex();

    public byte[] ReadBytes()
    {
        long at = stream.Position;
        var bytes = new byte[CheckLength(_inner.ReadLong(), "bytes value", at)];
        _inner.ReadFixed(bytes);
        return bytes;
    }

    public string ReadString()
    {
        long at = stream.Position;
        int length = CheckLength(_inner.ReadLong(), "string", at);
        if (length == 0)
        {
            return "";
        }
        var bytes = new byte[length];
        _inner.ReadFixed(bytes);
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    public long ReadArrayStart() => ReadBlockCount("array");

    public long ReadArrayNext() => ReadBlockCount("array");

    public long ReadMapStart() => ReadBlockCount("map");

    public long ReadMapNext() => ReadBlockCount("map");

    /// <summary>A block count; a negative one is followed by the block's size in bytes (Avro spec, "Complex Types").</summary>
    private long ReadBlockCount(string what)
    {
        long at = stream.Position;
        long count = _inner.ReadLong();
        if (count < 0)
        {
            if (count == long.MinValue)
            {
                throw new SchemaDataException(versionId, $"the {what} block at byte {at} declares an impossible item count");
            }
            count = -count;
            long size = _inner.ReadLong();
            CheckLength(size, what + " block", at);
        }
        return CheckCount(count, what, at);
    }

    public void SkipBoolean() => _inner.SkipBoolean();

    public void SkipBytes()
    {
        long at = stream.Position;
        stream.Position += CheckLength(_inner.ReadLong(), "bytes value", at);
    }

    public void SkipDouble() => _inner.SkipDouble();

    public void SkipEnum() => _inner.SkipEnum();

    public void SkipFixed(int len) => _inner.SkipFixed(len);

    public void SkipFloat() => _inner.SkipFloat();

    public void SkipInt() => _inner.SkipInt();

    public void SkipLong() => _inner.SkipLong();

    public void SkipNull() => _inner.SkipNull();

    public void SkipString()
    {
        long at = stream.Position;
        stream.Position += CheckLength(_inner.ReadLong(), "string", at);
    }

    public void SkipUnionIndex() => _inner.SkipUnionIndex();
}
