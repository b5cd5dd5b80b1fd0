using System.Collections.Concurrent;
using System.Text;
using Cloud.EventSourceMapping;
using Cloud.Functions.Aggregator;
using Cloud.Testing;
using Microsoft.Extensions.Logging;

namespace Cloud.IntegrationTests.EventSourceMapping;

/// <summary>
/// The consumer half of <c>cloud pipeline</c> (src/Cloud.Cli/Commands/PipelineCommand.cs) against kinesis-local + dynalite:
/// a <see cref="LocalEventSourceMapping"/> with tumbling windows, ReportBatchItemFailures, bisect and bounded retries
/// invoking the real Aggregator's Stream-in/Stream-out entry point (<see cref="Function.HandleAsync(Stream, CancellationToken)"/>),
/// writing to an aggregates table; discarded batches go to a <see cref="DynamoDbOnFailureDestination"/>; checkpoints to DynamoDB.
/// </summary>
public sealed class AggregatorPipeline : IAsyncDisposable
{
    /// <summary>Retries of a failed batch before it goes to the on-failure destination (the CLI uses 3).</summary>
    public const int MaximumRetryAttempts = 2;

    public const string FunctionArn = "arn:aws:lambda:us-east-1:000000000000:function:aggregator";

    private readonly RunnerTestSupport _s;
    private readonly ILoggerFactory? _logs;
    private readonly bool _recordResponses;
    private readonly TimeSpan _invokeDelay;
    private readonly List<LocalEventSourceMapping> _runs = [];

    private AggregatorPipeline(RunnerTestSupport s, Function aggregator, EventSourceMappingOptions options, DynamoDbOnFailureDestination failures, ILoggerFactory? logs, bool recordResponses, TimeSpan invokeDelay)
    {
        _invokeDelay = invokeDelay;
        _s = s;
        Aggregator = aggregator;
        Options = options;
        Failures = failures;
        _logs = logs;
        _recordResponses = recordResponses;
    }

    /// <summary>The Aggregator instance every invoke goes to (one per process, as in Lambda).</summary>
    public Function Aggregator { get; }

    public string AggregatesTableName => Aggregator.Config.TableName;

    public EventSourceMappingOptions Options { get; }

    public DynamoDbOnFailureDestination Failures { get; }

    public DynamoDbCheckpointStore Checkpoints => _s.Store(Options);

    /// <summary>The runner currently running (the last one started).</summary>
    public LocalEventSourceMapping Mapping => _runs[^1];

    /// <summary>Every response body the Aggregator returned (its window states), when asked for at start.</summary>
    public ConcurrentQueue<string> Responses { get; } = new();

    /// <summary>Statistics summed over every runner started so far.</summary>
    public EventSourceMappingStatistics Statistics
    {
        get
        {
            var all = _runs.Select(r => r.GetStatistics()).ToList();
            return new EventSourceMappingStatistics
            {
                Invocations = all.Sum(s => s.Invocations),
                FailedInvocations = all.Sum(s => s.FailedInvocations),
                RecordsProcessed = all.Sum(s => s.RecordsProcessed),
                RecordsDiscarded = all.Sum(s => s.RecordsDiscarded),
                OnFailureRecords = all.Sum(s => s.OnFailureRecords),
                WindowsClosed = all.Sum(s => s.WindowsClosed),
            };
        }
    }

