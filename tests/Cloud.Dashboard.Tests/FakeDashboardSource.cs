namespace Cloud.Dashboard.Tests;

/// <summary>Emits a new, distinguishable snapshot per call, like a running pipeline's sampler.</summary>
internal sealed class FakeDashboardSource(Func<int, Exception?>? failOn = null) : IDashboardSource
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public ValueTask<DashboardSnapshot> GetSnapshotAsync(CancellationToken cancellationToken)
    {
        int n = Interlocked.Increment(ref _calls);
        if (failOn?.Invoke(n) is { } ex)
        {
            throw ex;
        }
        return ValueTask.FromResult(Make(n));
    }

    public static DashboardSnapshot Make(int n) => new()
    {
        Timestamp = new DateTimeOffset(2026, 12, 7, 3, 0, 0, TimeSpan.Zero).AddSeconds(n),
        Stream = "clickstream",
        RecordsInPerSecond = 1000 + 10 * n + 200 * Math.Sin(n / 3.0),
        RecordsOutPerSecond = 950 + 10 * n + 150 * Math.Sin((n - 2) / 3.0),
        ThrottlesPerSecond = n % 7 == 0 ? 12 : 1,
        RetriesPerSecond = n % 7 == 0 ? 12 : 0.5,
        Shards =
        [
            new("shardId-000000000000", 520 + n % 5 * 10, 200 + n % 3 * 50),
            new("shardId-000000000001", 480 + n % 4 * 10, 150),
            new("shardId-000000000002", 300, 900 - n % 6 * 40),
        ],
        Windows = new DashboardTable(
            ["window", "events", "sum", "avg"],
            [
                ["03:00:00–03:01:00", (1200 + n).ToString(System.Globalization.CultureInfo.InvariantCulture), "84210", "70.2"],
                ["03:01:00–03:02:00", (600 + n).ToString(System.Globalization.CultureInfo.InvariantCulture), "41877", "69.8"],
            ]),
        Forget = n < 5 ? new DashboardForget("idle", null) : new DashboardForget("forgotten", "the demo user's key was deleted: 37 records are now unreadable"),
        Schema = new DashboardSchema("clickstream.v1", "json", "{ \"type\": \"object\", \"properties\": { \"page\": {}, \"amount\": {} } }"),
        Status = $"running · sample {n}",
    };
}
