using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Cloud.Privacy;

/// <summary>What a field ciphertext is bound to: it decrypts only for the same user, field path and data set.</summary>
/// <param name="UserId">Pseudonymous user id (the clear-text user id field of the record).</param>
/// <param name="Field">JSON path of the field, dot-separated, <c>[*]</c> for array elements (e.g. <c>email</c>, <c>address.city</c>, <c>emails[*]</c>).</param>
/// <param name="Stream">
/// The data-set context: <see cref="PersonalDataOptions.DataSet"/> when configured, otherwise the Kinesis stream name the
/// record is written to.
/// </param>
public readonly record struct FieldBinding(string UserId, string Field, string Stream);

/// <summary>Header of a field ciphertext.</summary>
/// <param name="FormatVersion">Binary format version (currently 1).</param>
/// <param name="KeyVersion">Version of the user's data key that encrypted it.</param>
public readonly record struct CiphertextHeader(byte FormatVersion, int KeyVersion);

/// <summary>
/// Versioned field ciphertext format (v1). String form: <c>pdenc1:</c> + unpadded base64url of
/// <c>[format version 0x01][key version, uint32 big-endian][96-bit nonce][ciphertext][128-bit GCM tag]</c>.
/// The plaintext is the UTF-8 JSON text of the field's value. The associated data (not stored) is
/// <c>"cloud.privacy/v1" | format version | key version | u16 length + UTF-8 user id | u16 length + field path | u16 length + stream</c>
/// so a ciphertext moved to another user, field or stream fails authentication.
/// </summary>
public static class FieldCiphertext
{
    /// <summary>Marks a JSON string as a field ciphertext.</summary>
    public const string Prefix = "pdenc1:";

    /// <summary>Current binary format version.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Nonce size in bytes (96 bits, fresh and random for every encryption).</summary>
    public const int NonceSize = 12;

    /// <summary>GCM tag size in bytes.</summary>
    public const int TagSize = 16;

    /// <summary>Bytes added to the plaintext by the binary form: version + key version + nonce + tag.</summary>
    public const int Overhead = HeaderSize + TagSize;

    private const int HeaderSize = 1 + 4 + NonceSize;
    private const int StackLimit = 512;
    private static ReadOnlySpan<byte> PrefixUtf8 => "pdenc1:"u8;
    private static ReadOnlySpan<byte> AadLabel => "cloud.privacy/v1"u8;
    private static readonly SearchValues<byte> Base64UrlAlphabet = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"u8);

    /// <summary>Length in UTF-8 bytes (= chars) of the string form for a plaintext of the given length.</summary>
    public static int GetEncryptedLength(int plaintextLength) =>
        PrefixUtf8.Length + Base64Url.GetEncodedLength(plaintextLength + Overhead);

    /// <summary>True when the UTF-8 string value carries the ciphertext prefix.</summary>
    public static bool IsCiphertext(ReadOnlySpan<byte> utf8) => utf8.StartsWith(PrefixUtf8);

    /// <summary>True when the prefix occurs anywhere in <paramref name="utf8"/> — a cheap pre-check before parsing a record.</summary>
    public static bool ContainsCiphertext(ReadOnlySpan<byte> utf8) => utf8.IndexOf(PrefixUtf8) >= 0;

