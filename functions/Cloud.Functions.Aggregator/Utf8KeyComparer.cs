using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Cloud.Functions.Aggregator;

/// <summary>
/// Ordinal string comparer whose hash is that of the string's UTF-8 bytes, so a dictionary keyed by strings can be
/// searched with the UTF-8 bytes of a JSON value (<see cref="Dictionary{TKey, TValue}.GetAlternateLookup{TAlternateKey}"/>)
/// without making a string per record. Bytes looked up must be valid UTF-8 (the field reader checks).
/// </summary>
internal sealed class Utf8KeyComparer : IEqualityComparer<string>, IAlternateEqualityComparer<ReadOnlySpan<byte>, string>
{
    public static Utf8KeyComparer Instance { get; } = new();

    public bool Equals(string? x, string? y) => string.Equals(x, y, StringComparison.Ordinal);

    public int GetHashCode(string obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        int max = Encoding.UTF8.GetMaxByteCount(obj.Length);
        byte[]? rented = max > 512 ? ArrayPool<byte>.Shared.Rent(max) : null;
        Span<byte> utf8 = rented ?? stackalloc byte[512];
        try
        {
            int n = Encoding.UTF8.GetBytes(obj, utf8);
            return GetHashCode(utf8[..n]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    public int GetHashCode(ReadOnlySpan<byte> alternate)
    {
        var hash = default(HashCode);
        hash.AddBytes(alternate);
        return hash.ToHashCode();
    }

    public bool Equals(ReadOnlySpan<byte> alternate, string other)
    {
        if (Ascii.Equals(alternate, other))
        {
            return true;
        }

        if (Ascii.IsValid(alternate) || alternate.Length < other.Length)
        {
            // An ASCII byte string equals only its own ASCII text; UTF-8 never has fewer bytes than UTF-16 has chars.
            return false;
        }

        char[]? rented = alternate.Length > 256 ? ArrayPool<char>.Shared.Rent(alternate.Length) : null;
        Span<char> chars = rented ?? stackalloc char[256];
        try
        {
            return Utf8.ToUtf16(alternate, chars, out _, out int written, replaceInvalidSequences: false) == OperationStatus.Done
                && chars[..written].SequenceEqual(other);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    public string Create(ReadOnlySpan<byte> alternate) => Encoding.UTF8.GetString(alternate);
}
