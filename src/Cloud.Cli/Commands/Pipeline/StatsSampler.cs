using System.Diagnostics;
using System.Globalization;
using System.Text;
using Amazon.DynamoDBv2.Model;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Cli.Infrastructure;
using Cloud.Dashboard;
using Cloud.Emulators.Limits;
using Cloud.Privacy;
using Cloud.Records;
using Cloud.Schemas;

namespace Cloud.Cli.Commands.Pipeline;

/// <summary>
/// Reads the pipeline's counters, the mappings' statistics and lag, and the latest window aggregates once per tick
/// into ONE <see cref="DashboardSnapshot"/> that every view renders (terminal, JSON, web). Also drives the forget demo
/// (half-way through <c>--duration</c>). Ticks are sequential: one caller at a time.
/// </summary>
internal sealed class StatsSampler
{
    /// <summary>Rates are averages over this much of the recent run.</summary>
    private static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(5);

    private readonly PipelineSettings _settings;
    private readonly PipelineCounters _state;
    private readonly PipelineMappings _mappings;
    private readonly PrivacyRuntime _privacy;
    private readonly CloudConnection _connection;
    private readonly string _aggregatesTable;
    private readonly string _demoUser;
    private readonly KinesisThroughputLimits? _limits;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    // The producer makes records durable in bursts (one PutRecords per shard and linger), so a per-tick difference
    // jumps between 0 and several times the real rate: rates are averages over the last RateWindow of ticks.
    private readonly Queue<(TimeSpan At, long Durable, long Processed, long Throttled, Dictionary<string, long> PerShard)> _samples = new();
    private bool _forgotten;

    public StatsSampler(PipelineSettings settings, PipelineCounters state, PipelineMappings mappings, PrivacyRuntime privacy, CloudConnection connection, string aggregatesTable, string demoUser, KinesisThroughputLimits? limits = null)
    {
        _limits = limits;
        _settings = settings;
        _state = state;
        _mappings = mappings;
        _privacy = privacy;
        _connection = connection;
        _aggregatesTable = aggregatesTable;
        _demoUser = demoUser;
        _samples.Enqueue((TimeSpan.Zero, 0, 0, 0, new Dictionary<string, long>(StringComparer.Ordinal)));
        Latest = new DashboardSnapshot { Timestamp = DateTimeOffset.UtcNow, Stream = settings.Stream, Status = "starting", Schema = Schema(state.Schema) };
    }

    /// <summary>Time since the run started.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>The last snapshot taken.</summary>
    public DashboardSnapshot Latest { get; private set; }

    /// <summary>The forget demo's note (null until the demo user is forgotten).</summary>
    public string? ForgetNote { get; private set; }

    /// <summary>The demo user's pseudonym, looked up just before they were forgotten.</summary>
    public string? ForgottenPseudonym { get; private set; }