    /// <summary>True when the string value carries the ciphertext prefix.</summary>
    public static bool IsCiphertext(string? value) => value is not null && value.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Encrypts <paramref name="plaintext"/> into <paramref name="destination"/> (string form, UTF-8); returns bytes written.</summary>
    /// <exception cref="ArgumentException">The destination is smaller than <see cref="GetEncryptedLength"/>.</exception>
    public static int Encrypt(UserDataKey key, in FieldBinding binding, ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(key);
        int total = GetEncryptedLength(plaintext.Length);
        if (destination.Length < total)
        {
            throw new ArgumentException($"Destination needs {total} bytes, has {destination.Length}.", nameof(destination));
        }

        int rawLength = plaintext.Length + Overhead;
        byte[]? rented = null;
        Span<byte> raw = rawLength <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(rawLength));
        raw = raw[..rawLength];
        try
        {
            raw[0] = FormatVersion;
            BinaryPrimitives.WriteInt32BigEndian(raw[1..5], key.Version);
            var nonce = raw.Slice(5, NonceSize);
            RandomNumberGenerator.Fill(nonce);
            var cipher = raw.Slice(HeaderSize, plaintext.Length);
            var tag = raw[(HeaderSize + plaintext.Length)..];

            byte[]? aadRented = null;
            int aadLength = GetAadLength(binding);
            Span<byte> aad = aadLength <= StackLimit ? stackalloc byte[StackLimit] : (aadRented = ArrayPool<byte>.Shared.Rent(aadLength));
            aad = aad[..WriteAad(binding, FormatVersion, key.Version, aad)];
            var aes = key.Rent();
            try
            {
                aes.Encrypt(nonce, plaintext, cipher, tag, aad);
            }
            finally
            {
                key.Return(aes);
                if (aadRented is not null)
                {
                    ArrayPool<byte>.Shared.Return(aadRented);
                }
            }

            PrefixUtf8.CopyTo(destination);
            int written = Base64Url.EncodeToUtf8(raw, destination[PrefixUtf8.Length..]);
            return PrefixUtf8.Length + written;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    /// <summary>Encrypts <paramref name="plaintext"/> and returns the string form.</summary>
    public static string Encrypt(UserDataKey key, in FieldBinding binding, ReadOnlySpan<byte> plaintext)
    {
        var buffer = new byte[GetEncryptedLength(plaintext.Length)];
        int n = Encrypt(key, binding, plaintext, buffer);
        return Encoding.ASCII.GetString(buffer, 0, n);
    }

    /// <summary>Reads the header of a string-form ciphertext (UTF-8) without decrypting it.</summary>
    /// <exception cref="CiphertextTamperedException">Not a well-formed v1 ciphertext.</exception>
    public static CiphertextHeader ReadHeader(ReadOnlySpan<byte> ciphertext, in FieldBinding binding)
    {
        Span<byte> head = stackalloc byte[6];
        var body = Body(ciphertext, binding);
        // Decode a prefix of whole 4-char groups: 8 chars → 6 bytes, enough for version + key version.
        if (body.Length < Base64Url.GetEncodedLength(Overhead))
        {
            throw Tampered(binding, "too short");
        }

        if (Base64Url.DecodeFromUtf8(body[..8], head, out _, out int written, isFinalBlock: false) != OperationStatus.Done || written != 6)
        {
            throw Tampered(binding, "invalid base64url");
        }

        if (head[0] != FormatVersion)
        {
            throw Tampered(binding, $"unsupported format version {head[0]}");
        }

        return new CiphertextHeader(head[0], BinaryPrimitives.ReadInt32BigEndian(head[1..5]));
    }

    /// <summary>Decrypts a string-form ciphertext (UTF-8) and returns the plaintext JSON value bytes.</summary>
    /// <exception cref="CiphertextTamperedException">Malformed, altered, or bound to another user/field/stream.</exception>
    /// <exception cref="UnknownKeyVersionException">The header names a key version other than <paramref name="key"/>'s.</exception>
    public static byte[] Decrypt(UserDataKey key, in FieldBinding binding, ReadOnlySpan<byte> ciphertext)
    {
        ArgumentNullException.ThrowIfNull(key);
        var body = Body(ciphertext, binding);
        int maxRaw = Base64Url.GetMaxDecodedLength(body.Length);
        byte[]? rented = null;
        Span<byte> raw = maxRaw <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(maxRaw));
        try
        {
            if (!IsCanonicalBase64Url(body)
                || Base64Url.DecodeFromUtf8(body, raw, out int consumed, out int rawLength) != OperationStatus.Done
                || consumed != body.Length)
            {
                throw Tampered(binding, "invalid base64url");
            }

            raw = raw[..rawLength];
            if (rawLength < Overhead)
            {
                throw Tampered(binding, "too short");
            }

            if (raw[0] != FormatVersion)
            {
                throw Tampered(binding, $"unsupported format version {raw[0]}");
            }

            int keyVersion = BinaryPrimitives.ReadInt32BigEndian(raw[1..5]);
            if (keyVersion != key.Version)
            {
                throw new UnknownKeyVersionException(binding.UserId, binding.Field, keyVersion, key.Version);
            }

            var nonce = raw.Slice(5, NonceSize);
            int cipherLength = rawLength - Overhead;
            var cipher = raw.Slice(HeaderSize, cipherLength);
            var tag = raw[(HeaderSize + cipherLength)..];
            var plaintext = new byte[cipherLength];

            byte[]? aadRented = null;
            int aadLength = GetAadLength(binding);
            Span<byte> aad = aadLength <= StackLimit ? stackalloc byte[StackLimit] : (aadRented = ArrayPool<byte>.Shared.Rent(aadLength));
            aad = aad[..WriteAad(binding, raw[0], keyVersion, aad)];
            var aes = key.Rent();
            try
            {
                aes.Decrypt(nonce, cipher, tag, plaintext, aad);
            }
            catch (AuthenticationTagMismatchException ex)
            {
                throw Tampered(binding, "authentication tag mismatch (altered, or moved to another user, field or stream)", ex);
            }
            finally
            {
                key.Return(aes);
                if (aadRented is not null)
                {
                    ArrayPool<byte>.Shared.Return(aadRented);
                }
            }

            return plaintext;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    /// <summary>Decrypts a string-form ciphertext.</summary>
    public static byte[] Decrypt(UserDataKey key, in FieldBinding binding, string ciphertext)
    {
        ArgumentNullException.ThrowIfNull(ciphertext);
        return Decrypt(key, binding, Encoding.UTF8.GetBytes(ciphertext));
    }

    private static ReadOnlySpan<byte> Body(ReadOnlySpan<byte> ciphertext, in FieldBinding binding) =>
        ciphertext.StartsWith(PrefixUtf8) ? ciphertext[PrefixUtf8.Length..] : throw Tampered(binding, $"missing '{Prefix}' prefix");

    // Unpadded base64url leaves unused low bits in the last char; decoders ignore them, so a flipped unused bit
    // would decode to the same bytes. Rejecting non-zero unused bits makes every character of the string significant.
    private static bool IsCanonicalBase64Url(ReadOnlySpan<byte> body)
    {
        if (body.Length == 0)
        {
            return false;
        }

        // The decoder also skips whitespace, so " " or "\n" inside the string would decode to the same bytes.
        if (body.IndexOfAnyExcept(Base64UrlAlphabet) >= 0)
        {
            return false;
        }

        int rem = body.Length % 4;
        if (rem == 1)
        {
            return false;
        }

        if (rem == 0)
        {
            return true;
        }

        int v = Base64UrlValue(body[^1]);
        int unusedMask = rem == 2 ? 0x0F : 0x03;
        return v >= 0 && (v & unusedMask) == 0;
    }

    private static int Base64UrlValue(byte c) => c switch
    {
        >= (byte)'A' and <= (byte)'Z' => c - 'A',
        >= (byte)'a' and <= (byte)'z' => c - 'a' + 26,
        >= (byte)'0' and <= (byte)'9' => c - '0' + 52,
        (byte)'-' => 62,
        (byte)'_' => 63,
        _ => -1,
    };

    private static int GetAadLength(in FieldBinding b) =>
        AadLabel.Length + 1 + 4 + 6
        + Encoding.UTF8.GetByteCount(b.UserId ?? "") + Encoding.UTF8.GetByteCount(b.Field ?? "") + Encoding.UTF8.GetByteCount(b.Stream ?? "");

    private static int WriteAad(in FieldBinding b, byte formatVersion, int keyVersion, Span<byte> aad)
    {
        if (string.IsNullOrEmpty(b.UserId) || string.IsNullOrEmpty(b.Field) || string.IsNullOrEmpty(b.Stream))
        {
            throw new ArgumentException("A field binding needs a user id, a field path and a stream name.", nameof(b));
        }

        AadLabel.CopyTo(aad);
        int pos = AadLabel.Length;
        aad[pos++] = formatVersion;
        BinaryPrimitives.WriteInt32BigEndian(aad[pos..], keyVersion);
        pos += 4;
        pos = WriteString(b.UserId, aad, pos);
        pos = WriteString(b.Field, aad, pos);
        pos = WriteString(b.Stream, aad, pos);
        return pos;
    }

    private static int WriteString(string s, Span<byte> aad, int pos)
    {
        int n = Encoding.UTF8.GetBytes(s, aad[(pos + 2)..]);
        if (n > ushort.MaxValue)
        {
            throw new ArgumentException("User id, field path and stream name must each be at most 65,535 UTF-8 bytes.");
        }

        BinaryPrimitives.WriteUInt16BigEndian(aad[pos..], (ushort)n);
        return pos + 2 + n;
    }

    private static CiphertextTamperedException Tampered(in FieldBinding b, string reason, Exception? inner = null) =>
        new(b.UserId, b.Field, b.Stream, reason, inner);
}
