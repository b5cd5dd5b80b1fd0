using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace Cloud.Privacy.Tests;

/// <summary>Issue 11, gap 4: branch keys wrap user keys; master-key calls scale with branch keys per TTL, not users.</summary>
public class HierarchicalKeyTests
{
    private const string Json = """{"userId":"u-1","email":"ada@example.com"}""";

    internal static PrivacyRuntime Runtime(KeyWrapping wrapping, IKeyStore store, IMasterKeyProvider root, IBranchKeyStore branches, FakeTimeProvider time, int maxEntries = 1000) =>
        PrivacyRuntime.Create(new PrivacyOptions { KeyWrapping = wrapping, KeyCacheMaxEntries = maxEntries, KeyCacheTtl = TimeSpan.FromMinutes(5) },
            store, root, time, branchKeys: branches);

    [Fact]
    public async Task Master_key_calls_for_100000_users_direct_versus_hierarchical()
    {
        const int users = 100_000;
        var counts = new Dictionary<KeyWrapping, (long ProducerCalls, long ConsumerCalls)>();
        foreach (var mode in new[] { KeyWrapping.Direct, KeyWrapping.Hierarchical })
        {
            var store = new InMemoryKeyStore();
            var branches = new InMemoryBranchKeyStore();
            using var local = new LocalMasterKeyProvider(RandomNumberGenerator.GetBytes(32));
            var producerRoot = new CountingMasterKeyProvider(local);
            var consumerRoot = new CountingMasterKeyProvider(local);
            var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
            var producer = Runtime(mode, store, producerRoot, branches, time, users);
            var consumer = Runtime(mode, store, consumerRoot, branches, time, users);
            for (int u = 0; u < users; u++)
            {
                await producer.KeyRing.GetOrCreateKeyAsync("user-" + u, default); // a new user: a key is created
                Assert.NotNull((await consumer.KeyRing.FindKeyAsync("user-" + u, default)).Key); // another process: cold cache
            }

            counts[mode] = (producerRoot.Calls, consumerRoot.Calls);
        }

        Assert.Equal((users, users), counts[KeyWrapping.Direct]);
        // Hierarchical: the producer generates branch version 1 once; the consumer unwraps it once.
        Assert.Equal((1, 1), counts[KeyWrapping.Hierarchical]);
    }

    [Fact]
    public async Task Branch_keys_are_unwrapped_again_only_after_the_cache_ttl()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var local = new LocalMasterKeyProvider(RandomNumberGenerator.GetBytes(32));
        var root = new CountingMasterKeyProvider(local);
        var branches = new InMemoryBranchKeyStore();
        var store = new InMemoryKeyStore();
        await Runtime(KeyWrapping.Hierarchical, store, new CountingMasterKeyProvider(local), branches, time).KeyRing.GetOrCreateKeyAsync("u-0", default);
        var provider = new HierarchicalMasterKeyProvider(branches, root, "default", TimeSpan.FromMinutes(1), time);
        var wrapped = (await store.GetAsync("u-0", default))!.WrappedKey;

        for (int i = 0; i < 100; i++)
        {
            await provider.DecryptDataKeyAsync("u-0", wrapped, default);
        }

