using System.Security.Cryptography;
using System.Text;

namespace Cloud.Privacy;

/// <summary>
/// Master key for the local stack (there is no KMS emulator): data keys are wrapped with AES-256-GCM under a
/// 256-bit master key read from a file or an environment variable (base64). The wrapped form is
/// <c>[0x01][96-bit nonce][32-byte encrypted key][128-bit tag]</c> with associated data
/// <c>"cloud.privacy.wrap/v1" 0x00 userId 0x00 purpose</c>. Key material is never logged or printed.
/// </summary>
public sealed class LocalMasterKeyProvider : IMasterKeyProvider, IDisposable
{
    /// <summary>Default environment variable holding the base64 master key.</summary>
    public const string DefaultEnvironmentVariable = "CLOUD_PRIVACY_LOCAL_MASTER_KEY";

    /// <summary>Default key file of the local stack, relative to the repository root (the <c>.local/</c> folder is git-ignored).</summary>
    public const string DefaultKeyFile = ".local/privacy/master.key";

    private const byte WrapVersion = 1;
    private const int WrappedLength = 1 + FieldCiphertext.NonceSize + UserDataKey.KeySize + FieldCiphertext.TagSize;
    private readonly AesGcm _aes;
    private readonly Lock _lock = new();

    /// <summary>Creates the provider from 32 bytes of master key material (copied).</summary>
    public LocalMasterKeyProvider(ReadOnlySpan<byte> masterKey)
    {
        if (masterKey.Length != UserDataKey.KeySize)
        {
            throw new MasterKeyException("Load", null, $"a local master key must be {UserDataKey.KeySize} bytes, got {masterKey.Length}");
        }

        _aes = new AesGcm(masterKey, FieldCiphertext.TagSize);
        MasterKeyId = "local:" + Convert.ToHexStringLower(SHA256.HashData(masterKey).AsSpan(0, 8));
    }

    /// <inheritdoc />
    public string MasterKeyId { get; }

    /// <summary>Loads the master key from a file holding base64 text (as written by <see cref="CreateKeyFile"/>) or 32 raw bytes.</summary>
    /// <exception cref="MasterKeyException">The file is missing or does not hold a 256-bit key.</exception>
    public static LocalMasterKeyProvider FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] content;
        try
        {
            content = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new MasterKeyException("Load", null, $"cannot read local master key file '{path}': {ex.Message}", ex);
        }

        try
        {
            return new LocalMasterKeyProvider(content.Length == UserDataKey.KeySize ? content : DecodeBase64(Encoding.ASCII.GetString(content), $"file '{path}'"));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(content);
        }
    }

    /// <summary>Loads the master key from an environment variable holding base64.</summary>
    /// <exception cref="MasterKeyException">The variable is unset or does not hold a 256-bit key.</exception>
    public static LocalMasterKeyProvider FromEnvironment(string variable = DefaultEnvironmentVariable)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new MasterKeyException("Load", null, $"environment variable '{variable}' is not set");
        }

        return new LocalMasterKeyProvider(DecodeBase64(value, $"environment variable '{variable}'"));
    }

    /// <summary>
    /// Creates a new key file with 32 random bytes (base64), readable and writable by the owner only (0600), creating
    /// its folder. Refuses to overwrite an existing file. Put it under an ignored folder (see <see cref="DefaultKeyFile"/>).
    /// </summary>
    /// <exception cref="IOException">The file already exists.</exception>
    public static void CreateKeyFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(dir);
            }
            else
            {
                Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        Span<byte> key = stackalloc byte[UserDataKey.KeySize];
        RandomNumberGenerator.Fill(key);
        try
        {
            using var stream = new FileStream(path, options);
            stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(key) + "\n"));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Loads the key file, creating it first (0600) if it does not exist — the local stack's one-step setup.</summary>
    public static LocalMasterKeyProvider LoadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            try
            {
                CreateKeyFile(path);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first: use theirs.
            }
        }

        return FromFile(path);
    }

    /// <inheritdoc />
    public Task<GeneratedDataKey> GenerateDataKeyAsync(string userId, CancellationToken cancellationToken)
    {
        PrivacyTelemetry.CountMasterKeyCall("local", "generate");
        ArgumentException.ThrowIfNullOrEmpty(userId);
        var key = new byte[UserDataKey.KeySize];
        RandomNumberGenerator.Fill(key);
        return Task.FromResult(new GeneratedDataKey(key, Wrap(userId, key)));
    }

    /// <inheritdoc />
    public Task<byte[]> DecryptDataKeyAsync(string userId, ReadOnlyMemory<byte> wrappedKey, CancellationToken cancellationToken)
    {
        PrivacyTelemetry.CountMasterKeyCall("local", "decrypt");
        ArgumentException.ThrowIfNullOrEmpty(userId);
        var wrapped = wrappedKey.Span;
        if (wrapped.Length != WrappedLength || wrapped[0] != WrapVersion)
        {
            throw new MasterKeyException("Decrypt", userId, $"wrapped key has {wrapped.Length} bytes / version {(wrapped.Length > 0 ? wrapped[0] : 0)}, expected {WrappedLength} / {WrapVersion}");
        }

        var key = new byte[UserDataKey.KeySize];
        try
        {
            lock (_lock)
            {
                _aes.Decrypt(wrapped.Slice(1, FieldCiphertext.NonceSize), wrapped.Slice(1 + FieldCiphertext.NonceSize, UserDataKey.KeySize),
                    wrapped[^FieldCiphertext.TagSize..], key, Aad(userId));
            }
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new MasterKeyException("Decrypt", userId, $"wrapped key is not authentic for this user under master key {MasterKeyId}", ex);
        }

        return Task.FromResult(key);
    }

    /// <summary>Releases the master key's cipher state.</summary>
    public void Dispose() => _aes.Dispose();

    /// <summary>Never prints key material.</summary>
    public override string ToString() => $"LocalMasterKeyProvider({MasterKeyId})";

    private byte[] Wrap(string userId, ReadOnlySpan<byte> key)
    {
        var wrapped = new byte[WrappedLength];
        wrapped[0] = WrapVersion;
        var nonce = wrapped.AsSpan(1, FieldCiphertext.NonceSize);
        RandomNumberGenerator.Fill(nonce);
        lock (_lock)
        {
            _aes.Encrypt(nonce, key, wrapped.AsSpan(1 + FieldCiphertext.NonceSize, UserDataKey.KeySize), wrapped.AsSpan(WrappedLength - FieldCiphertext.TagSize), Aad(userId));
        }

        return wrapped;
    }

    private static byte[] Aad(string userId) => Encoding.UTF8.GetBytes("cloud.privacy.wrap/v1\0" + userId + "\0" + DataKeyContext.Purpose);

    private static byte[] DecodeBase64(string text, string source)
    {
        var buffer = new byte[64];
        if (!Convert.TryFromBase64String(text.Trim(), buffer, out int n) || n != UserDataKey.KeySize)
        {
            CryptographicOperations.ZeroMemory(buffer);
            // The message names the source, never the content.
            throw new MasterKeyException("Load", null, $"{source} does not hold a base64-encoded {UserDataKey.KeySize}-byte key");
        }

        var key = buffer.AsSpan(0, n).ToArray();
        CryptographicOperations.ZeroMemory(buffer);
        return key;
    }
}
