using System.Collections.Concurrent;

namespace Cloud.Schemas;

/// <summary>Settings of <see cref="CachingSchemaRegistry"/>.</summary>
public sealed record SchemaCacheOptions
{
    /// <summary>Most entries kept per lookup kind; past it the least recently used entry goes.</summary>
    /// <value>The default value is 1,000.</value>
    public int Capacity { get; init; } = 1000;

    /// <summary>How long a version looked up by id or by number is kept (versions are immutable).</summary>
    /// <value>The default value is 1 hour.</value>
    public TimeSpan VersionTtl { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How long "the latest version of a schema" is kept, so a new version is picked up.</summary>
    /// <value>The default value is 5 minutes.</value>
    public TimeSpan LatestTtl { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The clock for expiry.</summary>
    /// <value>The default value is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    internal void Validate()
    {
        var problems = new List<string>();
        if (Capacity is < 1 or > 1_000_000)
        {
            problems.Add($"Capacity must be 1-1,000,000 (was {Capacity}).");
        }

        if (VersionTtl <= TimeSpan.Zero || LatestTtl <= TimeSpan.Zero)
        {
            problems.Add("VersionTtl and LatestTtl must be positive.");
        }

        if (TimeProvider is null)
        {
            problems.Add("TimeProvider must not be null.");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid SchemaCacheOptions: " + string.Join(" ", problems));
        }
    }
}

/// <summary>
/// An <see cref="ISchemaRegistry"/> decorator that caches version lookups (bounded, with a TTL), so producers and
/// consumers call the registry once per schema version, not per record. Concurrent lookups of one key share one call;
/// failed lookups are not cached. Writes go straight through and drop the affected "latest" entry. Thread-safe.
/// </summary>
public sealed class CachingSchemaRegistry : ISchemaRegistry
{
    private readonly ISchemaRegistry _inner;
    private readonly SchemaCacheOptions _options;
    private readonly TtlCache<Guid, SchemaVersion> _byId;
    private readonly TtlCache<(string Name, int Number), SchemaVersion> _byNumber;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public CachingSchemaRegistry(ISchemaRegistry inner, SchemaCacheOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _options = options ?? new SchemaCacheOptions();
        _options.Validate();
        _inner = inner;
        _byId = new TtlCache<Guid, SchemaVersion>(_options.Capacity, _options.TimeProvider);
        _byNumber = new TtlCache<(string, int), SchemaVersion>(_options.Capacity, _options.TimeProvider);
    }

    /// <summary>Calls that reached the wrapped registry for version lookups (for tests and metrics).</summary>
    public long Misses => _byId.Misses + _byNumber.Misses;

    /// <inheritdoc />
    public Task<SchemaVersion> GetVersionAsync(Guid versionId, CancellationToken cancellationToken = default) =>
        _byId.GetOrAddAsync(versionId, _options.VersionTtl, ct => _inner.GetVersionAsync(versionId, ct), cancellationToken);

    /// <inheritdoc />
    public async Task<SchemaVersion> GetVersionAsync(string schemaName, int? versionNumber = null, CancellationToken cancellationToken = default)
    {
        int key = versionNumber ?? 0; // 0: the latest
        SchemaVersion version = await _byNumber.GetOrAddAsync((schemaName, key), key == 0 ? _options.LatestTtl : _options.VersionTtl,
            ct => _inner.GetVersionAsync(schemaName, versionNumber, ct), cancellationToken).ConfigureAwait(false);
        _byId.Set(version.VersionId, version, _options.VersionTtl);
        return version;
    }

    /// <inheritdoc />
    public async Task<RegistrationResult> RegisterAsync(string schemaName, SchemaFormat format, string definition, CompatibilityMode? compatibility = null, CancellationToken cancellationToken = default)
    {
        RegistrationResult result = await _inner.RegisterAsync(schemaName, format, definition, compatibility, cancellationToken).ConfigureAwait(false);
        _byNumber.Remove((schemaName, 0));
        return result;
    }

    /// <inheritdoc />
    public Task<CompatibilityResult> CheckAsync(string schemaName, string definition, CancellationToken cancellationToken = default) =>
        _inner.CheckAsync(schemaName, definition, cancellationToken);

    /// <inheritdoc />
    public Task<SchemaInfo> DescribeAsync(string schemaName, CancellationToken cancellationToken = default) => _inner.DescribeAsync(schemaName, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<SchemaInfo>> ListSchemasAsync(CancellationToken cancellationToken = default) => _inner.ListSchemasAsync(cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<SchemaVersion>> ListVersionsAsync(string schemaName, CancellationToken cancellationToken = default) =>
        _inner.ListVersionsAsync(schemaName, cancellationToken);

    /// <inheritdoc />
    public Task UpdateCompatibilityAsync(string schemaName, CompatibilityMode compatibility, CancellationToken cancellationToken = default) =>
        _inner.UpdateCompatibilityAsync(schemaName, compatibility, cancellationToken);
}

/// <summary>A bounded map of lazily computed values with a per-entry expiry; concurrent misses of a key share one computation.</summary>
internal sealed class TtlCache<TKey, TValue>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Entry> _entries = new();
    private readonly int _capacity;
    private readonly TimeProvider _time;
    private long _clock;
    private long _misses;

    public TtlCache(int capacity, TimeProvider time)
    {
        _capacity = capacity;
        _time = time;
    }

    public long Misses => Interlocked.Read(ref _misses);

    public int Count => _entries.Count;

    public async Task<TValue> GetOrAddAsync(TKey key, TimeSpan ttl, Func<CancellationToken, Task<TValue>> load, CancellationToken cancellationToken)
    {
        DateTimeOffset now = _time.GetUtcNow();
        if (_entries.TryGetValue(key, out Entry? entry) && entry.Expires > now)
        {
            entry.LastUse = Interlocked.Increment(ref _clock);
            return await entry.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        var fresh = new Entry(load, now + ttl) { LastUse = Interlocked.Increment(ref _clock) };
        Entry winner = entry is null
            ? _entries.GetOrAdd(key, fresh)
            : _entries.TryUpdate(key, fresh, entry) ? fresh : _entries.GetOrAdd(key, fresh);
        if (ReferenceEquals(winner, fresh))
        {
            Interlocked.Increment(ref _misses);
            fresh.Start();
            Trim(now);
        }

        try
        {
            return await winner.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (winner.Value.IsFaulted || winner.Value.IsCanceled)
        {
            _entries.TryRemove(new KeyValuePair<TKey, Entry>(key, winner)); // never cache a failure
            throw;
        }
    }

    public void Set(TKey key, TValue value, TimeSpan ttl)
    {
        DateTimeOffset now = _time.GetUtcNow();
        var entry = new Entry(_ => Task.FromResult(value), now + ttl) { LastUse = Interlocked.Increment(ref _clock) };
        entry.Start();
        _entries[key] = entry;
        Trim(now);
    }

    public void Remove(TKey key) => _entries.TryRemove(key, out _);

    private void Trim(DateTimeOffset now)
    {
        if (_entries.Count <= _capacity)
        {
            return;
        }

        foreach (KeyValuePair<TKey, Entry> pair in _entries)
        {
            if (pair.Value.Expires <= now)
            {
                _entries.TryRemove(pair);
            }
        }

        while (_entries.Count > _capacity)
        {
            KeyValuePair<TKey, Entry> oldest = _entries.MinBy(p => p.Value.LastUse);
            _entries.TryRemove(oldest);
        }
    }

    private sealed class Entry(Func<CancellationToken, Task<TValue>> load, DateTimeOffset expires)
    {
        private readonly TaskCompletionSource<TValue> _value = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _started;

        public Task<TValue> Value => _value.Task;

        public DateTimeOffset Expires { get; } = expires;

        public long LastUse { get; set; }

        public void Start()
        {
            if (Interlocked.Exchange(ref _started, 1) == 0)
            {
                _ = RunAsync();
            }
        }

        private async Task RunAsync()
        {
            try
            {
                // The shared load is not bound to the first caller's token: another caller may still want it.
                _value.TrySetResult(await load(CancellationToken.None).ConfigureAwait(false));
            }
            catch (Exception ex)
            {
                _value.TrySetException(ex);
            }
        }
    }
}
