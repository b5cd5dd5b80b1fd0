using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Cli.Infrastructure;
using Cloud.DataGenerator;
using Cloud.EventSourceMapping;
using Cloud.Functions.Aggregator;
using Cloud.Kinesis;
using Cloud.Sizing;

namespace Cloud.Cli.Commands.Pipeline;

/// <summary>The shard count the calculator chose for a run.</summary>
internal sealed record PipelineSizing(int ShardCount, ShardEstimate Estimate);

/// <summary>
/// Setup of a pipeline run: size the stream with the shard calculator, create (or reuse) it, and start the two
/// local event-source mappings (per page and per user) with the Aggregator.
/// </summary>
internal static class PipelineSetup
{
    /// <summary>Sizes the stream from a measured sample of the generator's own events.</summary>
    public static async Task<PipelineSizing> SizeAsync(PipelineSettings settings, GeneratorOptions generatorOptions, Action<string> say, CancellationToken ct)
    {
        var sample = new MemoryStream();
        foreach (var e in new EventGenerator(generatorOptions with { Seed = settings.Seed + 1 }).Take(2_000))
        {
            sample.Write(e.Json);
            sample.WriteByte((byte)'\n');
        }

        sample.Position = 0;
        var measured = await RecordSampleMeasurer.MeasureAsync(sample, new RecordSampleOptions { Codec = settings.Compression, Aggregate = !settings.NoAggregation }, ct).ConfigureAwait(false);
        var estimate = new ShardCalculator().Calculate(new WorkloadProfile
        {
            AverageRecordsPerSecond = settings.Rate,
            PeakRecordsPerSecond = settings.Rate * 1.5,
            AverageRecordBytes = measured.AverageUserRecordBytes,
            Consumers = [new ConsumerProfile("aggregator", ConsumerMode.SharedThroughput, 5_000, 60)],
        }.WithMeasurement(measured));
        var shardCount = settings.Shards ?? Math.Max(2, estimate.Shards);
        say($"Shard calculator: {estimate.Shards} shard(s) for {settings.Rate:N0} events/s of {measured.AverageUserRecordBytes:0} bytes (decided by {SizeCommand.Camel(estimate.DecidingConstraint)}; aggregation {measured.AggregationRatio:0}:1); using {shardCount}.");
        return new PipelineSizing(shardCount, estimate);
    }

