using System.Buffers;
using System.Diagnostics.Metrics;
using System.Text;
using System.Threading.Channels;
using Cloud.Kinesis;
using Cloud.Kinesis.Model;
using Cloud.Producer.Internal;
using Cloud.Records;
using UserRecord = Cloud.Producer.Internal.UserRecord;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cloud.Producer;

/// <summary>
/// KPL-style producer for one Kinesis stream: user records are routed to their predicted shard (ListShards hash
/// ranges), packed into KPL aggregates per shard, collected into PutRecords requests (≤500 records, ≤ request size),
/// paced by per-shard AIMD token buckets, and retried with jittered backoff until durable or until their TTL.
/// </summary>
/// <remarks>
/// All batching state is owned by one background loop fed through a channel, so no locks are taken on the hot path.
/// Every accepted record completes exactly once: with a <see cref="SendResult"/> or a <see cref="RecordDeliveryException"/>.
/// </remarks>
public sealed partial class KinesisProducer : IKinesisProducer
{
    private const int KeylessPartitionKeyBytes = 39; // decimal form of a 128-bit hash key, the most it can take
    private const double ShardRecordsPerSecond = 1000;
    private const double ShardBytesPerSecond = 1024 * 1024;

    private readonly IKinesisClient _client;
    private readonly KinesisProducerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ProducerMetrics _metrics;
    private readonly BufferGate _gate;
    private readonly Channel<object> _inbox;
    private readonly ITimer _timer;
    private readonly Random _random;
    private readonly SpaceSavingSketch? _hotKeys;
    private readonly AggregateBuilder _aggregate; // plans and encodes aggregates; used by the loop only
    private readonly long _lingerTicks;
    private readonly long _ttlTicks;
    private readonly Task _loop;
    private int _disposeState;

    // ---- state owned by the loop ----
    private readonly Dictionary<string, ShardState> _shardsById = new(StringComparer.Ordinal);
    private readonly RecordDeque _unassigned = new();
    private readonly List<FlushWaiter> _flushWaiters = [];
    private ShardState[] _shards = [];
    private volatile ShardState[] _shardsSnapshot = [];
    private bool _haveMap;
    private bool _mapStale = true;
    private bool _refreshing;
    private long _refreshNotBefore;
    private int _refreshFailures;
    private int _roundRobin;
    private int _sendCursor;
    private int _inFlightRequests;
    private long _nextId;
    private long _outstanding;
    private bool _stopping;
    private TaskCompletionSource? _stopped;
    private long _timerDue = long.MaxValue;
    private UserRecord? _plannedHead; // head of the records _aggregate holds after Plan, until Take

