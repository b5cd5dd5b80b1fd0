namespace Cloud.Privacy;

/// <summary>
/// Base of every error raised by Cloud.Privacy. Messages never contain plaintext, key material or a user id (they name
/// the user by <see cref="UserReference"/>); the id itself is in <see cref="UserId"/> for callers that must act on it.
/// </summary>
public abstract class PrivacyException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected PrivacyException(string message, string? userId, string? field, Exception? innerException = null)
        : base(message, innerException)
    {
        UserId = userId;
        Field = field;
    }

    /// <summary>The pseudonymous user id concerned, when known.</summary>
    public string? UserId { get; }

    /// <summary>The JSON field path concerned (e.g. <c>address.city</c>), when known.</summary>
    public string? Field { get; }
}

/// <summary>
/// A ciphertext failed authentication or could not be parsed: it was altered, truncated, or moved to another
/// user, field or stream (the associated data no longer matches). Nothing is decrypted from it.
/// </summary>
public sealed class CiphertextTamperedException : PrivacyException
{
    /// <summary>Creates the exception.</summary>
    public CiphertextTamperedException(string? userId, string? field, string? stream, string reason, Exception? innerException = null)
        : base($"Ciphertext of field '{field ?? "?"}' for {UserReference.For(userId)} in data set '{stream ?? "?"}' is not authentic: {reason}", userId, field, innerException)
    {
        Stream = stream;
        Reason = reason;
    }

    /// <summary>The stream name bound into the associated data.</summary>
    public string? Stream { get; }

    /// <summary>What failed (bad prefix, bad base64, too short, unsupported format version, authentication tag mismatch).</summary>
    public string Reason { get; }
}

/// <summary>The ciphertext names a key version the user's key record does not have.</summary>
public sealed class UnknownKeyVersionException : PrivacyException
{
    /// <summary>Creates the exception.</summary>
    public UnknownKeyVersionException(string userId, string? field, int keyVersion, int? currentVersion)
        : base($"Field '{field ?? "?"}' for {UserReference.For(userId)} was encrypted with key version {keyVersion}, but the key store holds {(currentVersion is { } v ? "version " + v.ToString(System.Globalization.CultureInfo.InvariantCulture) : "no key")}", userId, field)
    {
        KeyVersion = keyVersion;
        CurrentVersion = currentVersion;
    }

    /// <summary>The key version read from the ciphertext header.</summary>
    public int KeyVersion { get; }

    /// <summary>The version held by the key store, if any.</summary>
    public int? CurrentVersion { get; }
}

/// <summary>The user was forgotten (their key destroyed); a write for them is refused and never creates a new key.</summary>
public sealed class UserForgottenException : PrivacyException
{
    /// <summary>Creates the exception.</summary>
    public UserForgottenException(string userId, DateTimeOffset? forgottenAt)
        : base($"{UserReference.For(userId)} was forgotten{(forgottenAt is { } at ? " at " + at.ToString("O", System.Globalization.CultureInfo.InvariantCulture) : "")}; their personal data can no longer be written or read", userId, null)
    {
        ForgottenAt = forgottenAt;
    }

    /// <summary>When the tombstone was written, if known.</summary>
    public DateTimeOffset? ForgottenAt { get; }
}

/// <summary>A ciphertext exists for a user who has no key record at all (wrong key table, or the user id was altered).</summary>
public sealed class DataKeyNotFoundException : PrivacyException
{
    /// <summary>Creates the exception.</summary>
    public DataKeyNotFoundException(string userId, string? field)
        : base($"No data key exists for {UserReference.For(userId)} (field '{field ?? "?"}'): the key table holds neither a key nor a tombstone for them", userId, field)
    {
    }
}

/// <summary>The key store (DynamoDB) failed or throttled after the SDK's retries.</summary>
public sealed class KeyStoreException : PrivacyException
{
    /// <summary>Creates the exception.</summary>
    public KeyStoreException(string operation, string? userId, string problem, Exception? innerException = null)
        : base($"Key store {operation} for {UserReference.For(userId)} failed: {problem}", userId, null, innerException)
    {
        Operation = operation;
    }

    /// <summary>The key store operation that failed (e.g. <c>GetKey</c>, <c>CreateKey</c>, <c>Forget</c>).</summary>
    public string Operation { get; }
}

/// <summary>The master key provider (KMS or local) could not generate or unwrap a data key.</summary>
public sealed class MasterKeyException : PrivacyException
{
    /// <summary>Creates the exception.</summary>
    public MasterKeyException(string operation, string? userId, string problem, Exception? innerException = null)
        : base($"Master key {operation} for {UserReference.For(userId)} failed: {problem}", userId, null, innerException)
    {
        Operation = operation;
    }

    /// <summary>The operation that failed (<c>GenerateDataKey</c>, <c>Decrypt</c>, <c>Load</c>).</summary>
    public string Operation { get; }
}

/// <summary>A record is not usable JSON for field protection (malformed JSON, or personal fields without a user id).</summary>
public sealed class InvalidPersonalDataException : PrivacyException
{
    /// <summary>Creates the exception.</summary>
    public InvalidPersonalDataException(string problem, string? field, long? byteOffset = null, Exception? innerException = null)
        : base($"Record is not valid for personal-data protection{(byteOffset is { } o ? " at byte " + o.ToString(System.Globalization.CultureInfo.InvariantCulture) : "")}: {problem}", null, field, innerException)
    {
        ByteOffset = byteOffset;
    }

    /// <summary>Byte offset in the record where the problem was found, if known.</summary>
    public long? ByteOffset { get; }
}
