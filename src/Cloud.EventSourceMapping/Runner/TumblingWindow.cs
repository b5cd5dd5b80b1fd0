using System.Text;

namespace Cloud.EventSourceMapping.Runner;

/// <summary>
/// One shard's tumbling window: which window is open, the state the function returned, and which records it has
/// taken (for the on-failure record when its final invoke can never succeed). Windows follow arrival time, aligned
/// to multiples of the window length. Inert when the mapping has no tumbling window. Not thread-safe.
/// </summary>
internal sealed class TumblingWindow
{
    /// <summary>Tumbling window state limit per shard (1 MB); above it the window ends early.</summary>
    internal const int MaxStateBytes = 1024 * 1024;

    private const string EmptyState = "{}";

    private readonly long _lengthMs;

    public TumblingWindow(int seconds, ShardCheckpoint? checkpoint)
    {
        _lengthMs = seconds * 1000L;
        if (Enabled && checkpoint?.WindowStart is { } start)
        {
            Start = start;
            State = checkpoint.WindowState ?? EmptyState;
        }
    }

    /// <summary>Whether the mapping uses tumbling windows.</summary>
    public bool Enabled => _lengthMs > 0;

    /// <summary>Start of the open window, or null.</summary>
    public DateTimeOffset? Start { get; private set; }

    /// <summary>End of the open window (exclusive).</summary>
    public DateTimeOffset End => Start!.Value.AddMilliseconds(_lengthMs);

    /// <summary>The state the last successful invoke returned (<c>{}</c> at the start of a window).</summary>
    public string State { get; private set; } = EmptyState;

    /// <summary>UTF-8 size of <see cref="State"/>.</summary>
    public int StateBytes => Encoding.UTF8.GetByteCount(State);

    /// <summary>First and last record the open window took, and how many (null after a restart from a checkpoint).</summary>
    public (StreamRecord First, StreamRecord Last, int Count)? Taken { get; private set; }

    /// <summary>The window a record belongs to (by arrival time).</summary>
    public long WindowOf(StreamRecord record) => record.ApproximateArrivalTimestamp.ToUnixTimeMilliseconds() / _lengthMs * _lengthMs;

    /// <summary>Whether the open window is over at <paramref name="now"/>.</summary>
    public bool IsOverAt(DateTimeOffset now) => Start is not null && now >= End;

    /// <summary>Opens the window of <paramref name="record"/> when none is open.</summary>
    public void OpenFor(StreamRecord record) => Start ??= DateTimeOffset.FromUnixTimeMilliseconds(WindowOf(record));

    /// <summary>The event's window part for an invoke.</summary>
    public WindowContext Context(bool final, bool terminatedEarly) => new(Start!.Value, End, State, final, terminatedEarly);

    /// <summary>Records <paramref name="records"/> as done in this window, with the state the function returned.</summary>
    public void Commit(IReadOnlyList<StreamRecord> records, string? state)
    {
        if (!Enabled || records.Count == 0)
        {
            return;
        }
        if (state is not null)
        {
            State = state;
        }
        Taken = Taken is { } t ? (t.First, records[^1], t.Count + records.Count) : (records[0], records[^1], records.Count);
    }

    /// <summary>Closes the window: the next record opens a fresh one with empty state.</summary>
    public void Reset()
    {
        Start = null;
        State = EmptyState;
        Taken = null;
    }
}
