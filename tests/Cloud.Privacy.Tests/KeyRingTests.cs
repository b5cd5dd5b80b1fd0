using Microsoft.Extensions.Time.Testing;

namespace Cloud.Privacy.Tests;

public class KeyRingTests
{
    [Fact]
    public async Task First_use_creates_one_wrapped_key_then_serves_it_from_cache()
    {
        var (ring, store, _) = TestKeys.Ring();
        var k1 = await ring.GetOrCreateKeyAsync("u-1", default);
        var k2 = await ring.GetOrCreateKeyAsync("u-1", default);
        Assert.Same(k1, k2);
        Assert.Equal(1, k1.Version);
        var record = await store.GetAsync("u-1", default);
        Assert.Equal(KeyStatus.Active, record!.Status);
        Assert.Equal(1 + 12 + 32 + 16, record.WrappedKey.Length);
        Assert.StartsWith("local:", record.MasterKeyId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_processes_creating_concurrently_converge_on_one_key()
    {
        var store = new InMemoryKeyStore();
        var master = TestKeys.LocalMaster();
        var rings = Enumerable.Range(0, 8).Select(_ => TestKeys.Ring(store: store, master: master).Ring).ToArray();
        var keys = await Task.WhenAll(rings.Select(r => Task.Run(async () => await r.GetOrCreateKeyAsync("u-1", default))));
        var b = new FieldBinding("u-1", "email", "s");
        var text = FieldCiphertext.Encrypt(keys[0], b, "1"u8);
        foreach (var k in keys)
        {
            Assert.Equal("1"u8.ToArray(), FieldCiphertext.Decrypt(k, b, text));
        }
    }

    [Fact]
    public async Task Forget_invalidates_local_cache_at_once_and_other_processes_within_the_ttl()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var store = new InMemoryKeyStore();
        var master = TestKeys.LocalMaster();
        var ttl = TimeSpan.FromSeconds(30);
        var a = TestKeys.Ring(ttl, store, master, time).Ring;
        var b = TestKeys.Ring(ttl, store, master, time).Ring;
        await a.GetOrCreateKeyAsync("u-1", default);
        Assert.Equal(KeyStatus.Active, (await b.FindKeyAsync("u-1", default)).Status);

        time.Advance(TimeSpan.FromSeconds(10));
        var result = await new CryptoShredder(a).ForgetAsync("u-1");
        Assert.Equal(ForgetOutcome.KeyDestroyed, result.Outcome);
        Assert.Equal(ttl, result.EraseLatency);

        // The forgetting process: immediately.
        Assert.True((await a.FindKeyAsync("u-1", default)).IsForgotten);
        await Assert.ThrowsAsync<UserForgottenException>(() => a.GetOrCreateKeyAsync("u-1", default).AsTask());

        // Another process: still holds its cached key until its entry (cached at t=0) expires at t=30 s.
        time.Advance(TimeSpan.FromSeconds(19.999));
        Assert.NotNull((await b.FindKeyAsync("u-1", default)).Key);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True((await b.FindKeyAsync("u-1", default)).IsForgotten);
        await Assert.ThrowsAsync<UserForgottenException>(() => b.GetOrCreateKeyAsync("u-1", default).AsTask());
    }

    [Fact]
    public async Task Forget_is_idempotent_and_a_never_seen_user_gets_a_tombstone()
    {
        var (ring, store, _) = TestKeys.Ring();
        var first = await ring.ForgetAsync("ghost", default);
        Assert.Equal(ForgetOutcome.TombstoneCreated, first.Outcome);
        var again = await ring.ForgetAsync("ghost", default);
        Assert.Equal(ForgetOutcome.AlreadyForgotten, again.Outcome);
        Assert.Equal(first.ForgottenAt, again.ForgottenAt);
        await Assert.ThrowsAsync<UserForgottenException>(() => ring.GetOrCreateKeyAsync("ghost", default).AsTask());
        Assert.Equal(KeyStatus.Forgotten, (await store.GetAsync("ghost", default))!.Status);
    }

    [Fact]
    public async Task Concurrent_create_and_forget_never_resurrect_a_key()
    {
        for (int round = 0; round < 200; round++)
        {
            var store = new InMemoryKeyStore();
            var master = TestKeys.LocalMaster();
            var user = $"u-{round}";
            await TestKeys.RaceCreatorsAgainstForgetAsync(store, master, user);

            var record = await store.GetAsync(user, default);
            Assert.Equal(KeyStatus.Forgotten, record!.Status);
            Assert.True(record.WrappedKey.IsEmpty);
            var fresh = TestKeys.Ring(store: store, master: master).Ring;
            await Assert.ThrowsAsync<UserForgottenException>(() => fresh.GetOrCreateKeyAsync(user, default).AsTask());
        }
    }

    [Fact]
    public async Task Wrapped_key_of_another_user_does_not_unwrap()
    {
        using var master = TestKeys.LocalMaster();
        var (ring, store, _) = TestKeys.Ring(master: master);
        await ring.GetOrCreateKeyAsync("u-1", default);
        var stolen = (await store.GetAsync("u-1", default))!;
        var victimStore = new InMemoryKeyStore();
        await victimStore.TryCreateAsync(stolen with { UserId = "u-2" }, default);
        var ring2 = new UserKeyRing(victimStore, master, new DataKeyCache(TimeProvider.System, TimeSpan.FromMinutes(1), 10));
        var ex = await Assert.ThrowsAsync<MasterKeyException>(() => ring2.GetOrCreateKeyAsync("u-2", default).AsTask());
        Assert.Equal("u-2", ex.UserId);
    }
}

public class DataKeyCacheTests
{
    [Fact]
    public void Entries_expire_exactly_at_the_ttl()
    {
        var time = new FakeTimeProvider();
        var cache = new DataKeyCache(time, TimeSpan.FromSeconds(10), 100);
        cache.SetKey(TestKeys.Random("u"));
        time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        Assert.True(cache.TryGet("u", out var s));
        Assert.NotNull(s.Key);
        time.Advance(TimeSpan.FromTicks(1));
        Assert.False(cache.TryGet("u", out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Size_is_bounded_and_expired_or_oldest_entries_go_first()
    {
        var time = new FakeTimeProvider();
        var cache = new DataKeyCache(time, TimeSpan.FromMinutes(1), 100);
        for (int i = 0; i < 1000; i++)
        {
            cache.SetKey(TestKeys.Random($"u-{i}"));
            time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.True(cache.Count <= 100);
        }

        Assert.True(cache.TryGet("u-999", out _));
        Assert.False(cache.TryGet("u-0", out _));
    }

    [Fact]
    public void Forgotten_marker_replaces_a_key_and_invalidate_drops_it()
    {
        var cache = new DataKeyCache(new FakeTimeProvider(), TimeSpan.FromMinutes(1), 10);
        cache.SetKey(TestKeys.Random("u"));
        cache.SetForgotten("u", DateTimeOffset.UnixEpoch);
        Assert.True(cache.TryGet("u", out var s));
        Assert.True(s.Forgotten);
        Assert.Null(s.Key);
        cache.Invalidate("u");
        Assert.False(cache.TryGet("u", out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(3601)]
    public void Ttl_must_be_bounded(int seconds) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataKeyCache(TimeProvider.System, TimeSpan.FromSeconds(seconds), 10));
}
