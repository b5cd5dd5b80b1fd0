namespace Cloud.Dashboard;

/// <summary>
/// What the pipeline implements to feed the web dashboard: its stats sampler's latest snapshot. Called once per
/// interval per open page, from thread-pool threads, concurrently with the pipeline: return the last sample,
/// do not compute or call AWS here (the dashboard must not slow the pipeline).
/// </summary>
public interface IDashboardSource
{
    /// <summary>The latest snapshot.</summary>
    ValueTask<DashboardSnapshot> GetSnapshotAsync(CancellationToken cancellationToken);
}
