using System.Security.Cryptography;

namespace Cloud.Privacy.Tests;

public class PrivacyOptionsTests
{
    private static Func<string, string?> Env(Dictionary<string, string> values) => name => values.GetValueOrDefault(name);

    [Fact]
    public void Reads_every_variable()
    {
        var o = PrivacyOptions.FromEnvironment(Env(new()
        {
            ["CLOUD_PRIVACY_KEY_TABLE"] = "keys",
            ["CLOUD_PRIVACY_MASTER_KEY"] = "kms:alias/cloud-privacy",
            ["CLOUD_PRIVACY_KEY_CACHE_TTL_SECONDS"] = "30",
            ["CLOUD_PRIVACY_KEY_CACHE_MAX_ENTRIES"] = "500",
            ["CLOUD_PRIVACY_USER_ID_FIELD"] = "user.id",
            ["CLOUD_PRIVACY_FIELDS"] = "email, user.name ,ip",
            ["CLOUD_PRIVACY_FORGOTTEN_POLICY"] = "drop",
        }));
        Assert.Equal("keys", o.KeyTableName);
        Assert.Equal(MasterKeySource.Kms, o.MasterKeySource);
        Assert.Equal("alias/cloud-privacy", o.KmsKeyId);
        Assert.Equal(TimeSpan.FromSeconds(30), o.KeyCacheTtl);
        Assert.Equal(500, o.KeyCacheMaxEntries);
        Assert.Equal("user.id", o.PersonalData.UserIdField);
        Assert.Equal(["email", "user.name", "ip"], o.PersonalData.Fields);
        Assert.Equal(ForgottenUserPolicy.Drop, o.PersonalData.ForgottenUserPolicy);
    }

    [Fact]
    public void Defaults_apply_when_nothing_is_set()
    {
        var o = PrivacyOptions.FromEnvironment(_ => null);
        Assert.Equal("cloud-privacy-keys", o.KeyTableName);
        Assert.Equal(MasterKeySource.LocalFile, o.MasterKeySource);
        Assert.Equal(".local/privacy/master.key", o.LocalKeyFile);
        Assert.Equal(TimeSpan.FromMinutes(5), o.KeyCacheTtl);
        Assert.Equal(["email", "name", "ip", "address"], o.PersonalData.Fields);
    }

    [Theory]
    [InlineData("CLOUD_PRIVACY_MASTER_KEY", "vault:x", "kms:<key>")]
    [InlineData("CLOUD_PRIVACY_KEY_CACHE_TTL_SECONDS", "soon", "positive number")]
    [InlineData("CLOUD_PRIVACY_KEY_CACHE_TTL_SECONDS", "7200", "KeyCacheTtl")]
    [InlineData("CLOUD_PRIVACY_FORGOTTEN_POLICY", "Ignore", "Reject or Drop")]
    [InlineData("CLOUD_PRIVACY_MASTER_KEY", "kms:", "KmsKeyId is required")]
    public void Invalid_values_are_named(string variable, string value, string expected)
    {
        var ex = Assert.Throws<ArgumentException>(() => PrivacyOptions.FromEnvironment(Env(new() { [variable] = value })));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runtime_wires_a_working_stack_from_an_environment_key()
    {
        var variable = "CLOUD_PRIVACY_TEST_RT_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        try
        {
            var options = new PrivacyOptions { MasterKeySource = MasterKeySource.LocalEnvironment, LocalKeyEnvironmentVariable = variable };
            var store = new InMemoryKeyStore();
            using var rt = PrivacyRuntime.Create(options, store, PrivacyRuntime.CreateMasterKeyProvider(options, null));
            var json = "{\"userId\":\"u\",\"email\":\"e@x\"}"u8.ToArray();
            var enc = await rt.Protector.EncryptAsync(json, "s");
            Assert.Equal(json, (await rt.Protector.DecryptAsync(enc.Json, "s")).Json.ToArray());
            Assert.Equal(ForgetOutcome.KeyDestroyed, (await rt.Shredder.ForgetAsync("u")).Outcome);
            Assert.True(await rt.Shredder.IsForgottenAsync("u"));
            Assert.Throws<ArgumentException>(() => PrivacyRuntime.CreateMasterKeyProvider(new PrivacyOptions { MasterKeySource = MasterKeySource.Kms, KmsKeyId = "k" }, null));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
