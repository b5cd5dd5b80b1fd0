using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Kinesis;
using Cloud.Producer.Internal;
using Cloud.Records;
using Cloud.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using UserRecord = Cloud.Producer.Internal.UserRecord;

namespace Cloud.Producer;

/// <summary>
/// KPL-style producer for one Kinesis stream, in the KPL's stages: the shard map predicts each user record's shard
/// (<see cref="ShardRouter"/>), the aggregator packs KPL aggregates per shard (<see cref="Aggregator"/>), the collector
/// fills PutRecords requests through per-shard AIMD limiters (<see cref="Collector"/>, <see cref="ShardRateLimiter"/>),
/// the retrier settles results (<see cref="Retrier"/>) and the ledger completes each record once
/// (<see cref="CompletionLedger"/>). Kinesis is reached through AWS's own <see cref="IAmazonKinesis"/>.
/// </summary>
/// <remarks>
/// All batching state is owned by one background loop fed through a channel, so no locks are taken on the hot path;
/// the loop owns the order of the stages. Every accepted record completes exactly once: with a
/// <see cref="SendResult"/> or a <see cref="RecordDeliveryException"/>. Every PutRecords and ListShards call carries a
/// cancellation token bounded by the earliest <see cref="KinesisProducerOptions.RecordTtl"/> deadline it serves, so a
/// record not durable by its deadline completes with <see cref="DeliveryFailureReason.TtlExpired"/>, in flight or not.
/// </remarks>
public sealed class KinesisProducer : IKinesisProducer
{
    private const int KeylessPartitionKeyBytes = 39; // decimal form of a 128-bit hash key, the most it can take
    private static readonly TimeSpan MapCallLimit = TimeSpan.FromSeconds(30);

    private readonly IAmazonKinesis _client;
    private readonly KinesisProducerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ProducerMetrics _metrics;
    private readonly BufferGate _gate;
    private readonly Channel<object> _inbox;
    private readonly ITimer _timer;
    private readonly SpaceSavingSketch? _hotKeys;
    private readonly byte[] _pseudonymKey = RandomNumberGenerator.GetBytes(32);
    private readonly long _lingerTicks;
    private readonly long _ttlTicks;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Task _loop;
    private int _disposeState;

    // ---- stages and state owned by the loop ----
    private readonly ShardRouter _router;
    private readonly Aggregator _aggregator;
    private readonly Collector _collector;
    private readonly Retrier _retrier;
    private readonly CompletionLedger _ledger;
    private int _inFlightRequests;
    private volatile bool _refreshing;
    private bool _stopping;
    private TaskCompletionSource? _stopped;
    private long _timerDue = long.MaxValue;