    /// <summary>Takes one sample (and runs the forget demo when it is due).</summary>
    public async Task<DashboardSnapshot> TickAsync(string? status = null)
    {
        var elapsed = _clock.Elapsed;
        var stats = _mappings.Pages.GetStatistics();
        var durable = Interlocked.Read(ref _state.Durable);
        var perShard = new Dictionary<string, long>(_state.PerShard, StringComparer.Ordinal);
        var throttled = _limits?.WriteThrottled ?? 0;
        _samples.Enqueue((elapsed, durable, stats.RecordsProcessed, throttled, perShard));
        while (_samples.Count > 2 && elapsed - _samples.ElementAt(1).At >= RateWindow)
        {
            _samples.Dequeue();
        }

        var oldest = _samples.Peek();
        var dt = Math.Max((elapsed - oldest.At).TotalSeconds, 1e-3);
        var lag = _mappings.Pages.GetLag();
        if (_settings.ForgetDemo && !_forgotten && _settings.Duration is { } total && elapsed.TotalSeconds >= total / 2)
        {
            _forgotten = true;
            ForgottenPseudonym = await _privacy.Identity!.FindPseudonymAsync(_demoUser, CancellationToken.None).ConfigureAwait(false);
            var result = await _privacy.Shredder.ForgetAsync(_demoUser, CancellationToken.None).ConfigureAwait(false);
            ForgetNote = $"forgot {_demoUser} at {elapsed.TotalSeconds:0}s ({result.Outcome})";
        }

        if (_settings.ForgetDemo)
        {
            _state.DemoRecord = await ReadDemoRecordAsync(_connection.Kinesis, CancellationToken.None).ConfigureAwait(false);
        }

        var aggregates = await LatestAggregatesAsync(CancellationToken.None).ConfigureAwait(false);
        var ci = CultureInfo.InvariantCulture;
        var shards = perShard.Keys.Union(lag.Select(l => l.ShardId)).Order(StringComparer.Ordinal).Select(shard =>
        {
            var n = perShard.GetValueOrDefault(shard);
            var shardLag = lag.FirstOrDefault(l => l.ShardId == shard);
            return new DashboardShard(shard, (n - oldest.PerShard.GetValueOrDefault(shard)) / dt, shardLag?.MillisBehindLatest ?? 0)
            {
                Records = n,
                RecordsBehind = shardLag?.RecordsBehind,
                LagKnown = shardLag?.MillisBehindLatest is not null,
            };
        }).ToList();

        Latest = new DashboardSnapshot
        {
            Timestamp = DateTimeOffset.UtcNow,
            Stream = _settings.Stream,
            RecordsInPerSecond = (durable - oldest.Durable) / dt,
            RecordsOutPerSecond = (stats.RecordsProcessed - oldest.Processed) / dt,
            ThrottlesPerSecond = (throttled - oldest.Throttled) / dt,
            Shards = shards,
            Windows = new DashboardTable(["Window", "Key", "Count"], [.. aggregates.Select(a => (IReadOnlyList<string>)[a.Window, a.Key, a.Count.ToString("N0", ci)])]),
            Forget = _settings.ForgetDemo ? new DashboardForget(ForgetNote is null ? "pending" : "forgotten", ForgetNote) { Record = _state.DemoRecord } : null,
            Schema = Schema(_state.Schema),
            Status = status ?? string.Create(ci, $"running for {elapsed.TotalSeconds:0} s"),
            Totals = new DashboardTotals(
                Interlocked.Read(ref _state.Sent), durable, Interlocked.Read(ref _state.DeliveryFailures), Interlocked.Read(ref _state.Refused),
                stats.RecordsProcessed, stats.WindowsClosed, stats.OnFailureRecords)
            {
                ThrottledRecords = _limits?.WriteThrottled,
                ThrottledReads = _limits?.ReadThrottled,
            },
        };
        return Latest;
    }

    private static DashboardSchema? Schema(SchemaRecords.PipelineSchema? schema) => schema is null
        ? null
        : new DashboardSchema(schema.Version.SchemaName, schema.Version.Format.ToGlue(), schema.Version.Definition) { Label = schema.Label };

    private async Task<string?> ReadDemoRecordAsync(IAmazonKinesis kinesis, CancellationToken ct)
    {
        if (_state.DemoPosition is not var (shardId, sequence, sub) || shardId is null)
        {
            return _state.DemoRecord;
        }

        var iterator = await kinesis.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = _settings.Stream, ShardId = shardId, ShardIteratorType = ShardIteratorType.AT_SEQUENCE_NUMBER, StartingSequenceNumber = sequence }, ct).ConfigureAwait(false);
        var page = await kinesis.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator.ShardIterator, Limit = 1 }, ct).ConfigureAwait(false);
        foreach (var record in page.Records)
        {
            foreach (var user in RecordDecoder.Default.Decode(ConsumeCommand.Bytes(record.Data), record.PartitionKey, record.SequenceNumber))
            {
                if (user.SubSequenceNumber != sub && user.IsAggregated)
                {
                    continue;
                }

                var schema = _state.Schema;
                var revealed = await _privacy.Protector.DecryptAsync(schema is null ? user.Data : await schema.DecodeAsync(user.Data, ct).ConfigureAwait(false), _settings.Stream, ct).ConfigureAwait(false);
                var text = Encoding.UTF8.GetString(revealed.Json.Span);
                return $"{_demoUser} @ {sequence}/{sub}: {text}";
            }
        }

        return _state.DemoRecord;
    }

    private async Task<IReadOnlyList<(string Window, string Key, long Count)>> LatestAggregatesAsync(CancellationToken ct)
    {
        try
        {
            var scan = await _connection.DynamoDb.ScanAsync(new ScanRequest { TableName = _aggregatesTable, ProjectionExpression = "pk, sk, #c", ExpressionAttributeNames = new Dictionary<string, string> { ["#c"] = "count" } }, ct).ConfigureAwait(false);
            var rows = (scan.Items ?? []).Select(i => (Window: i["sk"].S, Key: i["pk"].S, Count: long.Parse(i.TryGetValue("count", out var c) ? c.N : "0", CultureInfo.InvariantCulture))).ToList();
            if (rows.Count == 0)
            {
                return [];
            }

            var latest = rows.Max(r => r.Window)!;
            return [.. rows.Where(r => r.Window == latest).OrderByDescending(r => r.Count).Take(8)];
        }
        catch (Amazon.Runtime.AmazonServiceException)
        {
            return [];
        }
    }
}