    /// <summary>Creates a producer. Options are validated and copied; later changes to them have no effect.</summary>
    /// <param name="client">Kinesis client (not disposed by the producer).</param>
    /// <param name="options">Options; invalid ones throw <see cref="ProducerOptionsValidationException"/> naming every problem.</param>
    /// <param name="timeProvider">Clock for linger, TTL, backoff and rate limiting; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="meterFactory">Creates the <c>Cloud.Producer</c> meter; a standalone meter when null.</param>
    /// <param name="logger">Logger for shard map changes and failures.</param>
    public KinesisProducer(IKinesisClient client, KinesisProducerOptions options, TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null, ILogger<KinesisProducer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _client = client;
        _options = options.Clone();
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _random = _options.RandomSeed is { } seed ? new Random(seed) : new Random();
        _hotKeys = _options.HotKeyCount > 0 ? new SpaceSavingSketch(Math.Max(64, _options.HotKeyCount * 8)) : null;
        _lingerTicks = ToTicks(_options.RecordMaxBufferedTime);
        _ttlTicks = ToTicks(_options.RecordTtl);
        _gate = new BufferGate(_options.MaxBufferedRecords, _options.MaxBufferedBytes);
        _aggregate = new AggregateBuilder(AggregateOptions(_options));
        _metrics = new ProducerMetrics(meterFactory, _options.StreamName, () => _gate.Records, () => _gate.Bytes, ObserveRateFactors, ObserveHotKeys);
        _inbox = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = false });
        _timer = _time.CreateTimer(static s => ((KinesisProducer)s!).Post(WakeCommand.Instance), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _loop = Task.Run(RunLoopAsync);
    }

    /// <summary>The stream this producer writes to.</summary>
    public string StreamName => _options.StreamName;

    /// <inheritdoc />
    public int BufferedRecords => (int)_gate.Records;

    /// <summary>The hottest partition keys seen so far (empty when <see cref="KinesisProducerOptions.HotKeyCount"/> is 0).</summary>
    public IReadOnlyList<HotKey> GetHotKeys() => _hotKeys?.Top(_options.HotKeyCount) ?? [];

    /// <summary>User records assigned to each open shard so far (the balancer's view), by shard id.</summary>
    public IReadOnlyDictionary<string, long> GetShardAssignments()
    {
        var snapshot = _shardsSnapshot;
        return snapshot.ToDictionary(s => s.ShardId, s => s.AssignedRecords, StringComparer.Ordinal);
    }

    /// <summary>For tests and diagnostics: the AIMD rate factor of each open shard.</summary>
    internal IReadOnlyDictionary<string, double> RateFactors() =>
        _shardsSnapshot.ToDictionary(s => s.ShardId, s => s.Limiter.Factor, StringComparer.Ordinal);

    private long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private double ToMilliseconds(long ticks) => ticks * 1000.0 / _time.TimestampFrequency;

    private void Post(object command)
    {
        if (!_inbox.Writer.TryWrite(command) && command is UserRecord r)
        {
            Fail(r, DeliveryFailureReason.ProducerDisposed, "The producer was disposed before the record was written.", null, null, onLoop: false);
        }
    }

    // ------------------------------------------------------------------ public API

    /// <inheritdoc />
    public async ValueTask<SendResult> SendAsync(ReadOnlyMemory<byte> data, string? partitionKey = null, string? explicitHashKey = null, CancellationToken cancellationToken = default)
    {
        var delivery = await EnqueueAsync(data, partitionKey, explicitHashKey, cancellationToken).ConfigureAwait(false);
        return await delivery.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<Task<SendResult>> EnqueueAsync(ReadOnlyMemory<byte> data, string? partitionKey = null, string? explicitHashKey = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposeState) != 0, this);
        if (Validate(data, partitionKey, explicitHashKey, out var hash, out int pkBytes) is { } invalid)
        {
            InvokeFailureHandler(invalid);
            _metrics.Failures.Add(1, _metrics.StreamTag, new("reason", nameof(DeliveryFailureReason.InvalidRecord)));
            return ValueTask.FromResult(Task.FromException<SendResult>(invalid));
        }
        long gateBytes = data.Length + pkBytes;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(data.Length);
        data.Span.CopyTo(buffer);
        var record = new UserRecord(buffer, data.Length, partitionKey, explicitHashKey, hash, gateBytes) { PartitionKeyBytes = pkBytes };
        var wait = _gate.WaitAsync(gateBytes, cancellationToken);
        if (wait.IsCompletedSuccessfully)
        {
            Post(record);
            return ValueTask.FromResult(record.Completion.Task);
        }
        return AwaitSpaceAsync(wait, record);
    }

    private async ValueTask<Task<SendResult>> AwaitSpaceAsync(ValueTask wait, UserRecord record)
    {
        try
        {
            await wait.ConfigureAwait(false);
        }
        catch
        {
            record.ReturnBuffer();
            throw;
        }
        Post(record);
        return record.Completion.Task;
    }

    /// <inheritdoc />
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var waiter = new FlushWaiter();
        Post(waiter);
        return waiter.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Flushes every accepted record (each completes as delivered or failed), then stops the producer.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.CompareExchange(ref _disposeState, 1, 0) != 0)
        {
            await _loop.ConfigureAwait(false);
            return;
        }
        var stop = new StopCommand();
        Post(stop);
        await stop.Completion.Task.ConfigureAwait(false);
        _inbox.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        // Records that raced with disposal and are still in the channel are failed, never dropped.
        while (_inbox.Reader.TryRead(out var leftover))
        {
            if (leftover is UserRecord r)
            {
                Fail(r, DeliveryFailureReason.ProducerDisposed, "The producer was disposed before the record was written.", null, null, onLoop: false);
            }
        }
        _timer.Dispose();
        _metrics.Dispose();
        _aggregate.Dispose(); // the loop, its only user, has ended
    }

    /// <summary>For tests: PutRecords requests in flight (read outside the loop; advisory).</summary>
    internal int InFlightRequests => Volatile.Read(ref _inFlightRequests);

    /// <summary>For tests: a ListShards call is under way (advisory).</summary>
    internal bool RefreshingMap => Volatile.Read(ref _refreshing);

    /// <summary>For tests: completes once the loop has processed everything posted before this call.</summary>
    internal Task QuiesceAsync()
    {
        var q = new QuiesceCommand();
        return _inbox.Writer.TryWrite(q) ? q.Completion.Task : Task.CompletedTask;
    }

    // ------------------------------------------------------------------ validation

    private RecordDeliveryException? Validate(ReadOnlyMemory<byte> data, string? partitionKey, string? explicitHashKey, out UInt128 hash, out int pkBytes)
    {
        hash = default;
        pkBytes = 0;
        RecordDeliveryException Invalid(string field, string problem) => new(
            DeliveryFailureReason.InvalidRecord,
            $"Record for stream '{_options.StreamName}' (partition key {Describe(partitionKey)}) rejected: {field} {problem}",
            _options.StreamName, partitionKey, explicitHashKey, data.ToArray(), 0, field);

        if (partitionKey is not null)
        {
            if (partitionKey.Length == 0)
            {
                return Invalid("partitionKey", "is empty; it must be 1–256 characters (or null to let the producer balance it).");
            }
            if (partitionKey.Length > 256)
            {
                int chars = partitionKey.EnumerateRunes().Count();
                if (chars > 256)
                {
                    return Invalid("partitionKey", $"is {chars} characters long; the limit is 256.");
                }
            }
            pkBytes = Encoding.UTF8.GetByteCount(partitionKey);
        }
        if (explicitHashKey is not null)
        {
            if (!PartitionKeyHash.TryParseHashKey(explicitHashKey, out hash))
            {
                return Invalid("explicitHashKey", $"'{Truncate(explicitHashKey)}' is not a decimal integer between 0 and 2^128-1 without leading zeros.");
            }
            if (partitionKey is null)
            {
                pkBytes = explicitHashKey.Length;
            }
        }
        else if (partitionKey is not null)
        {
            hash = PartitionKeyHash.Compute(partitionKey);
        }
        else
        {
            pkBytes = KeylessPartitionKeyBytes;
        }
        if (data.Length == 0)
        {
            return Invalid("data", "is empty; a record needs at least one byte.");
        }
        if (data.Length + pkBytes > _options.MaxRecordSize)
        {
            return Invalid("data", $"is {data.Length} bytes; with the {pkBytes}-byte partition key it exceeds the {_options.MaxRecordSize}-byte record limit.");
        }
        return null;
    }

    private static string Describe(string? key) => key is null ? "none" : $"'{Truncate(key)}'";

    private static string Truncate(string s) => s.Length <= 64 ? s : string.Concat(s.AsSpan(0, 64), "…");

    // ------------------------------------------------------------------ loop

    private async Task RunLoopAsync()
    {
        var reader = _inbox.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                List<QuiesceCommand>? quiesced = null;
                int drained = 0;
                while (drained++ < 4096 && reader.TryRead(out var command))
                {
                    switch (command)
                    {
                        case UserRecord r:
                            Accept(r);
                            break;
                        case BatchResult b:
                            OnBatchResult(b);
                            break;
                        case MapResult m:
                            OnMapResult(m);
                            break;
                        case FlushWaiter f:
                            f.MaxId = _nextId;
                            f.Remaining = _outstanding;
                            if (f.Remaining == 0)
                            {
                                f.Completion.TrySetResult();
                            }
                            else
                            {
                                _flushWaiters.Add(f);
                            }
                            break;
                        case StopCommand s:
                            _stopping = true;
                            _stopped = s.Completion;
                            break;
                        case QuiesceCommand q:
                            (quiesced ??= []).Add(q);
                            break;
                        case WakeCommand:
                            _timerDue = long.MaxValue;
                            break;
                    }
                }
                Pump();
                if (_stopping && _outstanding == 0 && _inFlightRequests == 0)
                {
                    _stopped?.TrySetResult();
                }
                if (quiesced is not null)
                {
                    foreach (var q in quiesced)
                    {
                        q.Completion.TrySetResult();
                    }
                }
            }
        }
        catch (Exception ex)
        {
            // A bug in the loop must not strand callers: fail everything still held.
            _logger.LogError(ex, "Kinesis producer loop for stream {Stream} crashed", _options.StreamName);
            FailEverything(DeliveryFailureReason.ProducerDisposed, "The producer loop stopped unexpectedly: " + ex.Message, ex);
            _stopped?.TrySetResult();
            throw;
        }
    }

    private void Accept(UserRecord r)
    {
        r.Id = ++_nextId;
        _outstanding++;
        r.EnqueuedAt = _time.GetTimestamp();
        r.Deadline = r.EnqueuedAt + _ttlTicks;
        if (_hotKeys is not null && r.OriginalPartitionKey is { } pk)
        {
            _hotKeys.Add(pk);
        }
        _unassigned.PushBack(r);
    }

    private void Pump()
    {
        long now = _time.GetTimestamp();
        EnsureMap(now);
        if (_haveMap)
        {
            while (_unassigned.Count > 0)
            {
                Assign(_unassigned.PopFront());
            }
        }
        ExpireHeads(now);
        SendReady(now);
        ScheduleWake(now);
    }

    private void Assign(UserRecord r)
    {
        ShardState shard;
        if (r.Keyless)
        {
            // Balanced keys: round-robin over the open shards, with a hash key inside the chosen shard's range.
            shard = _shards[_roundRobin];
            _roundRobin = (_roundRobin + 1) % _shards.Length;
            r.Hash = shard.Range.Middle;
            r.ExplicitHashKey = shard.KeylessKey;
            r.PartitionKey = shard.KeylessKey;
            r.PartitionKeyBytes = shard.KeylessKey.Length;
        }
        else
        {
            shard = _shards[IndexOf(r.Hash)];
        }
        r.Shard = shard;
        shard.AssignedRecords++;
        shard.Pending.PushBack(r);
        shard.PendingBytes += EstimateAggregatedSize(r);
    }

    private int IndexOf(UInt128 hash)
    {
        int lo = 0, hi = _shards.Length - 1, found = 0;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_shards[mid].Range.Start <= hash)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return found;
    }

    private static long EstimateAggregatedSize(UserRecord r) => r.Length + 8 + (r.ExplicitHashKey is null ? 0 : 2);

    private void ExpireHeads(long now)
    {
        while (_unassigned.Count > 0 && _unassigned.Front.Deadline <= now)
        {
            FailExpired(_unassigned.PopFront());
        }
        foreach (var s in _shards)
        {
            while (s.Pending.Count > 0 && s.Pending.Front.Deadline <= now)
            {
                var r = s.Pending.PopFront();
                s.PendingBytes -= EstimateAggregatedSize(r);
                FailExpired(r);
            }
        }
    }

    private void FailExpired(UserRecord r) => Fail(
        r,
        DeliveryFailureReason.TtlExpired,
        $"Record (partition key {Describe(r.OriginalPartitionKey)}) was not written to stream '{_options.StreamName}' within RecordTtl {_options.RecordTtl} after {r.Attempts} attempt(s)"
            + (r.LastError is null ? "." : $"; last error: {r.LastError.Message}"),
        r.LastErrorCode,
        r.LastError,
        onLoop: true);

    // ------------------------------------------------------------------ shard map

    private void EnsureMap(long now)
    {
        if (!_mapStale || _refreshing || now < _refreshNotBefore)
        {
            return;
        }
        if (!_haveMap && _unassigned.Count == 0)
        {
            return; // nothing to send yet: don't call ListShards for an idle producer
        }
        _refreshing = true;
        _ = Task.Run(LoadMapAsync);
    }

    private async Task LoadMapAsync()
    {
        try
        {
            var shards = new List<Shard>();
            string? token = null;
            do
            {
                var request = token is null
                    ? new ListShardsRequest { StreamName = _options.StreamName }
                    : new ListShardsRequest { NextToken = token };
                var page = await _client.ListShardsAsync(request).ConfigureAwait(false);
                shards.AddRange(page.Shards);
                token = page.NextToken;
            }
            while (token is not null);
            Post(new MapResult(ShardMap.FromShards(shards), null));
        }
        catch (Exception ex)
        {
            Post(new MapResult(null, ex));
        }
    }

    private void OnMapResult(MapResult m)
    {
        _refreshing = false;
        long now = _time.GetTimestamp();
        if (m.Map is null)
        {
            _refreshFailures++;
            _refreshNotBefore = now + ToTicks(Backoff(_refreshFailures));
            if (IsStreamMissing(m.Error))
            {
                _logger.LogWarning("Stream {Stream} not found; failing buffered records", _options.StreamName);
                _haveMap = false;
                _mapStale = true;
                FailEverything(DeliveryFailureReason.StreamNotFound, $"Stream '{_options.StreamName}' does not exist: {m.Error!.Message}", m.Error);
            }
            else
            {
                _logger.LogWarning(m.Error, "ListShards for stream {Stream} failed; will retry", _options.StreamName);
                foreach (var r in EnumerateHeld())
                {
                    r.LastError = m.Error;
                }
            }
            return;
        }
        _refreshFailures = 0;
        _refreshNotBefore = now + _time.TimestampFrequency; // at most one refresh per second
        _mapStale = false;
        Reconcile(m.Map, now);
    }

    private void Reconcile(ShardMap map, long now)
    {
        var next = new ShardState[map.Count];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < map.Count; i++)
        {
            var range = map.Ranges[i];
            seen.Add(range.ShardId);
            if (_shardsById.TryGetValue(range.ShardId, out var existing))
            {
                existing.Range = range;
                existing.KeylessKey = PartitionKeyHash.Format(range.Middle);
                next[i] = existing;
            }
            else
            {
                double rate = _options.RateLimit / 100.0;
                var state = new ShardState(range, new ShardRateLimiter(ShardRecordsPerSecond * rate, ShardBytesPerSecond * rate, _time.TimestampFrequency, now));
                _shardsById.Add(range.ShardId, state);
                next[i] = state;
            }
        }
        // Records queued for shards that closed (reshard) are routed again, ahead of newer records.
        var moved = new List<UserRecord>();
        foreach (var old in _shards)
        {
            if (seen.Contains(old.ShardId))
            {
                continue;
            }
            old.Removed = true;
            _shardsById.Remove(old.ShardId);
            while (old.Pending.Count > 0)
            {
                moved.Add(old.Pending.PopFront());
            }
            old.PendingBytes = 0;
        }
        if (moved.Count > 0)
        {
            _logger.LogInformation("Shard map of {Stream} changed; re-routing {Count} buffered records", _options.StreamName, moved.Count);
            ResetKeyless(moved);
            _unassigned.PushFrontRange(moved);
        }
        _shards = next;
        _shardsSnapshot = next;
        _roundRobin %= next.Length;
        _haveMap = true;
    }

    private static void ResetKeyless(List<UserRecord> records)
    {
        foreach (var r in records)
        {
            if (r.Keyless)
            {
                r.ExplicitHashKey = null;
                r.PartitionKey = "";
            }
        }
    }

    private IEnumerable<UserRecord> EnumerateHeld()
    {
        for (int i = 0; i < _unassigned.Count; i++)
        {
            yield return _unassigned[i];
        }
        foreach (var s in _shards)
        {
            for (int i = 0; i < s.Pending.Count; i++)
            {
                yield return s.Pending[i];
            }
        }
    }

    private void FailEverything(DeliveryFailureReason reason, string message, Exception? error)
    {
        while (_unassigned.Count > 0)
        {
            var r = _unassigned.PopFront();
            Fail(r, reason, message, r.LastErrorCode, error, onLoop: true);
        }
        foreach (var s in _shards)
        {
            while (s.Pending.Count > 0)
            {
                var r = s.Pending.PopFront();
                Fail(r, reason, message, r.LastErrorCode, error, onLoop: true);
            }
            s.PendingBytes = 0;
        }
    }

    // ------------------------------------------------------------------ collection

    /// <summary>
    /// How aggregates are bounded. <see cref="AggregationSizeMode.MaxSize"/>: the encoded aggregate (magic + protobuf +
    /// MD5) is at most <see cref="KinesisProducerOptions.AggregationMaxSize"/>, the outer partition key not counted (KPL).
    /// <see cref="AggregationSizeMode.FillPayloadUnits"/>: the aggregate plus its outer (first record's) partition key is
    /// at most as many whole payload units as AggregationMaxSize holds, and at least one unit even when it holds none.
    /// </summary>
    private static AggregateBuilderOptions AggregateOptions(KinesisProducerOptions options)
    {
        if (options.AggregationMode == AggregationSizeMode.FillPayloadUnits)
        {
            int units = Math.Max(1, options.AggregationMaxSize / KinesisProducerOptions.PayloadUnitSize);
            return new AggregateBuilderOptions { MaxAggregateSize = units * KinesisProducerOptions.PayloadUnitSize, FillPayloadUnits = true };
        }
        return new AggregateBuilderOptions { MaxAggregateSize = options.AggregationMaxSize };
    }

    /// <summary>Bound on the encoded aggregate when <paramref name="first"/> heads it (its key is the outer key).</summary>
    private long AggregateLimit(UserRecord first) =>
        _aggregate.Options.FillPayloadUnits ? _aggregate.SizeLimit - first.PartitionKeyBytes : _aggregate.SizeLimit;

    private bool IsDue(ShardState s, long now, bool flushing) => flushing || now - s.Pending.Front.EnqueuedAt >= _lingerTicks;

    private bool Eligible(ShardState s, long now) =>
        s.Pending.Count > 0 && s.NotBefore <= now && s.BlockedUntil <= now && !(_options.PreserveOrdering && s.InFlight > 0);

    /// <summary>Kinesis records of this shard that are complete (need no more linger) by estimate.</summary>
    private long FullRecords(ShardState s) =>
        _options.AggregationEnabled ? s.PendingBytes / _options.AggregationMaxSize : s.Pending.Count;

    private bool ShouldSend(long now, bool flushing)
    {
        long sendable = 0, sendableBytes = 0;
        int withData = 0, withFull = 0;
        foreach (var s in _shards)
        {
            if (!Eligible(s, now))
            {
                continue;
            }
            if (IsDue(s, now, flushing))
            {
                return true;
            }
            long full = FullRecords(s);
            withData++;
            if (full > 0)
            {
                withFull++;
            }
            long n = _options.PreserveOrdering ? Math.Min(1, full) : full;
            sendable += n;
            sendableBytes += _options.AggregationEnabled ? n * _options.AggregationMaxSize : s.PendingBytes;
        }
        if (sendable >= _options.CollectionMaxCount || sendableBytes >= _options.CollectionMaxSize)
        {
            return true;
        }
        // With ordering each shard contributes one record per request: go once every ready shard has a full one.
        return _options.PreserveOrdering && withData > 0 && withFull == withData;
    }

    private void SendReady(long now)
    {
        bool flushing = _flushWaiters.Count > 0 || _stopping;
        while (_inFlightRequests < _options.MaxConcurrentRequests && ShouldSend(now, flushing))
        {
            var batch = BuildBatch(now, flushing);
            if (batch.Entries.Count == 0)
            {
                return;
            }
            _inFlightRequests++;
            foreach (var shard in batch.Shards)
            {
                shard.InFlight++;
            }
            _ = Task.Run(() => SendBatchAsync(batch));
        }
    }

    private Batch BuildBatch(long now, bool flushing)
    {
        var batch = new Batch();
        int n = _shards.Length;
        int start = _sendCursor++ % n;
        for (int k = 0; k < n && batch.Entries.Count < _options.CollectionMaxCount; k++)
        {
            var s = _shards[(start + k) % n];
            if (!Eligible(s, now))
            {
                continue;
            }
            bool due = IsDue(s, now, flushing);
            if (!due && FullRecords(s) == 0)
            {
                continue;
            }
            int taken = 0;
            bool requestFull = false;
            while (s.Pending.Count > 0 && batch.Entries.Count < _options.CollectionMaxCount)
            {
                if (_options.PreserveOrdering && taken == 1)
                {
                    break;
                }
                int count = Plan(s, out long size, out bool complete);
                if (!complete && !due)
                {
                    break;
                }
                if (batch.Bytes + size > _options.CollectionMaxSize)
                {
                    requestFull = true;
                    break;
                }
                if (!s.Limiter.TryTake(size, now))
                {
                    s.BlockedUntil = s.Limiter.AvailableAt(size, now);
                    break;
                }
                batch.Add(Take(s, count), size);
                taken++;
            }
            if (taken > 0)
            {
                batch.Shards.Add(s);
            }
            if (requestFull)
            {
                break;
            }
        }
        return batch;
    }

    /// <summary>How many head records of the shard form its next Kinesis record, and that record's size.</summary>
    private int Plan(ShardState s, out long size, out bool complete)
    {
        var head = s.Pending.Front;
        if (!_options.AggregationEnabled)
        {
            size = head.Size;
            complete = true;
            return 1;
        }
        // The builder encodes as it plans: when the records are taken, Take only writes the aggregate out.
        var aggregate = _aggregate;
        aggregate.Reset();
        _plannedHead = null;
        int count = 0;
        while (count < s.Pending.Count)
        {
            var r = s.Pending[count];
            if (!aggregate.TryAdd(r.PartitionKey, r.ExplicitHashKey, r.Data))
            {
                break;
            }
            count++;
        }
        if (count <= 1)
        {
            // A lone record (or one too big to aggregate) goes unaggregated with its own keys.
            size = head.Size;
            complete = count == 0 || s.Pending.Count > 1 || head.Size >= AggregateLimit(head);
            return 1;
        }
        _plannedHead = head;
        size = aggregate.KinesisRecordSize; // encoded aggregate + the outer partition key (the head's)
        complete = count < s.Pending.Count;
        return count;
    }

    private Packed Take(ShardState s, int count)
    {
        var records = new UserRecord[count];
        for (int i = 0; i < count; i++)
        {
            var r = s.Pending.PopFront();
            s.PendingBytes -= EstimateAggregatedSize(r);
            r.Attempts++;
            records[i] = r;
        }
        if (count == 1)
        {
            var r = records[0];
            var (rented, data) = Compress(null, new ReadOnlyMemory<byte>(r.Buffer, 0, r.Length));
            return new Packed(s, records, rented, data, r.PartitionKey, r.ExplicitHashKey);
        }
        var first = records[0];
        var aggregate = _aggregate;
        if (!ReferenceEquals(_plannedHead, first) || aggregate.Count != count)
        {
            // Not what Plan left in the builder (Take always follows its Plan, so not expected): plan these again.
            aggregate.Reset();
            foreach (var r in records)
            {
                if (!aggregate.TryAdd(r.PartitionKey, r.ExplicitHashKey, r.Data))
                {
                    throw new InvalidOperationException($"Records planned into one aggregate no longer fit its {aggregate.SizeLimit}-byte bound.");
                }
            }
        }
        _plannedHead = null;
        int length = aggregate.EncodedSize;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
        aggregate.WriteTo(buffer.AsSpan(0, length));
        var (pooled, payload) = Compress(buffer, new ReadOnlyMemory<byte>(buffer, 0, length));
        return new Packed(s, records, pooled, payload, first.PartitionKey, PartitionKeyHash.Format(first.Hash));
    }

    /// <summary>
    /// Wraps a Kinesis record in a compressed frame when compression is on and it pays off. The whole aggregate is
    /// compressed (not each user record): one frame header and one codec context per Kinesis record, and the
    /// repetition across user records (same JSON field names) is what compresses.
    /// </summary>
    private (byte[]? Rented, ReadOnlyMemory<byte> Data) Compress(byte[]? rented, ReadOnlyMemory<byte> data)
    {
        if (_options.Compression == CompressionCodec.None)
        {
            return (rented, data);
        }
        int max = CompressedFrame.GetMaxEncodedLength(data.Length, _options.Compression);
        byte[] frame = ArrayPool<byte>.Shared.Rent(max);
        int written = CompressedFrame.Encode(data.Span, _options.Compression, frame);
        if (written >= data.Length)
        {
            ArrayPool<byte>.Shared.Return(frame);
            return (rented, data); // incompressible: raw bytes keep the record within the size it was planned for
        }
        _metrics.CompressionRatio.Record((double)data.Length / written, _metrics.StreamTag);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
        return (frame, new ReadOnlyMemory<byte>(frame, 0, written));
    }

    private async Task SendBatchAsync(Batch batch)
    {
        long started = _time.GetTimestamp();
        try
        {
            var entries = new PutRecordsRequestEntry[batch.Entries.Count];
            for (int i = 0; i < entries.Length; i++)
            {
                var p = batch.Entries[i];
                entries[i] = new PutRecordsRequestEntry { Data = p.Data, PartitionKey = p.PartitionKey, ExplicitHashKey = p.ExplicitHashKey };
            }
            var response = await _client.PutRecordsAsync(new PutRecordsRequest { StreamName = _options.StreamName, Records = entries }).ConfigureAwait(false);
            Post(new BatchResult(batch, response, null, _time.GetTimestamp() - started));
        }
        catch (Exception ex)
        {
            Post(new BatchResult(batch, null, ex, _time.GetTimestamp() - started));
        }
    }

    // ------------------------------------------------------------------ results

    private void OnBatchResult(BatchResult result)
    {
        var batch = result.Batch;
        _inFlightRequests--;
        foreach (var shard in batch.Shards)
        {
            shard.InFlight--;
        }
        foreach (var p in batch.Entries)
        {
            if (p.RentedBuffer is not null)
            {
                ArrayPool<byte>.Shared.Return(p.RentedBuffer);
            }
        }
        _metrics.RequestDuration.Record(ToMilliseconds(result.ElapsedTicks), _metrics.StreamTag);
        long now = _time.GetTimestamp();
        var retry = new List<(Packed Packed, string Code, Exception? Error)>();

        if (result.Error is not null || result.Response is null || result.Response.Records.Count != batch.Entries.Count)
        {
            var error = result.Error ?? new InvalidOperationException(
                $"PutRecords answered {result.Response?.Records.Count ?? 0} results for {batch.Entries.Count} records.");
            _metrics.Requests.Add(1, _metrics.StreamTag, new("outcome", "error"));
            HandleRequestError(batch, error, retry);
        }
        else
        {
            var response = result.Response;
            _metrics.Requests.Add(1, _metrics.StreamTag, new("outcome", response.FailedRecordCount > 0 ? "partial" : "ok"));
            for (int i = 0; i < batch.Entries.Count; i++)
            {
                var p = batch.Entries[i];
                var entry = response.Records[i];
                if (entry.SequenceNumber is { } sequence && entry.ShardId is { } shardId)
                {
                    if (!string.Equals(shardId, p.Shard.ShardId, StringComparison.Ordinal))
                    {
                        _mapStale = true; // the prediction was wrong: the map is out of date (reshard)
                    }
                    Delivered(p, shardId, sequence, now);
                    continue;
                }
                string code = entry.ErrorCode ?? "UnknownError";
                if (IsPermanent(code))
                {
                    foreach (var r in p.Records)
                    {
                        Fail(r, DeliveryFailureReason.Rejected, $"Kinesis rejected the record (partition key {Describe(r.OriginalPartitionKey)}) of stream '{_options.StreamName}': {code}: {entry.ErrorMessage}", code, null, onLoop: true);
                    }
                    continue;
                }
                retry.Add((p, code, null));
            }
        }
        Requeue(retry, now);
    }

    private void HandleRequestError(Batch batch, Exception error, List<(Packed, string, Exception?)> retry)
    {
        string code = error is KinesisServiceException se ? se.ErrorCode : error.GetType().Name;
        if (IsStreamMissing(error))
        {
            _mapStale = true;
            foreach (var p in batch.Entries)
            {
                foreach (var r in p.Records)
                {
                    Fail(r, DeliveryFailureReason.StreamNotFound, $"Stream '{_options.StreamName}' does not exist (deleted?): {error.Message}", code, error, onLoop: true);
                }
            }
            return;
        }
        if (error is KinesisValidationException validation)
        {
            // The client names the entry (Records[i].Field); fail that one, resend the others.
            int bad = ParseEntryIndex(validation.Field);
            for (int i = 0; i < batch.Entries.Count; i++)
            {
                var p = batch.Entries[i];
                if (i == bad || bad < 0)
                {
                    foreach (var r in p.Records)
                    {
                        Fail(r, DeliveryFailureReason.InvalidRecord, $"Record (partition key {Describe(r.OriginalPartitionKey)}) rejected by the client: {validation.Message}", code, error, onLoop: true);
                    }
                }
                else
                {
                    foreach (var r in p.Records)
                    {
                        r.Attempts--; // not this record's fault
                    }
                    retry.Add((p, code, error));
                }
            }
            return;
        }
        if (error is KinesisServiceException service && IsPermanent(service.ErrorCode))
        {
            foreach (var p in batch.Entries)
            {
                foreach (var r in p.Records)
                {
                    Fail(r, DeliveryFailureReason.Rejected, $"Kinesis rejected PutRecords for stream '{_options.StreamName}': {error.Message}", code, error, onLoop: true);
                }
            }
            return;
        }
        if (code == "InvalidArgumentException")
        {
            _mapStale = true;
        }
        foreach (var p in batch.Entries)
        {
            retry.Add((p, code, error));
        }
    }

    private static int ParseEntryIndex(string field)
    {
        const string prefix = "Records[";
        if (field.StartsWith(prefix, StringComparison.Ordinal))
        {
            int end = field.IndexOf(']', prefix.Length);
            if (end > prefix.Length && int.TryParse(field.AsSpan(prefix.Length, end - prefix.Length), out int index))
            {
                return index;
            }
        }
        return -1;
    }

    private static bool IsStreamMissing(Exception? error) =>
        error is KinesisServiceException { ErrorCode: "ResourceNotFoundException" };

    private static bool IsPermanent(string code) => code is
        "AccessDeniedException" or "KMSAccessDeniedException" or "KMSDisabledException" or "KMSNotFoundException"
        or "KMSInvalidStateException" or "KMSOptInRequired" or "UnrecognizedClientException"
        or "IncompleteSignatureException" or "MissingAuthenticationTokenException" or "InvalidSignatureException";

    private static bool IsThrottle(string code) => code is
        "ProvisionedThroughputExceededException" or "ThrottlingException" or "LimitExceededException";

    private void Requeue(List<(Packed Packed, string Code, Exception? Error)> retry, long now)
    {
        if (retry.Count == 0)
        {
            return;
        }
        // Group by shard keeping request order, so each shard gets its failed records back in their original order.
        var byShard = new Dictionary<ShardState, List<UserRecord>>();
        var throttled = new HashSet<ShardState>();
        foreach (var (p, code, error) in retry)
        {
            _metrics.Retries.Add(1, _metrics.StreamTag, new("error", code));
            if (IsThrottle(code))
            {
                _metrics.Throttles.Add(1, _metrics.StreamTag);
                throttled.Add(p.Shard);
            }
            if (!byShard.TryGetValue(p.Shard, out var list))
            {
                byShard[p.Shard] = list = [];
            }
            foreach (var r in p.Records)
            {
                r.LastErrorCode = code;
                r.LastError = error ?? new KinesisServiceException("PutRecords", code, "record failed", null, System.Net.HttpStatusCode.OK);
                if (r.Deadline <= now)
                {
                    FailExpired(r);
                }
                else
                {
                    list.Add(r);
                }
            }
        }
        foreach (var shard in throttled)
        {
            shard.Limiter.OnThrottled(now);
        }
        foreach (var (shard, records) in byShard)
        {
            if (records.Count == 0)
            {
                continue;
            }
            if (shard.Removed)
            {
                ResetKeyless(records);
                _unassigned.PushFrontRange(records);
                continue;
            }
            int attempts = records.Max(r => r.Attempts);
            long backoff = now + ToTicks(Backoff(attempts));
            shard.NotBefore = Math.Max(shard.NotBefore, backoff);
            shard.Pending.PushFrontRange(records);
            foreach (var r in records)
            {
                shard.PendingBytes += EstimateAggregatedSize(r);
            }
        }
    }

    /// <summary>Exponential backoff with "equal jitter": half fixed, half random.</summary>
    private TimeSpan Backoff(int attempt)
    {
        double min = _options.RetryMinBackoff.TotalMilliseconds;
        double max = _options.RetryMaxBackoff.TotalMilliseconds;
        double cap = Math.Min(max, min * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30)));
        return TimeSpan.FromMilliseconds((cap / 2) + (_random.NextDouble() * cap / 2));
    }

    private void Delivered(Packed p, string shardId, string sequenceNumber, long now)
    {
        bool aggregated = p.Records.Length > 1;
        _metrics.KinesisRecords.Add(1, _metrics.StreamTag);
        _metrics.KinesisBytes.Add(p.Data.Length + Encoding.UTF8.GetByteCount(p.PartitionKey), _metrics.StreamTag);
        _metrics.AggregationRatio.Record(p.Records.Length, _metrics.StreamTag);
        long bytes = 0;
        for (int i = 0; i < p.Records.Length; i++)
        {
            var r = p.Records[i];
            bytes += r.Length;
            _metrics.BufferedTime.Record(ToMilliseconds(now - r.EnqueuedAt), _metrics.StreamTag);
            r.Completion.TrySetResult(new SendResult(shardId, sequenceNumber, aggregated ? i : null, r.Attempts));
            Release(r);
        }
        _metrics.UserRecords.Add(p.Records.Length, _metrics.StreamTag);
        _metrics.UserBytes.Add(bytes, _metrics.StreamTag);
    }

    private void Fail(UserRecord r, DeliveryFailureReason reason, string message, string? code, Exception? error, bool onLoop)
    {
        var exception = new RecordDeliveryException(reason, message, _options.StreamName, r.OriginalPartitionKey, r.OriginalExplicitHashKey,
            r.Data.ToArray(), r.Attempts, null, code, error);
        _metrics.Failures.Add(1, _metrics.StreamTag, new("reason", reason.ToString()));
        InvokeFailureHandler(exception);
        r.Completion.TrySetException(exception);
        if (onLoop)
        {
            Release(r);
        }
        else
        {
            _gate.Release(r.GateBytes);
            r.ReturnBuffer();
        }
    }

    private void Release(UserRecord r)
    {
        _outstanding--;
        _gate.Release(r.GateBytes);
        r.ReturnBuffer();
        if (_flushWaiters.Count > 0)
        {
            for (int i = _flushWaiters.Count - 1; i >= 0; i--)
            {
                var f = _flushWaiters[i];
                if (r.Id <= f.MaxId && --f.Remaining == 0)
                {
                    f.Completion.TrySetResult();
                    _flushWaiters.RemoveAt(i);
                }
            }
        }
    }

    private void InvokeFailureHandler(RecordDeliveryException exception)
    {
        if (_options.FailureHandler is not { } handler)
        {
            return;
        }
        try
        {
            handler(exception);
        }
        catch (Exception ex)
        {
            _metrics.Failures.Add(1, _metrics.StreamTag, new("reason", "FailureHandlerThrew"));
            _logger.LogError(ex, "FailureHandler threw for a record of stream {Stream}", _options.StreamName);
        }
    }

    private void ScheduleWake(long now)
    {
        long next = long.MaxValue;
        if (_unassigned.Count > 0)
        {
            next = Math.Min(next, _unassigned.Front.Deadline);
            if (_mapStale && !_refreshing)
            {
                next = Math.Min(next, _refreshNotBefore);
            }
        }
        foreach (var s in _shards)
        {
            if (s.Pending.Count == 0)
            {
                continue;
            }
            var head = s.Pending.Front;
            next = Math.Min(next, head.Deadline);
            if (s.NotBefore > now)
            {
                next = Math.Min(next, s.NotBefore);
                continue;
            }
            if (_options.PreserveOrdering && s.InFlight > 0)
            {
                continue; // its request's completion wakes the loop
            }
            if (s.BlockedUntil > now)
            {
                next = Math.Min(next, s.BlockedUntil);
                continue;
            }
            long lingerAt = head.EnqueuedAt + _lingerTicks;
            if (lingerAt > now)
            {
                next = Math.Min(next, lingerAt);
            }
        }
        if (next == long.MaxValue)
        {
            if (_timerDue != long.MaxValue)
            {
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                _timerDue = long.MaxValue;
            }
            return;
        }
        next = Math.Max(next, now + (_time.TimestampFrequency / 1000)); // never spin: at least 1 ms ahead
        if (next == _timerDue)
        {
            return;
        }
        _timerDue = next;
        _timer.Change(TimeSpan.FromSeconds((double)(next - now) / _time.TimestampFrequency), Timeout.InfiniteTimeSpan);
    }

    private IEnumerable<Measurement<double>> ObserveRateFactors()
    {
        foreach (var s in _shardsSnapshot)
        {
            yield return new Measurement<double>(s.Limiter.Factor, _metrics.StreamTag, new("shard", s.ShardId));
        }
    }

    private IEnumerable<Measurement<long>> ObserveHotKeys()
    {
        foreach (var key in GetHotKeys())
        {
            yield return new Measurement<long>(key.Count, _metrics.StreamTag, new("partition_key", key.PartitionKey));
        }
    }

    // ------------------------------------------------------------------ loop messages

    private sealed class Packed(ShardState shard, UserRecord[] records, byte[]? rentedBuffer, ReadOnlyMemory<byte> data, string partitionKey, string? explicitHashKey)
    {
        public ShardState Shard { get; } = shard;
        public UserRecord[] Records { get; } = records;
        public byte[]? RentedBuffer { get; } = rentedBuffer;
        public ReadOnlyMemory<byte> Data { get; } = data;
        public string PartitionKey { get; } = partitionKey;
        public string? ExplicitHashKey { get; } = explicitHashKey;
    }

    private sealed class Batch
    {
        public List<Packed> Entries { get; } = [];
        public List<ShardState> Shards { get; } = [];
        public long Bytes { get; private set; }

        public void Add(Packed packed, long size)
        {
            Entries.Add(packed);
            Bytes += size;
        }
    }

    private sealed record BatchResult(Batch Batch, PutRecordsResponse? Response, Exception? Error, long ElapsedTicks);

    private sealed record MapResult(ShardMap? Map, Exception? Error);

    private sealed class FlushWaiter
    {
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public long MaxId { get; set; }
        public long Remaining { get; set; }
    }

    private sealed class StopCommand
    {
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class QuiesceCommand
    {
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class WakeCommand
    {
        public static readonly WakeCommand Instance = new();
    }
}
