using System.Collections.Concurrent;

namespace Cloud.Privacy;

/// <summary>A cached key-store answer: either an unwrapped key or the fact that the user is forgotten.</summary>
/// <param name="Key">The unwrapped key, or null when <paramref name="Forgotten"/>.</param>
/// <param name="Forgotten">True when the user is known to be forgotten.</param>
/// <param name="ForgottenAt">When they were forgotten, if known.</param>
public readonly record struct CachedKeyState(UserDataKey? Key, bool Forgotten, DateTimeOffset? ForgottenAt);

/// <summary>
/// Bounded cache of unwrapped data keys and forgotten-user markers. Every entry lives at most <see cref="Ttl"/>
/// (measured on the injected <see cref="TimeProvider"/>) — that TTL bounds how long another process can keep using a
/// key after it was forgotten elsewhere, i.e. the documented erase latency. At most <see cref="MaxEntries"/> entries;
/// on overflow expired entries go first, then those closest to expiry.
/// </summary>
/// <remarks>
/// Forget wins in every interleaving: a lookup takes a token (<see cref="BeginLookup"/>) before it reads the key store
/// and caches its key only through <see cref="TrySetKey"/>, which refuses — and undoes its own write — when any
/// <see cref="SetForgotten"/> ran since the token was taken. <see cref="SetForgotten"/> bumps the forget epoch before it
/// writes its marker, and the forgetting side calls it only after the tombstone is durable, so a lookup either read the
/// tombstone, or its key is refused, or its key is overwritten by the marker. A key never replaces an unexpired marker.
/// </remarks>
public sealed class DataKeyCache
{
    /// <summary>Largest allowed TTL: an erase latency beyond this is not "without undue delay".</summary>
    public static readonly TimeSpan MaxTtl = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly Lock _evictLock = new();
    private long _forgetEpoch;

    /// <summary>Creates the cache.</summary>
    /// <exception cref="ArgumentOutOfRangeException">TTL not in (0, 1 h], or <paramref name="maxEntries"/> &lt; 1.</exception>
    public DataKeyCache(TimeProvider timeProvider, TimeSpan ttl, int maxEntries)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (ttl <= TimeSpan.Zero || ttl > MaxTtl)
        {
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl, $"The key cache TTL must be > 0 and <= {MaxTtl}.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxEntries, 1);
        _time = timeProvider;
        Ttl = ttl;
        MaxEntries = maxEntries;
    }

    /// <summary>How long an entry is served; the erase latency for other processes.</summary>
    public TimeSpan Ttl { get; }

    /// <summary>Size bound.</summary>
    public int MaxEntries { get; }

    /// <summary>Current number of entries (including expired ones not yet removed).</summary>
    public int Count => _entries.Count;

    /// <summary>Returns the unexpired entry for the user, if any.</summary>
    public bool TryGet(string userId, out CachedKeyState state)
    {
        if (_entries.TryGetValue(userId, out var entry))
        {
            if (_time.GetUtcNow() < entry.ExpiresAt)
            {
                state = entry.State;
                PrivacyTelemetry.KeyCacheHits.Add(1);
                return true;
            }

            _entries.TryRemove(new KeyValuePair<string, Entry>(userId, entry));
        }

        state = default;
        PrivacyTelemetry.KeyCacheMisses.Add(1);
        return false;
    }

    /// <summary>Takes the token a key-store lookup passes to <see cref="TrySetKey"/>; call it before reading the store.</summary>
    public long BeginLookup() => Volatile.Read(ref _forgetEpoch);

    /// <summary>
    /// Caches an unwrapped key for <see cref="Ttl"/> unless a user was forgotten since <paramref name="lookupToken"/> was
    /// taken (the key may have been read before a tombstone) or the user's entry is an unexpired forgotten marker.
    /// </summary>
    /// <returns>True when the key is cached.</returns>
    public bool TrySetKey(UserDataKey key, long lookupToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (Volatile.Read(ref _forgetEpoch) != lookupToken)
        {
            return false;
        }

        var written = SetKeyUnlessForgotten(key);
        if (written is null)
        {
            return false;
        }

        if (Volatile.Read(ref _forgetEpoch) != lookupToken)
        {
            // A forget ran while we wrote: undo our write only (its marker, if already there, stays).
            _entries.TryRemove(new KeyValuePair<string, Entry>(key.UserId, written));
            return false;
        }

        return true;
    }

    /// <summary>Caches an unwrapped key for <see cref="Ttl"/>, unless the user's entry is an unexpired forgotten marker.</summary>
    /// <remarks>Prefer <see cref="TrySetKey"/> for keys read from a store: only it is safe against a concurrent forget.</remarks>
    public void SetKey(UserDataKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        SetKeyUnlessForgotten(key);
    }

    /// <summary>
    /// Caches the fact that the user is forgotten (replacing any key entry at once) and refuses every key from a lookup
    /// that began before this call. Call it only after the tombstone is durable.
    /// </summary>
    public void SetForgotten(string userId, DateTimeOffset? forgottenAt)
    {
        Interlocked.Increment(ref _forgetEpoch);
        Set(userId, new CachedKeyState(null, true, forgottenAt));
    }

    /// <summary>Drops the user's entry at once.</summary>
    public void Invalidate(string userId) => _entries.TryRemove(userId, out _);

    /// <summary>Drops every entry.</summary>
    public void Clear() => _entries.Clear();

    private void Set(string userId, CachedKeyState state)
    {
        var now = _time.GetUtcNow();
        EnsureRoom(userId, now);
        _entries[userId] = new Entry(state, now + Ttl);
    }

    private Entry? SetKeyUnlessForgotten(UserDataKey key)
    {
        var now = _time.GetUtcNow();
        EnsureRoom(key.UserId, now);
        var entry = new Entry(new CachedKeyState(key, false, null), now + Ttl);
        var stored = _entries.AddOrUpdate(key.UserId, entry, (_, old) => old.State.Forgotten && now < old.ExpiresAt ? old : entry);
        return ReferenceEquals(stored, entry) ? entry : null;
    }

    private void EnsureRoom(string userId, DateTimeOffset now)
    {
        if (_entries.Count >= MaxEntries && !_entries.ContainsKey(userId))
        {
            Evict(now);
        }
    }

    private void Evict(DateTimeOffset now)
    {
        lock (_evictLock)
        {
            if (_entries.Count < MaxEntries)
            {
                return;
            }

            foreach (var pair in _entries)
            {
                if (now >= pair.Value.ExpiresAt)
                {
                    _entries.TryRemove(pair);
                }
            }

            int target = Math.Max(0, MaxEntries - Math.Max(1, MaxEntries / 10));
            if (_entries.Count <= target)
            {
                return;
            }

            foreach (var pair in _entries.ToArray().OrderBy(p => p.Value.ExpiresAt).Take(_entries.Count - target))
            {
                _entries.TryRemove(pair);
            }
        }
    }

    private sealed record Entry(CachedKeyState State, DateTimeOffset ExpiresAt);
}
