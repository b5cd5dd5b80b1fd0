using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Cloud.Producer.Internal;

/// <summary>Kinesis hash keys: MD5 of the UTF-8 partition key read as a big-endian 128-bit integer.</summary>
internal static class HashKeys
{
    public static UInt128 FromPartitionKey(string partitionKey)
    {
        int max = Encoding.UTF8.GetMaxByteCount(partitionKey.Length);
        byte[]? rented = null;
        Span<byte> utf8 = max <= 1024 ? stackalloc byte[max] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            int n = Encoding.UTF8.GetBytes(partitionKey, utf8);
            Span<byte> digest = stackalloc byte[16];
#pragma warning disable CA5351 // Kinesis defines shard routing as the MD5 of the partition key
            MD5.HashData(utf8[..n], digest);
#pragma warning restore CA5351
            return BinaryPrimitives.ReadUInt128BigEndian(digest);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Parses a decimal explicit hash key (digits only, 0 … 2^128−1).</summary>
    public static bool TryParse(string text, out UInt128 value)
    {
        value = default;
        if (text.Length is 0 or > 39)
        {
            return false;
        }
        foreach (char c in text)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }
        return UInt128.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    public static string Format(UInt128 value) => value.ToString(CultureInfo.InvariantCulture);
}
