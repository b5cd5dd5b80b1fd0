namespace Cloud.Privacy.Tests;

/// <summary>
/// Issue 11, gap 3: a lookup that read the key record before the tombstone must never leave the key in the cache of
/// the process that forgot the user. Each test pins one interleaving with gates, so it is deterministic.
/// </summary>
public class CacheRaceTests
{
    [Fact]
    public async Task Lookup_that_read_the_key_before_the_tombstone_cannot_cache_it_after_forget()
    {
        var inner = new InMemoryKeyStore();
        var master = TestKeys.LocalMaster();
        await TestKeys.Ring(store: inner, master: master).Ring.GetOrCreateKeyAsync("u-1", default);

        var gated = new GatedKeyStore(inner);
        var ring = TestKeys.Ring(store: gated, master: master).Ring;

        gated.GateNextGet();
        var lookup = ring.FindKeyAsync("u-1", default).AsTask();
        await gated.GetHasRead; // the lookup holds the Active record, read before the tombstone

        await ring.ForgetAsync("u-1", default);
        gated.Release(); // the lookup now unwraps and stores the key it read
        var late = await lookup;
        Assert.Equal(KeyStatus.Active, late.Status); // it began before the forget: linearizable to answer Active once

        Assert.True((await ring.FindKeyAsync("u-1", default)).IsForgotten);
        await Assert.ThrowsAsync<UserForgottenException>(() => ring.GetOrCreateKeyAsync("u-1", default).AsTask());
        Assert.True(ring.Cache.TryGet("u-1", out var state) && state.Forgotten);
    }

    [Fact]
    public async Task Creator_whose_key_was_stored_before_the_tombstone_cannot_cache_it_after_forget()
    {
        var inner = new InMemoryKeyStore();
        var gated = new GatedKeyStore(inner);
        var ring = TestKeys.Ring(store: gated).Ring;

        gated.GateNextCreate();
        var create = ring.GetOrCreateKeyAsync("u-2", default).AsTask();
        await gated.CreateHasWritten; // the key is stored; the creator has not cached it yet

        await ring.ForgetAsync("u-2", default);
        gated.Release();
        await create;

        Assert.True((await ring.FindKeyAsync("u-2", default)).IsForgotten);
        await Assert.ThrowsAsync<UserForgottenException>(() => ring.GetOrCreateKeyAsync("u-2", default).AsTask());
    }

    [Fact]
    public async Task Lookup_racing_forget_between_tombstone_and_marker_cannot_cache_the_key()
    {
        // Interleaving: lookup reads Active; forget writes the tombstone; lookup caches; forget sets the marker.
        // The marker must win. Then the reverse: forget fully done, then the lookup caches.
        var inner = new InMemoryKeyStore();
        var master = TestKeys.LocalMaster();
        await TestKeys.Ring(store: inner, master: master).Ring.GetOrCreateKeyAsync("u-3", default);
        var gated = new GatedKeyStore(inner);
        var ring = TestKeys.Ring(store: gated, master: master).Ring;

        gated.GateNextGet();
        var lookup = ring.FindKeyAsync("u-3", default).AsTask();
        await gated.GetHasRead;
        gated.GateNextForget();
        var forget = ring.ForgetAsync("u-3", default);
        await gated.ForgetHasWritten; // tombstone durable; marker not yet set
        gated.Release();
        await lookup; // caches now, between the tombstone and the marker
        gated.ReleaseForget();
        await forget;

        Assert.True((await ring.FindKeyAsync("u-3", default)).IsForgotten);
    }

    [Fact]
    public void Cache_refuses_a_key_from_a_lookup_that_began_before_a_forget()
    {
        var cache = new DataKeyCache(TimeProvider.System, TimeSpan.FromMinutes(1), 10);
        var token = cache.BeginLookup();
        cache.SetForgotten("u", DateTimeOffset.UnixEpoch);
        cache.Invalidate("u"); // even with the marker gone (evicted), the stale lookup must not cache
        Assert.False(cache.TrySetKey(TestKeys.Random("u"), token));
        Assert.False(cache.TryGet("u", out _));

        var fresh = cache.BeginLookup();
        Assert.True(cache.TrySetKey(TestKeys.Random("u"), fresh));
    }

    /// <summary>Delegates to a store, but can hold one Get (after reading), one create or one forget (after writing).</summary>
    private sealed class GatedKeyStore(IKeyStore inner) : IKeyStore
    {
        private readonly TaskCompletionSource _getGate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _createGate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _forgetGate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _getArmed;
        private int _createArmed;
        private int _forgetArmed;
        private readonly TaskCompletionSource _getRead = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _createWritten = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _forgetWritten = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task GetHasRead => _getRead.Task;

        public Task CreateHasWritten => _createWritten.Task;

        public Task ForgetHasWritten => _forgetWritten.Task;

        public void GateNextGet() => Volatile.Write(ref _getArmed, 1);

        public void GateNextCreate() => Volatile.Write(ref _createArmed, 1);

        public void GateNextForget() => Volatile.Write(ref _forgetArmed, 1);

        public void Release()
        {
            _getGate.TrySetResult();
            _createGate.TrySetResult();
        }

        public void ReleaseForget() => _forgetGate.TrySetResult();

        public async Task<KeyRecord?> GetAsync(string userId, CancellationToken cancellationToken)
        {
            var record = await inner.GetAsync(userId, cancellationToken);
            if (Interlocked.Exchange(ref _getArmed, 0) == 1)
            {
                _getRead.TrySetResult();
                await _getGate.Task;
            }

            return record;
        }

        public async Task<KeyRecord> TryCreateAsync(KeyRecord record, CancellationToken cancellationToken)
        {
            var stored = await inner.TryCreateAsync(record, cancellationToken);
            if (Interlocked.Exchange(ref _createArmed, 0) == 1)
            {
                _createWritten.TrySetResult();
                await _createGate.Task;
            }

            return stored;
        }

        public async Task<(ForgetOutcome Outcome, DateTimeOffset ForgottenAt)> ForgetAsync(string userId, DateTimeOffset at, CancellationToken cancellationToken)
        {
            var result = await inner.ForgetAsync(userId, at, cancellationToken);
            if (Interlocked.Exchange(ref _forgetArmed, 0) == 1)
            {
                _forgetWritten.TrySetResult();
                await _forgetGate.Task;
            }

            return result;
        }
    }
}
