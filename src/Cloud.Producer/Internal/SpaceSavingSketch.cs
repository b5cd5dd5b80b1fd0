namespace Cloud.Producer.Internal;

/// <summary>
/// Space-Saving top-K sketch (Metwally et al. 2005): at most <c>capacity</c> counters; an unseen key replaces the
/// smallest counter and inherits its count (+1), so any key with true frequency above N/capacity is kept and its
/// count is over-estimated by at most the recorded <see cref="HotKey.Error"/>.
/// </summary>
/// <remarks>Memory is bounded by the capacity whatever the number of distinct keys. Thread-safe.</remarks>
internal sealed class SpaceSavingSketch
{
    private readonly int _capacity;
    private readonly Dictionary<string, Counter> _counters;
    private readonly Lock _gate = new();

    private sealed class Counter(string key, long count, long error)
    {
        public string Key = key;
        public long Count = count;
        public long Error = error;
    }

    public SpaceSavingSketch(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _counters = new Dictionary<string, Counter>(capacity, StringComparer.Ordinal);
    }

    public long Total { get; private set; }

    public void Add(string key)
    {
        lock (_gate)
        {
            Total++;
            if (_counters.TryGetValue(key, out var counter))
            {
                counter.Count++;
                return;
            }
            if (_counters.Count < _capacity)
            {
                _counters.Add(key, new Counter(key, 1, 0));
                return;
            }
            // Linear scan for the minimum keeps the structure tiny; capacity is small (tens to hundreds).
            Counter min = null!;
            foreach (var c in _counters.Values)
            {
                if (min is null || c.Count < min.Count)
                {
                    min = c;
                }
            }
            _counters.Remove(min.Key);
            long floor = min.Count;
            min.Key = key;
            min.Error = floor;
            min.Count = floor + 1;
            _counters.Add(key, min);
        }
    }

    /// <summary>The <paramref name="k"/> largest counters, largest first.</summary>
    public IReadOnlyList<HotKey> Top(int k)
    {
        lock (_gate)
        {
            return [.. _counters.Values
                .OrderByDescending(c => c.Count)
                .ThenBy(c => c.Key, StringComparer.Ordinal)
                .Take(k)
                .Select(c => new HotKey(c.Key, c.Count, c.Error))];
        }
    }
}
