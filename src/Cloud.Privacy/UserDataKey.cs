using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Cloud.Privacy;

/// <summary>
/// One user's unwrapped 256-bit data key and its version. Holds a small pool of <see cref="AesGcm"/> instances so
/// concurrent callers never share one (an instance keeps per-call cipher state).
/// </summary>
public sealed class UserDataKey
{
    /// <summary>Size of a data key in bytes (AES-256).</summary>
    public const int KeySize = 32;

    private const int MaxPooled = 16;
    private readonly byte[] _key;
    private readonly ConcurrentBag<AesGcm> _pool = [];

    /// <summary>Creates a key; <paramref name="key"/> is copied.</summary>
    /// <exception cref="ArgumentException">The key is not 32 bytes, the user id is empty, or the version is not positive.</exception>
    public UserDataKey(string userId, int version, ReadOnlySpan<byte> key)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        if (key.Length != KeySize)
        {
            throw new ArgumentException($"A data key must be {KeySize} bytes, got {key.Length}.", nameof(key));
        }

        UserId = userId;
        Version = version;
        _key = key.ToArray();
    }

    /// <summary>The pseudonymous user id this key belongs to.</summary>
    public string UserId { get; }

    /// <summary>The key version written into every ciphertext header.</summary>
    public int Version { get; }

    /// <summary>HKDF-SHA256 of the key with <paramref name="info"/>: a sub-key that dies with this key.</summary>
    internal void DerivePseudonymKey(ReadOnlySpan<byte> info, Span<byte> output) => HKDF.DeriveKey(HashAlgorithmName.SHA256, _key, output, [], info);

    internal AesGcm Rent() => _pool.TryTake(out var aes) ? aes : new AesGcm(_key, FieldCiphertext.TagSize);

    internal void Return(AesGcm aes)
    {
        if (_pool.Count < MaxPooled)
        {
            _pool.Add(aes);
        }
        else
        {
            aes.Dispose();
        }
    }

    /// <summary>Never prints key material.</summary>
    public override string ToString() => $"UserDataKey({UserReference.For(UserId)}, version={Version})";
}
