namespace Cloud.EventSourceMapping.Runner;

/// <summary>
/// Buffers what the shard reader gave and cuts batches as Lambda does: up to BatchSize records, at most 6 MB of
/// event JSON, and (with tumbling windows) records of one window only; a batch is ready when full, when the
/// batching window has passed since its first record, or when the shard ended. Not thread-safe.
/// </summary>
/// <remarks>https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html ("Polling and batching streams").</remarks>
internal sealed class BatchAssembler
{
    /// <summary>Lambda's invocation payload limit (6 MB).</summary>
    internal const long MaxPayloadBytes = 6L * 1024 * 1024;

    /// <summary>Room kept in a payload for the event's envelope and the window part.</summary>
    private const long EnvelopeBytes = 1024;

    private readonly List<StreamRecord> _buffer = [];
    private readonly int _batchSize;
    private readonly TimeSpan _batchingWindow;
    private readonly TumblingWindow _window;
    private DateTimeOffset? _gatherStart;

    public BatchAssembler(EventSourceMappingOptions options, TumblingWindow window)
    {
        _batchSize = options.BatchSize;
        _batchingWindow = TimeSpan.FromSeconds(options.MaximumBatchingWindowInSeconds);
        _window = window;
    }

    /// <summary>Records buffered.</summary>
    public int Count => _buffer.Count;

    /// <summary>Whether another read may add records (the buffer holds less than one batch).</summary>
    public bool WantsMore => _buffer.Count < _batchSize;

    /// <summary>The oldest buffered record, or null.</summary>
    public StreamRecord? Oldest => _buffer.Count > 0 ? _buffer[0] : null;

    /// <summary>Appends records read from the shard.</summary>
    public void Add(IReadOnlyList<StreamRecord> records, DateTimeOffset now)
    {
        if (records.Count > 0)
        {
            _gatherStart ??= now;
            _buffer.AddRange(records);
        }
    }

    /// <summary>Whether a batch should be invoked now.</summary>
    public bool IsReady(DateTimeOffset now, bool ended) =>
        _buffer.Count > 0
        && (ended
            || _buffer.Count >= _batchSize
            || now - (_gatherStart ?? now) >= _batchingWindow
            || (_window.Enabled && _window.WindowOf(_buffer[^1]) != _window.WindowOf(_buffer[0]))
            || BufferedBytes() >= MaxPayloadBytes);

    /// <summary>How long until the batching window of the buffered records is over.</summary>
    public TimeSpan TimeLeft(DateTimeOffset now) => _gatherStart is { } start ? _batchingWindow - (now - start) : _batchingWindow;

    /// <summary>
    /// The leading record when the event that carries it alone (window part included) is over the payload limit: no
    /// invoke can deliver it. <paramref name="exactEventSize"/> measures that event; it is only called for records
    /// whose estimate is over the limit.
    /// </summary>
    public StreamRecord? TakeOversized(Func<StreamRecord, long> exactEventSize)
    {
        if (_buffer.Count == 0 || Limit() >= KinesisEventWriter.EstimateSize(_buffer[0]) || exactEventSize(_buffer[0]) <= MaxPayloadBytes)
        {
            return null;
        }
        var record = _buffer[0];
        _buffer.RemoveAt(0);
        if (_buffer.Count == 0)
        {
            _gatherStart = null;
        }
        return record;
    }

    /// <summary>The next batch (the records stay buffered until <see cref="RemoveFirst"/>).</summary>
    public List<StreamRecord> NextBatch()
    {
        long limit = Limit();
        var batch = new List<StreamRecord>(Math.Min(_buffer.Count, _batchSize));
        long size = 0;
        foreach (var record in _buffer)
        {
            if (batch.Count >= _batchSize || (_window.Enabled && _window.WindowOf(record) != _window.WindowOf(_buffer[0])))
            {
                break;
            }
            var recordSize = KinesisEventWriter.EstimateSize(record);
            if (batch.Count > 0 && size + recordSize > limit)
            {
                break;
            }
            batch.Add(record);
            size += recordSize;
        }
        return batch;
    }

    /// <summary>Drops the first <paramref name="count"/> records (done); the batching window restarts for the rest.</summary>
    public void RemoveFirst(int count, DateTimeOffset now)
    {
        _buffer.RemoveRange(0, count);
        _gatherStart = _buffer.Count > 0 ? now : null;
    }

    private long Limit() => MaxPayloadBytes - EnvelopeBytes - (_window.Enabled ? _window.StateBytes : 0);

    private long BufferedBytes()
    {
        long total = 0;
        foreach (var record in _buffer)
        {
            total += KinesisEventWriter.EstimateSize(record);
        }
        return total;
    }
}
