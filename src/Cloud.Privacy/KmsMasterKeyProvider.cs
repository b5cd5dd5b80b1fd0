using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime;

namespace Cloud.Privacy;

/// <summary>
/// Master key in AWS KMS: <c>GenerateDataKey</c> (AES_256) and <c>Decrypt</c>, both with the encryption context
/// <c>{userId, purpose}</c> so a wrapped key only unwraps for its own user (and CloudTrail shows whose key was used).
/// See https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html.
/// </summary>
public sealed class KmsMasterKeyProvider : IMasterKeyProvider
{
    private readonly IAmazonKeyManagementService _kms;

    /// <summary>Creates the provider for a KMS key id, ARN or alias (<c>alias/...</c>).</summary>
    public KmsMasterKeyProvider(IAmazonKeyManagementService kms, string keyId)
    {
        ArgumentNullException.ThrowIfNull(kms);
        ArgumentException.ThrowIfNullOrWhiteSpace(keyId);
        _kms = kms;
        MasterKeyId = keyId;
    }

    /// <inheritdoc />
    public string MasterKeyId { get; }

    /// <inheritdoc />
    public async Task<GeneratedDataKey> GenerateDataKeyAsync(string userId, CancellationToken cancellationToken)
    {
        PrivacyTelemetry.CountMasterKeyCall("kms", "generate");
        ArgumentException.ThrowIfNullOrEmpty(userId);
        GenerateDataKeyResponse response;
        try
        {
            response = await _kms.GenerateDataKeyAsync(new GenerateDataKeyRequest
            {
                KeyId = MasterKeyId,
                KeySpec = DataKeySpec.AES_256,
                EncryptionContext = DataKeyContext.For(userId),
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException)
        {
            throw new MasterKeyException("GenerateDataKey", userId, $"KMS key '{MasterKeyId}': {ex.GetType().Name}: {ex.Message}", ex);
        }

        var plaintext = response.Plaintext?.ToArray();
        var wrapped = response.CiphertextBlob?.ToArray();
        if (plaintext is not { Length: UserDataKey.KeySize } || wrapped is not { Length: > 0 })
        {
            throw new MasterKeyException("GenerateDataKey", userId, $"KMS returned {plaintext?.Length ?? 0} plaintext bytes (expected {UserDataKey.KeySize}) and {wrapped?.Length ?? 0} wrapped bytes");
        }

        response.Plaintext!.SetLength(0);
        return new GeneratedDataKey(plaintext, wrapped);
    }

    /// <inheritdoc />
    public async Task<byte[]> DecryptDataKeyAsync(string userId, ReadOnlyMemory<byte> wrappedKey, CancellationToken cancellationToken)
    {
        PrivacyTelemetry.CountMasterKeyCall("kms", "decrypt");
        ArgumentException.ThrowIfNullOrEmpty(userId);
        DecryptResponse response;
        try
        {
            response = await _kms.DecryptAsync(new DecryptRequest
            {
                KeyId = MasterKeyId,
                CiphertextBlob = new MemoryStream(wrappedKey.ToArray(), writable: false),
                EncryptionContext = DataKeyContext.For(userId),
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidCiphertextException ex)
        {
            throw new MasterKeyException("Decrypt", userId, "KMS rejected the wrapped key (not authentic for this user's encryption context or key)", ex);
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException)
        {
            throw new MasterKeyException("Decrypt", userId, $"KMS key '{MasterKeyId}': {ex.GetType().Name}: {ex.Message}", ex);
        }

        var plaintext = response.Plaintext?.ToArray();
        if (plaintext is not { Length: UserDataKey.KeySize })
        {
            throw new MasterKeyException("Decrypt", userId, $"KMS returned {plaintext?.Length ?? 0} plaintext bytes (expected {UserDataKey.KeySize})");
        }

        response.Plaintext!.SetLength(0);
        return plaintext;
    }
}