    /// <summary>Creates a producer. Options are validated and copied; later changes to them have no effect.</summary>
    /// <param name="client">AWS's Kinesis client (not disposed by the producer). Give it <c>MaxErrorRetry = 0</c>: the
    /// producer is the one retry layer of its calls (<see cref="KinesisClientFactory"/> does so for
    /// <see cref="ProducerServiceCollectionExtensions.AddKinesisProducer"/>); SDK retries are still bounded by the TTL.</param>
    /// <param name="options">Options; invalid ones throw <see cref="ProducerOptionsValidationException"/> naming every problem.</param>
    /// <param name="timeProvider">Clock for linger, TTL, backoff and rate limiting; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="meterFactory">Creates the <c>Cloud.Producer</c> meter; a standalone meter when null.</param>
    /// <param name="logger">Logger for shard map changes and failures (never with keys or data).</param>
    public KinesisProducer(IAmazonKinesis client, KinesisProducerOptions options, TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null, ILogger<KinesisProducer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _client = client;
        _options = options.Clone();
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var random = _options.RandomSeed is { } seed ? new Random(seed) : new Random();
        _hotKeys = _options.HotKeyCount > 0 ? new SpaceSavingSketch(Math.Max(64, _options.HotKeyCount * 8)) : null;
        _lingerTicks = ToTicks(_options.RecordMaxBufferedTime);
        _ttlTicks = ToTicks(_options.RecordTtl);
        _gate = new BufferGate(_options.MaxBufferedRecords, _options.MaxBufferedBytes);
        _metrics = new ProducerMetrics(meterFactory, _options.StreamName, () => _gate.Records, () => _gate.Bytes, ObserveRateFactors, ObserveHotKeys);
        _router = new ShardRouter(_options, _time);
        _aggregator = new Aggregator(_options, _metrics);
        _collector = new Collector(_options, _aggregator, _lingerTicks);
        _ledger = new CompletionLedger(_options, _metrics, _gate, _time, _logger);
        _retrier = new Retrier(_options, _metrics, _router, _ledger, random, _time);
        if (client.Config?.MaxErrorRetry is > 0 and var sdkRetries)
        {
            _logger.LogWarning(
                "The Kinesis client of stream {Stream} retries {Retries} times by itself; the producer is meant to be the one retry layer (set MaxErrorRetry = 0). Its calls stay bounded by RecordTtl.",
                _options.StreamName, sdkRetries);
        }
        _inbox = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = false });
        _timer = _time.CreateTimer(static s => ((KinesisProducer)s!).Post(WakeCommand.Instance), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _loop = Task.Run(RunLoopAsync);
    }

    /// <summary>The stream this producer writes to.</summary>
    public string StreamName => _options.StreamName;

    /// <inheritdoc />
    public int BufferedRecords => (int)_gate.Records;

    /// <summary>
    /// The hottest partition keys seen so far (empty when <see cref="KinesisProducerOptions.HotKeyCount"/> is 0).
    /// Keys are pseudonymised unless <paramref name="disclosure"/> is <see cref="HotKeyDisclosure.Raw"/>.
    /// </summary>
    public IReadOnlyList<HotKey> GetHotKeys(HotKeyDisclosure disclosure = HotKeyDisclosure.Pseudonymized)
    {
        var top = _hotKeys?.Top(_options.HotKeyCount) ?? [];
        return disclosure == HotKeyDisclosure.Raw ? top : [.. top.Select(k => k with { PartitionKey = Pseudonym(k.PartitionKey) })];
    }

    private string Pseudonym(string key)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_pseudonymKey, Encoding.UTF8.GetBytes(key), mac);
        return "k:" + Convert.ToHexStringLower(mac[..6]);
    }

    /// <summary>User records assigned to each open shard so far (the balancer's view), by shard id.</summary>
    public IReadOnlyDictionary<string, long> GetShardAssignments() =>
        _router.Snapshot.ToDictionary(s => s.ShardId, s => s.AssignedRecords, StringComparer.Ordinal);

    /// <summary>Aggregates re-sent because they were written to another shard than predicted, and the user records in
    /// them (possible duplicates for readers that do not drop such aggregates as the KCL does). Advisory.</summary>
    public (long Aggregates, long Records) WrongShardResends => (_retrier.WrongShardAggregates, _retrier.PossibleDuplicates);

    /// <summary>For tests and diagnostics: the AIMD rate factor of each open shard.</summary>
    internal IReadOnlyDictionary<string, double> RateFactors() =>
        _router.Snapshot.ToDictionary(s => s.ShardId, s => s.Limiter.Factor, StringComparer.Ordinal);

    private long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private TimeSpan ToSpan(long ticks) => TimeSpan.FromSeconds((double)ticks / _time.TimestampFrequency);

    private void Post(object command)
    {
        if (!_inbox.Writer.TryWrite(command) && command is UserRecord r)
        {
            _ledger.FailOffLoop(r, DeliveryFailureReason.ProducerDisposed, "The producer was disposed before the record was written.");
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
            _ledger.InvokeFailureHandler(invalid);
            _metrics.Failures.Add(1, _metrics.StreamTag, new("reason", nameof(DeliveryFailureReason.InvalidRecord)));
            return ValueTask.FromResult(Task.FromException<SendResult>(invalid));
        }
        long gateBytes = data.Length + pkBytes;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(data.Length);
        data.Span.CopyTo(buffer);
        // The produce span lasts from acceptance to durable write (or failure); Activity.Current stays the caller's.
        var previous = Activity.Current;
        var produce = CloudActivitySources.Producer.StartActivity(ActivityNames.Produce, ActivityKind.Producer);
        Activity.Current = previous;
        produce?.SetTag(TelemetryTags.Stream, _options.StreamName);
        var traced = produce?.Context ?? previous?.Context;
        var record = new UserRecord(buffer, data.Length, partitionKey, explicitHashKey, hash, gateBytes)
        {
            PartitionKeyBytes = pkBytes,
            Tags = _options.PropagateTraceContext && _options.AggregationEnabled && traced is { } context && context != default ? KplTraceTags.Create(context) : default,
        };
        if (produce is not null)
        {
            _ = record.Completion.Task.ContinueWith(
                static (t, state) =>
                {
                    var span = (Activity)state!;
                    if (t.IsFaulted)
                    {
                        span.SetStatus(ActivityStatusCode.Error, t.Exception?.InnerException?.GetType().Name);
                    }
                    span.Dispose();
                },
                produce, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
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

    /// <summary>
    /// Flushes every accepted record (each completes as delivered or failed, at the latest when its TTL runs out),
    /// then stops the producer and cancels any call still under way.
    /// </summary>
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
        await _shutdown.CancelAsync().ConfigureAwait(false);
        // Records that raced with disposal and are still in the channel are failed, never dropped.
        while (_inbox.Reader.TryRead(out var leftover))
        {
            if (leftover is UserRecord r)
            {
                _ledger.FailOffLoop(r, DeliveryFailureReason.ProducerDisposed, "The producer was disposed before the record was written.");
            }
        }
        _timer.Dispose();
        _metrics.Dispose();
        _aggregator.Dispose(); // the loop, its only user, has ended
        _shutdown.Dispose();
    }

    /// <summary>For tests: PutRecords requests in flight (read outside the loop; advisory).</summary>
    internal int InFlightRequests => Volatile.Read(ref _inFlightRequests);

    /// <summary>For tests: a ListShards call is under way (advisory).</summary>
    internal bool RefreshingMap => _refreshing;

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
        // Messages name the field and the rule, never the key or the data (they can be personal data).
        RecordDeliveryException Invalid(string field, string problem) => new(
            DeliveryFailureReason.InvalidRecord,
            $"A record for stream '{_options.StreamName}' was rejected: {field} {problem}",
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
                return Invalid("explicitHashKey", "is not a decimal integer between 0 and 2^128-1 without leading zeros.");
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

    // ------------------------------------------------------------------ loop: the order of the stages

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
                            _ledger.Accept(r, _time.GetTimestamp(), _ttlTicks);
                            if (_hotKeys is not null && r.OriginalPartitionKey is { } pk)
                            {
                                _hotKeys.Add(pk);
                            }
                            _router.Unassigned.PushBack(r);
                            break;
                        case BatchResult b:
                            OnBatchResult(b);
                            break;
                        case MapResult m:
                            OnMapResult(m);
                            break;
                        case FlushWaiter f:
                            _ledger.AddFlushWaiter(f);
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
                if (_stopping && _ledger.Outstanding == 0 && _inFlightRequests == 0)
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
            FailEverything(DeliveryFailureReason.ProducerDisposed, "The producer loop stopped unexpectedly: " + ex.Message, ex, null);
            _stopped?.TrySetResult();
            throw;
        }
    }

    private void Pump()
    {
        long now = _time.GetTimestamp();
        EnsureMap(now);
        _router.AssignUnassigned();
        ExpireHeads(now);
        SendReady(now);
        ScheduleWake(now);
    }

    private void ExpireHeads(long now)
    {
        var unassigned = _router.Unassigned;
        while (unassigned.Count > 0 && unassigned.Front.Deadline <= now)
        {
            _ledger.FailExpired(unassigned.PopFront());
        }
        foreach (var s in _router.Shards)
        {
            while (s.Pending.Count > 0 && s.Pending.Front.Deadline <= now)
            {
                _ledger.FailExpired(s.Dequeue());
            }
        }
    }

    private void SendReady(long now)
    {
        bool flushing = _ledger.Flushing || _stopping;
        while (_inFlightRequests < _options.MaxConcurrentRequests && _collector.ShouldSend(_router.Shards, now, flushing))
        {
            var batch = _collector.Build(_router.Shards, now, flushing);
            if (batch.Entries.Count == 0)
            {
                return;
            }
            Dispatch(batch);
        }
    }

    private void Dispatch(Batch batch)
    {
        _inFlightRequests++;
        foreach (var shard in batch.Shards)
        {
            shard.InFlight++;
        }
        long budget = batch.EarliestDeadline - _time.GetTimestamp();
        _ = Task.Run(() => SendBatchAsync(batch, budget));
    }

    private async Task SendBatchAsync(Batch batch, long budgetTicks)
    {
        long started = _time.GetTimestamp();
        // The call may not outlive the earliest deadline it serves: past it the record is TtlExpired, in flight or not.
        using var deadline = new CancellationTokenSource(ToSpan(Math.Max(budgetTicks, _time.TimestampFrequency / 1000)), _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, _shutdown.Token);
        try
        {
            var entries = new List<PutRecordsRequestEntry>(batch.Entries.Count);
            foreach (var p in batch.Entries)
            {
                entries.Add(new PutRecordsRequestEntry { Data = AsStream(p.Data), PartitionKey = p.PartitionKey, ExplicitHashKey = p.ExplicitHashKey });
            }
            using var put = CloudActivitySources.Producer.StartActivity(ActivityNames.PutRecords, ActivityKind.Client);
            put?.SetTag(TelemetryTags.Stream, _options.StreamName);
            put?.SetTag("records", entries.Count);
            var response = await _client.PutRecordsAsync(new PutRecordsRequest { StreamName = _options.StreamName, Records = entries }, linked.Token).ConfigureAwait(false);
            if (response.FailedRecordCount is > 0)
            {
                put?.SetTag(TelemetryTags.Outcome, "partial");
            }
            Post(new BatchResult(batch, response, null, _time.GetTimestamp() - started, false));
        }
        catch (Exception ex)
        {
            Post(new BatchResult(batch, null, ex, _time.GetTimestamp() - started, deadline.IsCancellationRequested && ex is OperationCanceledException));
        }
    }

    private static MemoryStream AsStream(ReadOnlyMemory<byte> data) =>
        MemoryMarshal.TryGetArray(data, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false, publiclyVisible: true)
            : new MemoryStream(data.ToArray(), writable: false);

    private void OnBatchResult(BatchResult result)
    {
        var batch = result.Batch;
        _inFlightRequests--;
        foreach (var shard in batch.Shards)
        {
            shard.InFlight--;
        }
        _metrics.RequestDuration.Record(result.ElapsedTicks * 1000.0 / _time.TimestampFrequency, _metrics.StreamTag);
        var resend = _retrier.Settle(result, _time.GetTimestamp());
        if (resend is null)
        {
            foreach (var p in batch.Entries)
            {
                p.ReturnBuffer();
            }
            return;
        }
        foreach (var single in resend)
        {
            Dispatch(single);
        }
    }

    // ------------------------------------------------------------------ shard map I/O

    private void EnsureMap(long now)
    {
        if (!_router.Stale || _router.Refreshing || now < _router.RefreshNotBefore)
        {
            return;
        }
        if (!_router.HaveMap && _router.Unassigned.Count == 0)
        {
            return; // nothing to send yet: don't call ListShards for an idle producer
        }
        _router.Refreshing = true;
        _refreshing = true;
        _ = Task.Run(LoadMapAsync);
    }

    private async Task LoadMapAsync()
    {
        var limit = _options.RecordTtl < MapCallLimit ? _options.RecordTtl : MapCallLimit;
        using var deadline = new CancellationTokenSource(limit, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, _shutdown.Token);
        try
        {
            Post(new MapResult(await _client.GetShardMapAsync(_options.StreamName, linked.Token).ConfigureAwait(false), null));
        }
        catch (Exception ex)
        {
            Post(new MapResult(null, ex));
        }
    }

    private void OnMapResult(MapResult m)
    {
        _router.Refreshing = false;
        _refreshing = false;
        long now = _time.GetTimestamp();
        if (m.Map is null)
        {
            _router.RefreshFailures++;
            _router.RefreshNotBefore = now + ToTicks(_retrier.Backoff(_router.RefreshFailures));
            var error = KinesisErrors.Classify(m.Error!);
            if (error.Cause == KinesisErrorCause.NotFound)
            {
                _logger.LogWarning("Stream {Stream} not found; failing buffered records", _options.StreamName);
                _router.Drop();
                FailEverything(DeliveryFailureReason.StreamNotFound, $"Stream '{_options.StreamName}' does not exist: {error.Code}.", m.Error, error.Code);
            }
            else if (error.IsPermanent)
            {
                _logger.LogError("ListShards for stream {Stream} was refused ({Cause}: {Code}); failing buffered records", _options.StreamName, error.Cause, error.Code);
                FailEverything(DeliveryFailureReason.Rejected, $"Kinesis refused ListShards for stream '{_options.StreamName}' ({error.Cause}): {error.Code}.", m.Error, error.Code);
            }
            else
            {
                _logger.LogWarning("ListShards for stream {Stream} failed ({Code}); will retry", _options.StreamName, error.Code);
                foreach (var r in _router.Held())
                {
                    r.LastError = m.Error;
                    r.LastErrorCode = error.Code;
                }
            }
            return;
        }
        _router.RefreshNotBefore = now + _time.TimestampFrequency; // at most one refresh per second
        int moved = _router.Reconcile(m.Map, now);
        if (moved > 0)
        {
            _logger.LogInformation("Shard map of {Stream} changed; re-routing {Count} buffered records", _options.StreamName, moved);
        }
    }

    private void FailEverything(DeliveryFailureReason reason, string message, Exception? error, string? code)
    {
        foreach (var r in _router.TakeAll())
        {
            _ledger.Fail(r, reason, message, code ?? r.LastErrorCode, error);
        }
    }

    // ------------------------------------------------------------------ timer

    private void ScheduleWake(long now)
    {
        long next = long.MaxValue;
        var unassigned = _router.Unassigned;
        if (unassigned.Count > 0)
        {
            next = Math.Min(next, unassigned.Front.Deadline);
        }
        if (_router.Stale && !_router.Refreshing && (unassigned.Count > 0 || _router.HaveMap))
        {
            next = Math.Min(next, _router.RefreshNotBefore);
        }
        foreach (var s in _router.Shards)
        {
            if (s.Pending.Count == 0)
            {
                continue;
            }
            var head = s.Pending.Front;
            next = Math.Min(next, head.Deadline);
            if (s.AwaitingMap)
            {
                continue; // the map refresh wakes the loop
            }
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
        _timer.Change(ToSpan(next - now), Timeout.InfiniteTimeSpan);
    }

    // ------------------------------------------------------------------ metrics callbacks

    private IEnumerable<Measurement<double>> ObserveRateFactors()
    {
        foreach (var s in _router.Snapshot)
        {
            yield return new Measurement<double>(s.Limiter.Factor, _metrics.StreamTag, new("shard", s.ShardId));
        }
    }

    private IEnumerable<Measurement<long>> ObserveHotKeys()
    {
        // Ranks only: a partition key is often a user id, and metric backends keep tags forever.
        int rank = 0;
        foreach (var key in _hotKeys?.Top(_options.HotKeyCount) ?? [])
        {
            yield return new Measurement<long>(key.Count, _metrics.StreamTag, new("rank", ++rank));
        }
    }

    // ------------------------------------------------------------------ loop messages

    private sealed record MapResult(ShardMap? Map, Exception? Error);

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