    /// <summary>Creates the stream (or reuses an existing one) and waits until it is ACTIVE.</summary>
    public static async Task CreateStreamAsync(IAmazonKinesis kinesis, string stream, int shardCount, Action<string> say, CancellationToken ct)
    {
        try
        {
            await kinesis.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = shardCount }, ct).ConfigureAwait(false);
            say($"Created stream {stream} with {shardCount} shards.");
        }
        catch (ResourceInUseException)
        {
            say($"Reusing stream {stream}.");
        }

        try
        {
            await kinesis.WaitForStreamActiveAsync(stream, TimeSpan.FromMinutes(2), TimeSpan.FromMilliseconds(200), cancellationToken: ct).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new CliException(ExitCodes.Failure, $"stream {stream} did not become ACTIVE.", ex);
        }
    }

    /// <summary>The event-source settings the CDK app deploys (cdk.json), if one is found.</summary>
    public static CdkEventSourceSettings? LoadDeployed(PipelineSettings settings)
    {
        var cdkPath = settings.CdkJson ?? CdkEventSourceSettings.Find(Environment.CurrentDirectory);
        try
        {
            return cdkPath is null ? null : CdkEventSourceSettings.Load(cdkPath);
        }
        catch (Exception ex) when (ex is CdkContextException or IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.InvalidInput, ex.Message);
        }
    }

    /// <summary>The per-page Aggregator's configuration.</summary>
    public static AggregatorConfig AggregatorConfig(PipelineSettings settings, CdkEventSourceSettings? deployed) => new()
    {
        TableName = "cloud-aggregates",
        KeyField = settings.KeyField ?? deployed?.KeyField ?? (settings.Kind == EventKind.Clickstream ? "page" : "zone"),
        SumFields = settings.Kind == EventKind.Clickstream ? ["amount", "durationMs"] : ["price", "surgeMultiplier"],
        TopKField = settings.Kind == EventKind.Clickstream ? "country" : "weather",
        TopKSize = 3,
    };

    /// <summary>
    /// Starts the local event-source mappings with the Aggregator, checkpoints in DynamoDB: one for the per-page
    /// aggregates and one for the per-user aggregates (keyed by pseudonym), with the same settings (cdk.json, then flags).
    /// </summary>
    public static async Task<PipelineMappings> StartMappingsAsync(
        PipelineSettings settings, CloudConnection connection, CdkEventSourceSettings? deployed, string keyField,
        Func<Stream, CancellationToken, Task<Stream>> pageAggregator, Func<Stream, CancellationToken, Task<Stream>> userAggregator,
        Action<string> say, CancellationToken ct)
    {
        var failures = new InMemoryOnFailureDestination();
        var esmOptions = new EventSourceMappingOptions
        {
            StreamName = settings.Stream,
            BatchSize = 100,
            TumblingWindowInSeconds = 10,
            BisectBatchOnFunctionError = true,
            MaximumRetryAttempts = 3,
            OnFailureDestination = failures,
            Region = connection.Region,
        };
        esmOptions.FunctionResponseTypes.Add(EventSourceMappingOptions.ReportBatchItemFailures);
        deployed?.ApplyTo(esmOptions);
        esmOptions.BatchSize = settings.BatchSize ?? esmOptions.BatchSize;
        esmOptions.TumblingWindowInSeconds = settings.WindowSeconds ?? esmOptions.TumblingWindowInSeconds;
        say($"Event source: batch {esmOptions.BatchSize}, batching window {esmOptions.MaximumBatchingWindowInSeconds} s, tumbling window {esmOptions.TumblingWindowInSeconds} s, "
            + $"{esmOptions.MaximumRetryAttempts} retries, bisect {(esmOptions.BisectBatchOnFunctionError ? "on" : "off")}, key '{keyField}'"
            + (deployed is null ? " (defaults; no cdk.json)." : $" (from {deployed.Path}; flags override)."));
        var checkpoints = new DynamoDbCheckpointStore(connection.DynamoDb);
        await checkpoints.EnsureTableAsync(ct).ConfigureAwait(false);

        var userEsmOptions = new EventSourceMappingOptions
        {
            StreamName = settings.Stream,
            MappingId = EventSourceMappingOptions.DefaultMappingId(settings.Stream) + "-users",
            BatchSize = esmOptions.BatchSize,
            MaximumBatchingWindowInSeconds = esmOptions.MaximumBatchingWindowInSeconds,
            TumblingWindowInSeconds = esmOptions.TumblingWindowInSeconds,
            BisectBatchOnFunctionError = esmOptions.BisectBatchOnFunctionError,
            MaximumRetryAttempts = esmOptions.MaximumRetryAttempts,
            OnFailureDestination = failures,
            Region = connection.Region,
        };
        userEsmOptions.FunctionResponseTypes.Add(EventSourceMappingOptions.ReportBatchItemFailures);

        var mappings = new PipelineMappings(
            new LocalEventSourceMapping(esmOptions, connection.Kinesis, pageAggregator, checkpoints),
            new LocalEventSourceMapping(userEsmOptions, connection.Kinesis, userAggregator, checkpoints));
        try
        {
            await mappings.Pages.StartAsync(ct).ConfigureAwait(false);
            await mappings.Users.StartAsync(ct).ConfigureAwait(false);
            return mappings;
        }
        catch
        {
            await mappings.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}

/// <summary>The run's two local event-source mappings; disposing stops both.</summary>
internal sealed class PipelineMappings(LocalEventSourceMapping pages, LocalEventSourceMapping users) : IAsyncDisposable
{
    /// <summary>Feeds the per-page aggregates.</summary>
    public LocalEventSourceMapping Pages { get; } = pages;

    /// <summary>Feeds the per-user aggregates (keyed by pseudonym).</summary>
    public LocalEventSourceMapping Users { get; } = users;

    /// <summary>Lets the mappings drain (at most 20 s) while records are behind, then stops both.</summary>
    public async Task DrainAndStopAsync()
    {
        var drainUntil = System.Diagnostics.Stopwatch.StartNew();
        while (drainUntil.Elapsed < TimeSpan.FromSeconds(20) && Pages.GetLag().Concat(Users.GetLag()).Any(l => (l.RecordsBehind ?? 0) > 0 || (l.MillisBehindLatest ?? 0) > 0))
        {
            await Task.Delay(500, CancellationToken.None).ConfigureAwait(false);
        }

        await Pages.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await Users.StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Users.DisposeAsync().ConfigureAwait(false);
        await Pages.DisposeAsync().ConfigureAwait(false);
    }
}
