namespace Cloud.Functions.Aggregator;

/// <summary>Statistics of one numeric field for one key.</summary>
public struct FieldStats : IEquatable<FieldStats>
{
    /// <summary>Sum of the values.</summary>
    public decimal Sum { get; set; }

    /// <summary>Smallest value (undefined when <see cref="Count"/> is 0).</summary>
    public decimal Min { get; set; }

    /// <summary>Largest value (undefined when <see cref="Count"/> is 0).</summary>
    public decimal Max { get; set; }

    /// <summary>How many events carried the field as a number.</summary>
    public long Count { get; set; }

    /// <summary>Adds one value.</summary>
    public void Add(decimal value)
    {
        if (Count == 0)
        {
            Min = value;
            Max = value;
        }
        else
        {
            Min = Math.Min(Min, value);
            Max = Math.Max(Max, value);
        }

        Sum += value;
        Count++;
    }

    /// <summary>Merges another field's statistics into this one.</summary>
    public void Merge(FieldStats other)
    {
        if (other.Count == 0)
        {
            return;
        }

        if (Count == 0)
        {
            this = other;
            return;
        }

        Sum += other.Sum;
        Min = Math.Min(Min, other.Min);
        Max = Math.Max(Max, other.Max);
        Count += other.Count;
    }

    /// <inheritdoc />
    public readonly bool Equals(FieldStats other) =>
        Count == other.Count && Sum == other.Sum && (Count == 0 || (Min == other.Min && Max == other.Max));

    /// <inheritdoc />
    public override readonly bool Equals(object? obj) => obj is FieldStats f && Equals(f);

    /// <inheritdoc />
    public override readonly int GetHashCode() => HashCode.Combine(Sum, Count);

    /// <summary>Equality.</summary>
    public static bool operator ==(FieldStats left, FieldStats right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(FieldStats left, FieldStats right) => !left.Equals(right);
}

/// <summary>One tracked category of the top-K summary (Space-Saving: <see cref="Count"/> over-estimates by at most <see cref="Error"/>).</summary>
public sealed record TopEntry(string Category, long Count, long Error);

/// <summary>The aggregate of one key within one window segment: count, per-field stats, top-K summary.</summary>
public sealed class KeyAggregate
{
    // Mutable slots, so counting a category allocates nothing; Top hands out immutable TopEntry copies.
    private readonly List<TopSlot> _top = [];

    /// <summary>Creates an empty aggregate for <paramref name="fieldCount"/> numeric fields.</summary>
    public KeyAggregate(int fieldCount) => Fields = new FieldStats[fieldCount];

    /// <summary>Events counted for the key.</summary>
    public long Count { get; set; }

    /// <summary>Per numeric field, in <see cref="AggregatorConfig.SumFields"/> order.</summary>
    public FieldStats[] Fields { get; }

    /// <summary>Tracked categories (at most the capacity), unordered (a copy).</summary>
    public IReadOnlyList<TopEntry> Top => _top.ConvertAll(t => new TopEntry(t.Category, t.Count, t.Error));

    /// <summary>True once a tracked category was evicted: top counts are then estimates.</summary>
    public bool TopIsApproximate { get; private set; }

    /// <summary>Cached length of the encoded state value (maintained by <see cref="WindowState"/>).</summary>
    internal int EncodedLength { get; set; }

    /// <summary>Length of the <c>"k:&lt;key&gt;":"",</c> part of the key's state entry (maintained by <see cref="WindowState"/>).</summary>
    internal int EntryOverhead { get; set; }

    /// <summary>Counts <paramref name="category"/> with the Space-Saving algorithm (deterministic).</summary>
    public void AddCategory(string category, int capacity)
    {
        ArgumentNullException.ThrowIfNull(category);
        for (int i = 0; i < _top.Count; i++)
        {
            TopSlot slot = _top[i];
            if (ReferenceEquals(slot.Category, category) || string.Equals(slot.Category, category, StringComparison.Ordinal))
            {
                slot.Count++;
                return;
            }
        }

        if (_top.Count < capacity)
        {
            _top.Add(new TopSlot(category, 1, 0));
            return;
        }

        int min = 0;
        for (int i = 1; i < _top.Count; i++)
        {
            if (_top[i].Count < _top[min].Count || (_top[i].Count == _top[min].Count && string.CompareOrdinal(_top[i].Category, _top[min].Category) > 0))
            {
                min = i;
            }
        }

        long floor = _top[min].Count;
        _top[min] = new TopSlot(category, floor + 1, floor);
        TopIsApproximate = true;
    }

    /// <summary>Top entries by count (descending), ties by category (ordinal).</summary>
    public IEnumerable<TopEntry> RankedTop() =>
        Top.OrderByDescending(e => e.Count).ThenBy(e => e.Category, StringComparer.Ordinal);

    internal void RestoreTop(TopEntry entry) => _top.Add(new TopSlot(entry.Category, entry.Count, entry.Error));

    internal void MarkApproximate() => TopIsApproximate = true;

    /// <summary>Length of <see cref="Encode"/>'s output, computed without building it.</summary>
    internal int MeasureEncoded(bool withTop)
    {
        int length = Digits(Count);
        foreach (FieldStats f in Fields)
        {
            length++;
            if (f.Count > 0)
            {
                length += DecimalText.Length(f.Sum) + DecimalText.Length(f.Min) + DecimalText.Length(f.Max) + Digits(f.Count) + 3;
            }
        }

        if (withTop)
        {
            length += 1 + (TopIsApproximate ? 1 : 0) + Math.Max(0, _top.Count - 1);
            foreach (TopSlot e in _top)
            {
                length += e.EscapedLength + Digits(e.Count) + Digits(e.Error) + 2;
            }
        }

        return length;
    }

    private static int Digits(long n)
    {
        // Counts and errors are never negative.
        int digits = 1;
        while (n >= 10)
        {
            n /= 10;
            digits++;
        }

        return digits;
    }

    /// <summary>Appends the compact state encoding, <c>count|sum,min,max,n|…|cat:count:error,…</c>, to <paramref name="text"/> (numbers formatted in place).</summary>
    internal void Encode(CharBuffer text, bool withTop)
    {
        text.Append(Count);
        foreach (FieldStats f in Fields)
        {
            text.Append('|');
            if (f.Count > 0)
            {
                text.Append(f.Sum);
                text.Append(',');
                text.Append(f.Min);
                text.Append(',');
                text.Append(f.Max);
                text.Append(',');
                text.Append(f.Count);
            }
        }

        if (withTop)
        {
            text.Append('|');
            if (TopIsApproximate)
            {
                text.Append('~');
            }

            for (int i = 0; i < _top.Count; i++)
            {
                if (i > 0)
                {
                    text.Append(',');
                }

                text.AppendEscaped(_top[i].Category);
                text.Append(':');
                text.Append(_top[i].Count);
                text.Append(':');
                text.Append(_top[i].Error);
            }
        }
    }

    /// <summary>One tracked category; its escaped length is computed once.</summary>
    private sealed class TopSlot(string category, long count, long error)
    {
        public string Category { get; } = category;

        public long Count { get; set; } = count;

        public long Error { get; } = error;

        public int EscapedLength { get; } = StateText.EscapedLength(category);
    }
}
