namespace Cloud.Privacy;

/// <summary>
/// Envelope encryption: generates per-user data keys and unwraps stored (wrapped) ones. Data keys exist in the
/// clear only in memory; the key store holds them wrapped by the master key. Implementations: <see cref="KmsMasterKeyProvider"/>
/// (AWS KMS) and <see cref="LocalMasterKeyProvider"/> (local stack).
/// </summary>
public interface IMasterKeyProvider
{
    /// <summary>Identifies the master key (KMS key id/ARN, or <c>local:</c> + fingerprint); stored beside each wrapped key. Never secret.</summary>
    string MasterKeyId { get; }

    /// <summary>Generates a fresh 256-bit data key for <paramref name="userId"/>, returned both in the clear and wrapped.</summary>
    /// <exception cref="MasterKeyException">The provider failed.</exception>
    Task<GeneratedDataKey> GenerateDataKeyAsync(string userId, CancellationToken cancellationToken);

    /// <summary>Unwraps a data key previously generated for the same <paramref name="userId"/>.</summary>
    /// <exception cref="MasterKeyException">The wrapped key is not authentic for this user or master key, or the provider failed.</exception>
    Task<byte[]> DecryptDataKeyAsync(string userId, ReadOnlyMemory<byte> wrappedKey, CancellationToken cancellationToken);
}

/// <summary>A freshly generated data key: <see cref="Plaintext"/> (32 bytes, clear it after use) and <see cref="Wrapped"/> (to store).</summary>
/// <param name="Plaintext">The data key in the clear.</param>
/// <param name="Wrapped">The data key encrypted under the master key, bound to the user id.</param>
public sealed record GeneratedDataKey(byte[] Plaintext, byte[] Wrapped)
{
    /// <summary>Never prints key material.</summary>
    public override string ToString() => $"GeneratedDataKey(wrapped {Wrapped.Length} bytes)";
}

/// <summary>The encryption context (KMS) / associated data (local) binding a wrapped data key to its user.</summary>
public static class DataKeyContext
{
    /// <summary>Value of the <c>purpose</c> entry of the encryption context.</summary>
    public const string Purpose = "cloud-privacy-data-key";

    /// <summary>The KMS encryption context for a user's data key: <c>{"userId": id, "purpose": "cloud-privacy-data-key"}</c>.</summary>
    public static Dictionary<string, string> For(string userId) => new(StringComparer.Ordinal)
    {
        ["userId"] = userId,
        ["purpose"] = Purpose,
    };
}
