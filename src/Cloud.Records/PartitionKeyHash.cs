using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Cloud.Records;

/// <summary>
/// How Kinesis maps a record to a shard: the MD5 of the partition key's UTF-8 bytes read as a big-endian
/// unsigned 128-bit integer, unless an explicit hash key (a decimal string of a 128-bit integer) overrides it.
/// The shard is the one whose [StartingHashKey, EndingHashKey] range contains the value.
/// </summary>
public static class PartitionKeyHash
{
    /// <summary>Most digits a hash key can have (2^128 - 1 has 39).</summary>
    public const int MaxHashKeyDigits = 39;

    /// <summary>Hash of a partition key: MD5 of its UTF-8 bytes as a big-endian <see cref="UInt128"/>.</summary>
    /// <param name="partitionKey">The partition key (1–256 characters).</param>
    /// <exception cref="ArgumentException">The key is empty or longer than 256 characters.</exception>
    public static UInt128 Compute(string partitionKey)
    {
        ValidatePartitionKey(partitionKey);
        return ComputeUnchecked(partitionKey);
    }

    /// <summary>Hash of a partition key given as its UTF-8 bytes.</summary>
    public static UInt128 Compute(ReadOnlySpan<byte> utf8PartitionKey)
    {
        Span<byte> digest = stackalloc byte[16];
        Internal.Md5.Hash(utf8PartitionKey, digest);
        return BinaryPrimitives.ReadUInt128BigEndian(digest);
    }

    /// <summary>
    /// The 128-bit value Kinesis routes a record by: the explicit hash key when given, else the partition key's hash.
    /// </summary>
    /// <exception cref="ArgumentException">The partition key or explicit hash key is invalid.</exception>
    public static UInt128 ForRecord(string partitionKey, string? explicitHashKey)
    {
        ValidatePartitionKey(partitionKey);
        return explicitHashKey is null ? ComputeUnchecked(partitionKey) : ParseHashKey(explicitHashKey, nameof(explicitHashKey));
    }

    /// <summary>
    /// Parses a hash key (explicit hash key, shard StartingHashKey/EndingHashKey): a decimal integer in
    /// [0, 2^128 - 1] with no sign, spaces or leading zeros (Kinesis pattern <c>0|([1-9]\d{0,38})</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The text is not a valid hash key; the message says why.</exception>
    public static UInt128 ParseHashKey(string text, string? paramName = null)
    {
        ArgumentNullException.ThrowIfNull(text, paramName ?? nameof(text));
        if (!TryParseHashKey(text, out var value, out var problem))
        {
            throw new ArgumentException($"Invalid hash key \"{Truncate(text)}\": {problem}.", paramName ?? nameof(text));
        }
        return value;
    }

    /// <summary>Parses a hash key; false when it is not a decimal integer in [0, 2^128 - 1] without leading zeros.</summary>
    public static bool TryParseHashKey(ReadOnlySpan<char> text, out UInt128 value) => TryParseHashKey(text, out value, out _);

    /// <summary>Formats a hash value the way Kinesis writes hash keys (invariant decimal, no leading zeros).</summary>
    public static string Format(UInt128 value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Validates a partition key against the Kinesis rule of 1–256 characters. Characters are Unicode scalar values
    /// (a surrogate pair counts once), as <c>Cloud.Kinesis</c> and <c>Cloud.Producer</c> count them.
    /// </summary>
    /// <exception cref="ArgumentNullException">The key is null.</exception>
    /// <exception cref="ArgumentException">The key is empty or too long.</exception>
    public static void ValidatePartitionKey(string partitionKey, string? paramName = null)
    {
        ArgumentNullException.ThrowIfNull(partitionKey, paramName ?? nameof(partitionKey));
        if (partitionKey.Length is 0 or > KplFormat.MaxPartitionKeyLength)
        {
            // Only a key longer than 256 UTF-16 units can need the (slower) character count.
            int characters = partitionKey.Length == 0 ? 0 : CountCharacters(partitionKey);
            if (characters is 0 or > KplFormat.MaxPartitionKeyLength)
            {
                throw new ArgumentException(
                    $"Partition key must have 1 to {KplFormat.MaxPartitionKeyLength} characters; it has {characters}.",
                    paramName ?? nameof(partitionKey));
            }
        }
    }

    private static int CountCharacters(string s)
    {
        int count = 0;
        foreach (var _ in s.EnumerateRunes())
        {
            count++;
        }
        return count;
    }

    internal static UInt128 ComputeUnchecked(string partitionKey)
    {
        int max = Encoding.UTF8.GetMaxByteCount(partitionKey.Length);
        byte[]? rented = null;
        Span<byte> utf8 = max <= 1024 ? stackalloc byte[1024] : (rented = ArrayPool<byte>.Shared.Rent(max));
        int n = Encoding.UTF8.GetBytes(partitionKey, utf8);
        var hash = Compute(utf8[..n]);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
        return hash;
    }

    internal static bool TryParseHashKey(ReadOnlySpan<char> text, out UInt128 value, out string problem)
    {
        value = UInt128.Zero;
        if (text.IsEmpty)
        {
            problem = "it is empty";
            return false;
        }
        if (text.Length > MaxHashKeyDigits)
        {
            problem = $"it has {text.Length} characters, more than the {MaxHashKeyDigits} digits of 2^128 - 1";
            return false;
        }
        if (text.Length > 1 && text[0] == '0')
        {
            problem = "leading zeros are not allowed";
            return false;
        }
        UInt128 result = UInt128.Zero;
        UInt128 limit = UInt128.MaxValue / 10;
        for (int i = 0; i < text.Length; i++)
        {
            uint d = (uint)(text[i] - '0');
            if (d > 9)
            {
                problem = $"character {i} ('{text[i]}') is not a decimal digit";
                return false;
            }
            if (result > limit || (result == limit && d > (uint)(UInt128.MaxValue % 10)))
            {
                problem = "it is greater than 2^128 - 1 (340282366920938463463374607431768211455)";
                return false;
            }
            result = result * 10 + d;
        }
        value = result;
        problem = string.Empty;
        return true;
    }

    private static string Truncate(string s) => s.Length <= 60 ? s : string.Concat(s.AsSpan(0, 57), "...");
}
