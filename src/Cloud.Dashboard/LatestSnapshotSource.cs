namespace Cloud.Dashboard;

/// <summary>
/// The simplest <see cref="IDashboardSource"/>: holds the latest snapshot a sampler published. The pipeline's
/// stats sampler calls <see cref="Publish"/> once per tick (a reference swap, never blocking the pipeline) and the
/// dashboard reads it. Thread-safe.
/// </summary>
public sealed class LatestSnapshotSource : IDashboardSource
{
    private DashboardSnapshot _latest;

    /// <summary>Starts with <paramref name="initial"/> (shown until the first sample).</summary>
    public LatestSnapshotSource(DashboardSnapshot initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        _latest = initial;
    }

    /// <summary>Makes <paramref name="snapshot"/> the one the dashboard shows next.</summary>
    public void Publish(DashboardSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        Volatile.Write(ref _latest, snapshot);
    }

    /// <inheritdoc />
    public ValueTask<DashboardSnapshot> GetSnapshotAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(Volatile.Read(ref _latest));
}