        Assert.Equal(1, root.Calls);
        time.Advance(TimeSpan.FromMinutes(1));
        await provider.DecryptDataKeyAsync("u-0", wrapped, default);
        Assert.Equal(2, root.Calls);
    }

    [Fact]
    public async Task Rotation_wraps_new_users_with_a_new_version_and_old_data_stays_readable_without_re_encryption()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var local = new LocalMasterKeyProvider(RandomNumberGenerator.GetBytes(32));
        var store = new InMemoryKeyStore();
        var branches = new InMemoryBranchKeyStore();
        using var writer = Runtime(KeyWrapping.Hierarchical, store, local, branches, time);
        var before = await writer.Protector.EncryptAsync(Encoding.UTF8.GetBytes(Json), "s");
        var oldWrapped = (await store.GetAsync("u-1", default))!.WrappedKey.ToArray();

        var rotation = await writer.BranchKeys!.RotateAsync();
        Assert.Equal(new BranchKeyRotation("default", 1, 2), rotation);
        var after = await writer.Protector.EncryptAsync(Encoding.UTF8.GetBytes(Json.Replace("u-1", "u-2", StringComparison.Ordinal)), "s");

        Assert.Equal(oldWrapped, (await store.GetAsync("u-1", default))!.WrappedKey.ToArray()); // untouched
        Assert.Equal(1u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(oldWrapped.AsSpan(1)));
        Assert.Equal(2u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian((await store.GetAsync("u-2", default))!.WrappedKey.Span[1..]));
        Assert.Equal("branch:default", (await store.GetAsync("u-2", default))!.MasterKeyId);

        using var reader = Runtime(KeyWrapping.Hierarchical, store, local, branches, time); // a fresh process
        Assert.Equal(Json, Encoding.UTF8.GetString((await reader.Protector.DecryptAsync(before.Json, "s")).Json.Span));
        Assert.Equal(RevealStatus.Decrypted, (await reader.Protector.DecryptAsync(after.Json, "s")).Status);
    }

    [Fact]
    public async Task Forget_destroys_only_the_users_key_and_the_branch_key_stays()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var local = new LocalMasterKeyProvider(RandomNumberGenerator.GetBytes(32));
        var store = new InMemoryKeyStore();
        var branches = new InMemoryBranchKeyStore();
        using var rt = Runtime(KeyWrapping.Hierarchical, store, local, branches, time);
        var one = await rt.Protector.EncryptAsync(Encoding.UTF8.GetBytes(Json), "s");
        var two = await rt.Protector.EncryptAsync(Encoding.UTF8.GetBytes(Json.Replace("u-1", "u-2", StringComparison.Ordinal)), "s");
        await rt.Shredder.ForgetAsync("u-1");

        using var reader = Runtime(KeyWrapping.Hierarchical, store, local, branches, time);
        Assert.Equal(RevealStatus.Redacted, (await reader.Protector.DecryptAsync(one.Json, "s")).Status);
        Assert.Equal(RevealStatus.Decrypted, (await reader.Protector.DecryptAsync(two.Json, "s")).Status);
        Assert.NotNull(await branches.GetActiveAsync("default", default));
    }

    [Fact]
    public async Task A_wrapped_key_moved_to_another_user_or_a_reserved_user_id_is_refused()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        using var local = new LocalMasterKeyProvider(RandomNumberGenerator.GetBytes(32));
        var store = new InMemoryKeyStore();
        var branches = new InMemoryBranchKeyStore();
        using var rt = Runtime(KeyWrapping.Hierarchical, store, local, branches, time);
        await rt.KeyRing.GetOrCreateKeyAsync("u-1", default);
        var wrapped = (await store.GetAsync("u-1", default))!.WrappedKey;
        await Assert.ThrowsAsync<MasterKeyException>(() => rt.BranchKeys!.DecryptDataKeyAsync("u-2", wrapped, default));
        await Assert.ThrowsAsync<InvalidPersonalDataException>(() => rt.Shredder.ForgetAsync("#branch/default/v1"));
        await Assert.ThrowsAsync<InvalidPersonalDataException>(() => rt.KeyRing.GetOrCreateKeyAsync("#branch/default/active", default).AsTask());
    }

    [Fact]
    public void Options_from_the_environment_select_hierarchical_mode()
    {
        var env = new Dictionary<string, string> { [PrivacyOptions.KeyWrappingVariable] = "hierarchical", [PrivacyOptions.BranchKeyIdVariable] = "tenant-a" };
        var options = PrivacyOptions.FromEnvironment(n => env.GetValueOrDefault(n));
        Assert.Equal((KeyWrapping.Hierarchical, "tenant-a"), (options.KeyWrapping, options.BranchKeyId));
        Assert.Throws<ArgumentException>(() => new PrivacyOptions { KeyWrapping = KeyWrapping.Hierarchical, BranchKeyId = "a/b" }.Validate());
    }
}

/// <summary>Counts every call that reaches the master key (what KMS would bill and throttle).</summary>
internal sealed class CountingMasterKeyProvider(IMasterKeyProvider inner) : IMasterKeyProvider
{
    private long _calls;

    public long Calls => Interlocked.Read(ref _calls);

    public string MasterKeyId => inner.MasterKeyId;

    public Task<GeneratedDataKey> GenerateDataKeyAsync(string userId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        return inner.GenerateDataKeyAsync(userId, cancellationToken);
    }

    public Task<byte[]> DecryptDataKeyAsync(string userId, ReadOnlyMemory<byte> wrappedKey, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        return inner.DecryptDataKeyAsync(userId, wrappedKey, cancellationToken);
    }
}
