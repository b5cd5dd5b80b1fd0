using Cloud.Consumer.Events;
using Microsoft.Extensions.Logging;

namespace Cloud.EventSourceMapping.Runner;

/// <summary>
/// Discards records as Lambda does: one on-failure record (batch info, not the data) to the destination, retried
/// until it is accepted, then the checkpoint moves past them. Not thread-safe: one shard worker uses it.
/// </summary>
internal sealed class OnFailureSender
{
    private readonly EventSourceMappingOptions _options;
    private readonly EventSource _source;
    private readonly CheckpointWriter _checkpoint;
    private readonly MappingCounters _counters;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public OnFailureSender(EventSourceMappingOptions options, EventSource source, CheckpointWriter checkpoint, MappingCounters counters, TimeProvider time, ILogger logger)
    {
        _options = options;
        _source = source;
        _checkpoint = checkpoint;
        _counters = counters;
        _time = time;
        _logger = logger;
    }

    /// <summary>Sends the on-failure record for <paramref name="info"/> (when a destination is set) and counts it.</summary>
    public async Task SendAsync(KinesisBatchInfo info, string condition, int invokeCount, FunctionResponse? last, CancellationToken cancellationToken)
    {
        var record = new OnFailureRecord
        {
            RequestId = Guid.NewGuid().ToString(),
            FunctionArn = _options.FunctionArn,
            Condition = condition,
            ApproximateInvokeCount = invokeCount,
            StatusCode = invokeCount > 0 ? 200 : null,
            FunctionError = last?.FunctionError == true ? "Unhandled" : null,
            Timestamp = _time.GetUtcNow(),
            KinesisBatchInfo = info,
        };
        _logger.LogError("Shard {ShardId}: discarding {Count} record(s) {First}..{Last} ({Condition}, {Invokes} invoke(s)); last error: {Error}",
            info.ShardId, info.BatchSize, info.StartSequenceNumber, info.EndSequenceNumber, condition, invokeCount, last?.Error ?? "none");
        if (_options.OnFailureDestination is { } destination)
        {
            await CheckpointWriter.RetryAsync("send an on-failure record", () => destination.SendAsync(record, cancellationToken), info.ShardId, _time, _logger, cancellationToken).ConfigureAwait(false);
            _counters.OnFailureSent();
        }
        _counters.Discarded(info.BatchSize);
    }

    /// <summary>Discards <paramref name="records"/> and checkpoints past them.</summary>
    public async Task DiscardAsync(IReadOnlyList<StreamRecord> records, string condition, int invokeCount, FunctionResponse? last, TumblingWindow window, CancellationToken cancellationToken)
    {
        await SendAsync(Describe(records), condition, invokeCount, last, cancellationToken).ConfigureAwait(false);
        await _checkpoint.AdvanceAsync(records[^1].SequenceNumber, window, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The batch info of consecutive records of this shard.</summary>
    public KinesisBatchInfo Describe(IReadOnlyList<StreamRecord> records) => Describe(records[0], records[^1], records.Count);

    /// <summary>The batch info of a run of records given by its ends.</summary>
    public KinesisBatchInfo Describe(StreamRecord first, StreamRecord last, int count) => new()
    {
        ShardId = _source.ShardId,
        StartSequenceNumber = first.SequenceNumber,
        EndSequenceNumber = last.SequenceNumber,
        ApproximateArrivalOfFirstRecord = first.ApproximateArrivalTimestamp,
        ApproximateArrivalOfLastRecord = last.ApproximateArrivalTimestamp,
        BatchSize = count,
        StreamArn = _source.StreamArn,
    };
}