    /// <summary>
    /// Creates the aggregates table and (unless <paramref name="startRunner"/> is false) starts the runner (TRIM_HORIZON) on
    /// <paramref name="stream"/>. With <paramref name="recordResponses"/> each response body is copied into <see cref="Responses"/>;
    /// <paramref name="invokeDelay"/> makes each invoke slower (so a restart lands mid-stream). Either wraps the handler.
    /// </summary>
    public static async Task<AggregatorPipeline> CreateAsync(RunnerTestSupport s, string stream, AggregatorConfig config, int windowSeconds, int batchSize,
        ILoggerFactory? logs = null, bool recordResponses = false, TimeSpan invokeDelay = default, bool startRunner = true)
    {
        var table = EmulatorFixture.UniqueName("agg");
        await AggregatesTable.EnsureExistsAsync(s.Dynamo, table);
        var aggregator = new Function(config with { TableName = table }, s.Dynamo, logs?.CreateLogger("Cloud.Functions.Aggregator"));
        var failures = new DynamoDbOnFailureDestination(s.Dynamo, EmulatorFixture.UniqueName("esm-dlq"));
        var options = s.Options(stream, o =>
        {
            o.BatchSize = batchSize;
            o.TumblingWindowInSeconds = windowSeconds;
            o.BisectBatchOnFunctionError = true;
            o.MaximumRetryAttempts = MaximumRetryAttempts;
            o.OnFailureDestination = failures;
            o.FunctionArn = FunctionArn;
            o.Region = "us-east-1";
        });
        options.FunctionResponseTypes.Add(EventSourceMappingOptions.ReportBatchItemFailures);
        var pipeline = new AggregatorPipeline(s, aggregator, options, failures, logs, recordResponses, invokeDelay);
        if (startRunner)
        {
            await pipeline.StartRunnerAsync();
        }
        return pipeline;
    }

    /// <summary>Stops the current runner mid-stream (an invoke in flight is cancelled and not checkpointed) and starts a new one on the same checkpoints.</summary>
    public async Task RestartAsync()
    {
        await Mapping.DisposeAsync();
        await StartRunnerAsync();
    }

    /// <summary>
    /// Waits until every shard's checkpoint is at its last record (<paramref name="lastSequenceByShard"/>, read directly
    /// from the stream) and its window is closed (final invoke done): then everything produced was either aggregated and
    /// written, or sent to the on-failure destination.
    /// </summary>
    public Task WaitUntilDrainedAsync(IReadOnlyDictionary<string, string> lastSequenceByShard, TimeSpan timeout) =>
        RunnerTestSupport.WaitUntilAsync(async () =>
        {
            var checkpoints = await Checkpoints.LoadAsync(Options.EffectiveMappingId);
            return lastSequenceByShard.All(l => checkpoints.TryGetValue(l.Key, out var c) && c.SequenceNumber == l.Value && c.WindowStart is null);
        }, timeout, "every shard checkpointed at its last record with its window closed", () => _runs.Count > 0 ? Mapping : null);

    /// <summary>The last sequence number of each shard that holds records.</summary>
    public static Dictionary<string, string> LastSequenceByShard(IEnumerable<(string ShardId, StreamRecord Record)> records) =>
        records.GroupBy(r => r.ShardId).ToDictionary(g => g.Key, g => g.MaxBy(r => System.Numerics.BigInteger.Parse(r.Record.SequenceNumber, System.Globalization.CultureInfo.InvariantCulture)).Record.SequenceNumber);

    public async ValueTask DisposeAsync()
    {
        foreach (var run in _runs)
        {
            await run.DisposeAsync();
        }
        Aggregator.Dispose();
    }

    /// <summary>Starts a runner (after <see cref="CreateAsync"/> with startRunner false, or after a stop).</summary>
    public async Task StartRunnerAsync()
    {
        Func<Stream, CancellationToken, Task<Stream>> handler = Aggregator.HandleAsync;
        if (_recordResponses || _invokeDelay > TimeSpan.Zero)
        {
            var inner = handler;
            handler = async (input, ct) =>
            {
                if (_invokeDelay > TimeSpan.Zero)
                {
                    await Task.Delay(_invokeDelay, ct);
                }
                await using var output = await inner(input, ct);
                using var copy = new MemoryStream();
                await output.CopyToAsync(copy, ct);
                if (_recordResponses)
                {
                    Responses.Enqueue(Encoding.UTF8.GetString(copy.ToArray()));
                }
                return new MemoryStream(copy.ToArray());
            };
        }
        var mapping = new LocalEventSourceMapping(Options, _s.Kinesis, handler, Checkpoints, logger: _logs?.CreateLogger("Cloud.EventSourceMapping"));
        _runs.Add(mapping);
        await mapping.StartAsync();
    }
}
