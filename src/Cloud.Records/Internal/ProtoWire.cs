using System.Numerics;
using System.Runtime.CompilerServices;

namespace Cloud.Records.Internal;

/// <summary>Protocol Buffers wire primitives on spans (varints, tags), written by hand so the encode path allocates nothing.</summary>
internal static class ProtoWire
{
    public const int WireVarint = 0;
    public const int WireFixed64 = 1;
    public const int WireLengthDelimited = 2;
    public const int WireStartGroup = 3;
    public const int WireEndGroup = 4;
    public const int WireFixed32 = 5;

    /// <summary>Bytes a base-128 varint of <paramref name="value"/> takes (1..10).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int VarintSize(ulong value) => (BitOperations.Log2(value | 1) * 9 + 73) >> 6;

    /// <summary>Writes a varint and returns the bytes written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WriteVarint(Span<byte> destination, ulong value)
    {
        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>Reads a varint at <paramref name="position"/>, advancing it.</summary>
    /// <returns><see cref="VarintStatus.Ok"/>, or why it could not be read.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VarintStatus TryReadVarint(ReadOnlySpan<byte> source, ref int position, out ulong value)
    {
        int pos = position;
        if ((uint)pos < (uint)source.Length && source[pos] < 0x80)
        {
            value = source[pos];
            position = pos + 1;
            return VarintStatus.Ok;
        }
        return TryReadVarintSlow(source, ref position, out value);
    }

    private static VarintStatus TryReadVarintSlow(ReadOnlySpan<byte> source, ref int position, out ulong value)
    {
        ulong result = 0;
        int pos = position;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (pos >= source.Length)
            {
                value = 0;
                return VarintStatus.Truncated;
            }
            byte b = source[pos++];
            if (shift == 63 && b > 1)
            {
                value = 0;
                return VarintStatus.Overflow;
            }
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                value = result;
                position = pos;
                return VarintStatus.Ok;
            }
        }
        value = 0;
        return VarintStatus.Overflow;
    }

    /// <summary>Size of a length-delimited field with a one-byte tag and a payload of <paramref name="length"/> bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int LengthDelimitedSize(int length) => 1 + VarintSize((uint)length) + length;
}

/// <summary>Outcome of reading a varint.</summary>
internal enum VarintStatus
{
    Ok,
    Truncated,
    Overflow,
}
