using System.Security.Cryptography;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime;

namespace Cloud.Privacy.Tests;

public class LocalMasterKeyTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cloud-privacy-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task Wraps_and_unwraps_bound_to_the_user()
    {
        using var master = TestKeys.LocalMaster();
        var generated = await master.GenerateDataKeyAsync("u-1", default);
        Assert.Equal(32, generated.Plaintext.Length);
        Assert.DoesNotContain(Convert.ToHexString(generated.Plaintext), Convert.ToHexString(generated.Wrapped), StringComparison.Ordinal);
        Assert.Equal(generated.Plaintext, await master.DecryptDataKeyAsync("u-1", generated.Wrapped, default));
        await Assert.ThrowsAsync<MasterKeyException>(() => master.DecryptDataKeyAsync("u-2", generated.Wrapped, default));
        using var other = TestKeys.LocalMaster();
        await Assert.ThrowsAsync<MasterKeyException>(() => other.DecryptDataKeyAsync("u-1", generated.Wrapped, default));
        var flipped = (byte[])generated.Wrapped.Clone();
        flipped[20] ^= 1;
        await Assert.ThrowsAsync<MasterKeyException>(() => master.DecryptDataKeyAsync("u-1", flipped, default));
        Assert.DoesNotContain(Convert.ToBase64String(generated.Plaintext), generated.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Key_file_is_created_owner_only_and_never_overwritten()
    {
        var path = Path.Combine(_dir, "nested", "master.key");
        LocalMasterKeyProvider.CreateKeyFile(path);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        var before = File.ReadAllText(path);
        Assert.Throws<IOException>(() => LocalMasterKeyProvider.CreateKeyFile(path));
        Assert.Equal(before, File.ReadAllText(path));
        using var a = LocalMasterKeyProvider.FromFile(path);
        using var b = LocalMasterKeyProvider.LoadOrCreate(path);
        Assert.Equal(a.MasterKeyId, b.MasterKeyId);
        Assert.DoesNotContain(before.Trim(), a.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Environment_variable_and_file_with_the_same_key_interoperate()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var variable = "CLOUD_PRIVACY_TEST_KEY_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, Convert.ToBase64String(key));
        try
        {
            using var fromEnv = LocalMasterKeyProvider.FromEnvironment(variable);
            Directory.CreateDirectory(_dir);
            var path = Path.Combine(_dir, "raw.key");
            await File.WriteAllBytesAsync(path, key);
            using var fromFile = LocalMasterKeyProvider.FromFile(path);
            var g = await fromEnv.GenerateDataKeyAsync("u", default);
            Assert.Equal(g.Plaintext, await fromFile.DecryptDataKeyAsync("u", g.Wrapped, default));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void Bad_key_material_errors_name_the_source_not_the_content()
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "bad.key");
        File.WriteAllText(path, "c2VjcmV0LXNob3J0");
        var ex = Assert.Throws<MasterKeyException>(() => LocalMasterKeyProvider.FromFile(path));
        Assert.Contains("bad.key", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0", ex.Message, StringComparison.Ordinal);
        Assert.Throws<MasterKeyException>(() => LocalMasterKeyProvider.FromFile(Path.Combine(_dir, "missing.key")));
        Assert.Throws<MasterKeyException>(() => LocalMasterKeyProvider.FromEnvironment("CLOUD_PRIVACY_UNSET_" + Guid.NewGuid().ToString("N")));
    }
}

public class KmsMasterKeyTests
{
    [Fact]
    public async Task Uses_aes256_data_keys_and_the_user_encryption_context()
    {
        using var kms = new FakeKms();
        var provider = new KmsMasterKeyProvider(kms, "alias/cloud-privacy");
        var g = await provider.GenerateDataKeyAsync("u-9", default);
        Assert.Equal(DataKeySpec.AES_256, kms.LastGenerate!.KeySpec);
        Assert.Equal("alias/cloud-privacy", kms.LastGenerate.KeyId);
        Assert.Equal("u-9", kms.LastGenerate.EncryptionContext["userId"]);
        Assert.Equal("cloud-privacy-data-key", kms.LastGenerate.EncryptionContext["purpose"]);

        Assert.Equal(g.Plaintext, await provider.DecryptDataKeyAsync("u-9", g.Wrapped, default));
        Assert.Equal("u-9", kms.LastDecrypt!.EncryptionContext["userId"]);
        var ex = await Assert.ThrowsAsync<MasterKeyException>(() => provider.DecryptDataKeyAsync("u-10", g.Wrapped, default));
        Assert.Equal("u-10", ex.UserId);
    }

    [Fact]
    public async Task Service_errors_become_typed_errors()
    {
        using var kms = new FakeKms { Fail = new KMSInternalException("boom") };
        var provider = new KmsMasterKeyProvider(kms, "k");
        var ex = await Assert.ThrowsAsync<MasterKeyException>(() => provider.GenerateDataKeyAsync("u", default));
        Assert.Equal("GenerateDataKey", ex.Operation);
        Assert.IsType<KMSInternalException>(ex.InnerException);
    }

    // Overrides the SDK client's virtual operations: the provider sees the real request/response types.
    private sealed class FakeKms() : AmazonKeyManagementServiceClient(new BasicAWSCredentials("test", "test"),
        new AmazonKeyManagementServiceConfig { ServiceURL = "http://127.0.0.1:9", AuthenticationRegion = "us-east-1" })
    {
        private readonly LocalMasterKeyProvider _inner = TestKeys.LocalMaster();

        public GenerateDataKeyRequest? LastGenerate { get; private set; }

        public DecryptRequest? LastDecrypt { get; private set; }

        public Exception? Fail { get; init; }

        public override async Task<GenerateDataKeyResponse> GenerateDataKeyAsync(GenerateDataKeyRequest request, CancellationToken cancellationToken = default)
        {
            LastGenerate = request;
            if (Fail is not null)
            {
                throw Fail;
            }

            var g = await _inner.GenerateDataKeyAsync(request.EncryptionContext["userId"], cancellationToken);
            return new GenerateDataKeyResponse { Plaintext = new MemoryStream(g.Plaintext), CiphertextBlob = new MemoryStream(g.Wrapped), KeyId = request.KeyId };
        }

        public override async Task<DecryptResponse> DecryptAsync(DecryptRequest request, CancellationToken cancellationToken = default)
        {
            LastDecrypt = request;
            try
            {
                var key = await _inner.DecryptDataKeyAsync(request.EncryptionContext["userId"], request.CiphertextBlob.ToArray(), cancellationToken);
                return new DecryptResponse { Plaintext = new MemoryStream(key) };
            }
            catch (MasterKeyException)
            {
                throw new InvalidCiphertextException("context mismatch");
            }
        }

        protected override void Dispose(bool disposing)
        {
            _inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
