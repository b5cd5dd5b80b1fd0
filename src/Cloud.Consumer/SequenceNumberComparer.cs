namespace Cloud.Consumer;

/// <summary>Orders Kinesis sequence numbers (decimal strings of up to 128 digits) numerically.</summary>
public sealed class SequenceNumberComparer : IComparer<string>
{
    /// <summary>The shared instance.</summary>
    public static SequenceNumberComparer Instance { get; } = new();

    /// <inheritdoc />
    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        ReadOnlySpan<char> a = x.AsSpan().TrimStart('0');
        ReadOnlySpan<char> b = y.AsSpan().TrimStart('0');
        int byLength = a.Length.CompareTo(b.Length);
        return byLength != 0 ? byLength : a.SequenceCompareTo(b);
    }
}
