using Cloud.EventSourceMapping.Runner;
using Microsoft.Extensions.Logging;

namespace Cloud.EventSourceMapping;

/// <summary>What every shard worker of one mapping shares.</summary>
/// <param name="Options">The validated mapping options.</param>
/// <param name="Function">The handler.</param>
/// <param name="Checkpoints">The checkpoint store.</param>
/// <param name="Counters">The mapping's counters.</param>
/// <param name="PublishLag">Where a worker reports its shard's lag.</param>
/// <param name="Time">The clock.</param>
/// <param name="Logger">The logger.</param>
internal sealed record MappingContext(
    EventSourceMappingOptions Options,
    FunctionInvoker Function,
    ICheckpointStore Checkpoints,
    MappingCounters Counters,
    Action<ShardLag> PublishLag,
    TimeProvider Time,
    ILogger Logger);

/// <summary>
/// One shard's loop: read (through an <see cref="IShardReader"/>), assemble batches, run them through the
/// <see cref="BatchInvoker"/>, close windows, and finish the shard when it is closed and done. The stages own their
/// state; this loop owns the order.
/// </summary>
internal sealed class ShardWorker
{
    private readonly MappingContext _mapping;
    private readonly EventSource _source;
    private readonly IShardReader _reader;
    private readonly TumblingWindow _window;
    private readonly BatchAssembler _batches;
    private readonly CheckpointWriter _checkpoint;
    private readonly OnFailureSender _onFailure;
    private readonly BatchInvoker _invoker;
    private long? _millisBehind;
    private DateTimeOffset? _lastReadAt;
    private bool _ended;

    public ShardWorker(MappingContext mapping, EventSource source, IShardReader reader, string mappingId, ShardCheckpoint? checkpoint)
    {
        _mapping = mapping;
        _source = source;
        _reader = reader;
        var options = mapping.Options;
        _window = new TumblingWindow(options.TumblingWindowInSeconds, checkpoint);
        _batches = new BatchAssembler(options, _window);
        _checkpoint = new CheckpointWriter(mapping.Checkpoints, mappingId, source.ShardId, checkpoint?.SequenceNumber, mapping.Time, mapping.Logger);
        _onFailure = new OnFailureSender(options, source, _checkpoint, mapping.Counters, mapping.Time, mapping.Logger);
        _invoker = new BatchInvoker(mapping.Function, options, source, _window, _checkpoint, _onFailure, mapping.Counters, mapping.Time, mapping.Logger, () => PublishLag());
    }

    private string ShardId => _source.ShardId;

    private TimeProvider Time => _mapping.Time;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        await using var reader = _reader.ConfigureAwait(false);
        var options = _mapping.Options;
        PublishLag();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var caughtUp = false;
            if (!_ended && _batches.WantsMore)
            {
                var read = await _reader.ReadAsync(options.BatchSize, cancellationToken).ConfigureAwait(false);
                if (read.Records.Count > 0 || read.MillisBehindLatest is not null)
                {
                    _lastReadAt = Time.GetUtcNow();
                    _millisBehind = read.MillisBehindLatest;
                }
                _batches.Add(read.Records, Time.GetUtcNow());
                caughtUp = read.CaughtUp;
                _ended = read.Ended;
            }
            var now = Time.GetUtcNow();

            // A record no invoke can carry goes to the on-failure destination, as Lambda cannot deliver it either.
            if (_batches.TakeOversized(r => KinesisEventWriter.ToUtf8Bytes(_source, [r], _window.Enabled ? _window.Context(false, false) : null).LongLength) is { } oversized)
            {
                await _onFailure.DiscardAsync([oversized], OnFailureCondition.PayloadSizeExceeded, 0, null, _window, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (_batches.Count == 0)
            {
                if (_ended)
                {
                    // A closed shard is done: a resharding closes its window, then the children may start.
                    if (_window.Start is not null)
                    {
                        await _invoker.CloseWindowAsync(terminatedEarly: false, cancellationToken).ConfigureAwait(false);
                    }
                    await _checkpoint.SaveAsync(_window, finished: true, cancellationToken).ConfigureAwait(false);
                    _mapping.Logger.LogInformation("Shard {ShardId} is closed and fully processed", ShardId);
                    PublishLag(finished: true);
                    return;
                }
                if (caughtUp && _window.IsOverAt(now))
                {
                    await _invoker.CloseWindowAsync(terminatedEarly: false, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                PublishLag();
                if (caughtUp)
                {
                    await _reader.WaitAsync(options.PollInterval, cancellationToken).ConfigureAwait(false);
                }
                continue;
            }

            if (!_batches.IsReady(now, _ended))
            {
                PublishLag();
                if (caughtUp)
                {
                    var wait = _batches.TimeLeft(now);
                    await _reader.WaitAsync(wait < options.PollInterval ? wait : options.PollInterval, cancellationToken).ConfigureAwait(false);
                }
                continue;
            }

            if (_window.Enabled)
            {
                var first = _batches.Oldest!;
                if (_window.Start is { } open && open.ToUnixTimeMilliseconds() != _window.WindowOf(first))
                {
                    await _invoker.CloseWindowAsync(terminatedEarly: false, cancellationToken).ConfigureAwait(false);
                }
                _window.OpenFor(first);
            }
            var batch = _batches.NextBatch();
            await _invoker.ProcessAsync(batch, cancellationToken).ConfigureAwait(false);
            _batches.RemoveFirst(batch.Count, Time.GetUtcNow());
            PublishLag();
        }
    }

    private void PublishLag(bool finished = false)
    {
        long? behind = _millisBehind;
        if (_batches.Oldest is { } oldestRecord)
        {
            var oldest = (long)(Time.GetUtcNow() - oldestRecord.ApproximateArrivalTimestamp).TotalMilliseconds;
            behind = Math.Max(behind ?? 0, Math.Max(0, oldest));
        }
        _mapping.PublishLag(new ShardLag
        {
            ShardId = ShardId,
            CheckpointSequenceNumber = _checkpoint.SequenceNumber,
            MillisBehindLatest = finished ? 0 : behind,
            RecordsBehind = finished ? 0 : (_ended || _millisBehind == 0 ? _batches.Count : null),
            BufferedRecords = _batches.Count,
            Finished = finished,
            LastReadAt = _lastReadAt,
        });
    }
}
