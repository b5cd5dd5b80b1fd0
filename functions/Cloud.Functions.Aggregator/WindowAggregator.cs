using Cloud.Consumer;
using Cloud.Consumer.Events;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cloud.Functions.Aggregator;

/// <summary>
/// The Aggregator's core: applies one tumbling-window invoke to the window state and writes segments.
/// <list type="bullet">
/// <item>Records are applied in order; each Kinesis record (with all its KPL sub-records) is validated first,
/// then applied as a unit, so a bad record changes nothing.</item>
/// <item>The first bad record stops the invoke. AWS does not document which state Lambda passes to the retry (the
/// one this invoke returned or the one it received), so the invoke is made correct under both: it returns the
/// incoming state unchanged and reports the batch's <em>first</em> record, so nothing is checkpointed and the retry
/// replays the whole batch against the same state. Bisect (or the on-failure destination) takes the bad record out.
/// Segments already written in this invoke are written again on the replay with the same contribution id, which
/// the sink skips.</item>
/// <item>Records at or below the state's last applied sequence number are duplicates (redelivery) and skipped.</item>
/// <item>When the state would pass <see cref="AggregatorConfig.StateBudgetBytes"/>, the segment so far is written
/// to the sink and the window goes on with a fresh state (the early end); the final invoke writes the rest.</item>
/// </list>
/// </summary>
public sealed class WindowAggregator
{
    private readonly AggregatorConfig _config;
    private readonly IAggregateSink _sink;
    private readonly ILogger _logger;
    private readonly SchemaDecoding? _schemas;

    /// <summary>Creates the aggregator; with <paramref name="schemas"/> it also reads AWS Glue Schema Registry records.</summary>
    public WindowAggregator(AggregatorConfig config, IAggregateSink sink, ILogger? logger = null, SchemaDecoding? schemas = null)
    {
        _schemas = schemas;
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(sink);
        config.Validate();
        _config = config;
        _sink = sink;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Processes one invoke.</summary>
    /// <exception cref="AggregatorEventException">The event has no window.</exception>
    /// <exception cref="AggregatorStateException">The state was not written by this Aggregator.</exception>
    public async Task<AggregationOutcome> ProcessAsync(KinesisTimeWindowEvent evt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evt);
        TimeWindow window = evt.Window ?? throw new AggregatorEventException("the event has no 'window': is TumblingWindowInSeconds set on the event source mapping?");
        ValidateRecords(evt);
        string shard = evt.ShardId ?? (evt.Records.Count > 0 ? evt.Records[0].ShardId : null) ?? "unknown-shard";
        // Continues the producers' traces carried in KPL tags (opt-in on the producer side); no listener, no cost.
        using var activity = KinesisTraceContext.StartActivity(Cloud.Telemetry.CloudActivitySources.Functions, Cloud.Telemetry.ActivityNames.Aggregate, evt.Records);
        activity?.SetTag(Cloud.Telemetry.TelemetryTags.Shard, shard);
        activity?.SetTag("records", evt.Records.Count);

        WindowState state = WindowState.Parse(evt.State, _config);
        int segmentsWritten = 0;
        if (!state.HasLayoutOf(_config))
        {
            // The configuration changed mid-window: write what was built under the old layout, go on with the new one.
            string? last = state.LastSequenceNumber;
            segmentsWritten += await FlushAsync(state, window, shard, cancellationToken).ConfigureAwait(false);
            state = new WindowState(_config) { LastSequenceNumber = last };
        }

        var reader = new EventFieldReader(_config.KeyField, _config.SumFields, _config.TopKField);
        int fieldCount = reader.FieldCount;
        var users = new List<UserRecordContext>();
        var parsedKeys = new List<string>();
        var parsedCategories = new List<string?>();
        var parsedValues = new List<decimal?>();
        decimal?[] values = new decimal?[fieldCount];
        int applied = 0, duplicates = 0;
        RecordFailure? failure = null;

        // One decompression budget per invoke: a batch of bombs cannot exhaust the function's memory.
        var decompression = Cloud.Records.RecordDecoder.Default.CreateBatchBudget();
        for (int i = 0; i < evt.Records.Count && failure is null; i++)
        {
            KinesisEventRecord record = evt.Records[i];
            string seq = record.Kinesis.SequenceNumber;
            if (state.LastSequenceNumber is not null && SequenceNumberComparer.Instance.Compare(seq, state.LastSequenceNumber) <= 0)
            {
                duplicates++;
                continue;
            }

            users.Clear();
            parsedKeys.Clear();
            parsedCategories.Clear();
            parsedValues.Clear();
            try
            {
                KinesisRecordReader.Decode(record, i, users, Cloud.Records.RecordDecoder.Default, decompression);
            }
            catch (KinesisRecordDecodeException ex)
            {
                failure = new RecordFailure { SequenceNumber = seq, Stage = ex.Stage, Message = ex.Message, Exception = ex };
                break;
            }

            foreach (UserRecordContext user in users)
            {
                (ReadOnlyMemory<byte> json, failure) = _schemas is null ? (user.Data, null) : await _schemas.DecodeAsync(user, cancellationToken).ConfigureAwait(false);
                if (failure is not null)
                {
                    break;
                }

                string? error = reader.TryRead(json.Span, values, out string key, out string? category);
                if (error is not null)
                {
                    failure = new RecordFailure
                    {
                        SequenceNumber = seq,
                        SubSequenceNumber = user.SubSequenceNumber,
                        Stage = RecordFailureStage.Handler,
                        Message = $"Record {user.Describe()}: {error}",
                    };
                    break;
                }

                parsedKeys.Add(key);
                parsedCategories.Add(category);
                parsedValues.AddRange(values);
            }

            if (failure is not null)
            {
                break;
            }

            // Validated: apply the whole record. Only a sink error (which fails the invoke) can interrupt this.
            for (int u = 0; u < parsedKeys.Count; u++)
            {
                state.SegmentStart ??= $"{seq}/{users[u].SubSequenceNumber ?? 0}";
                state.Apply(parsedKeys[u], System.Runtime.InteropServices.CollectionsMarshal.AsSpan(parsedValues).Slice(u * fieldCount, fieldCount), parsedCategories[u]);
                applied++;
                if (state.EstimatedBytes > _config.StateBudgetBytes)
                {
                    _logger.LogInformation("Window {Window} shard {Shard}: state reached {Bytes} bytes (budget {Budget}); writing segment {Segment} early",
                        AggregatesTable.FormatWindow(window.Start), shard, state.EstimatedBytes, _config.StateBudgetBytes, state.SegmentStart);
                    segmentsWritten += await FlushAsync(state, window, shard, cancellationToken).ConfigureAwait(false);
                }
            }

            state.LastSequenceNumber = seq;
        }

        if (failure is not null)
        {
            _logger.LogWarning(failure.Exception, "Aggregator: {Message}", failure.Message);
        }

        Dictionary<string, string> outState;
        if (failure is not null)
        {
            outState = evt.State is null ? [] : new Dictionary<string, string>(evt.State, StringComparer.Ordinal);
        }
        else if (evt.IsFinalInvokeForWindow)
        {
            segmentsWritten += await FlushAsync(state, window, shard, cancellationToken).ConfigureAwait(false);
            outState = [];
        }
        else
        {
            outState = state.ToStateMap();
        }

        var response = new KinesisTimeWindowResponse
        {
            State = outState,
            BatchItemFailures = failure is null ? [] : [new BatchItemFailure { ItemIdentifier = evt.Records[0].Kinesis.SequenceNumber }],
        };
        return new AggregationOutcome(response, applied, duplicates, segmentsWritten, failure);
    }

    /// <summary>
    /// A record without its kinesis part or sequence number cannot even be reported as a batch item failure (the
    /// failure names a sequence number): the event itself is malformed. JSON null would otherwise surface as a
    /// NullReferenceException deep in the loop (found by the report's fuzzing).
    /// </summary>
    private static void ValidateRecords(KinesisTimeWindowEvent evt)
    {
        if (evt.Records is null)
        {
            throw new AggregatorEventException("the event has no 'Records' array");
        }

        for (int i = 0; i < evt.Records.Count; i++)
        {
            KinesisEventRecord? record = evt.Records[i];
            if (record is null)
            {
                throw new AggregatorEventException($"record {i} is null");
            }

            if (record.Kinesis is null)
            {
                throw new AggregatorEventException($"record {i} has no 'kinesis'");
            }

            if (string.IsNullOrEmpty(record.Kinesis.SequenceNumber))
            {
                throw new AggregatorEventException($"record {i} has no 'kinesis.sequenceNumber'");
            }
        }
    }

    private async Task<int> FlushAsync(WindowState state, TimeWindow window, string shard, CancellationToken ct)
    {
        if (state.Keys.Count == 0)
        {
            state.ResetSegment();
            return 0;
        }

        var segment = new WindowSegment
        {
            WindowStart = window.Start,
            WindowEnd = window.End,
            ContributionId = $"{shard}/{state.SegmentStart}",
            SumFields = state.SumFields,
            TopKField = state.TopKField,
            TopKCapacity = state.TopKCapacity,
            Keys = new Dictionary<string, KeyAggregate>(state.Keys, StringComparer.Ordinal),
        };
        await _sink.WriteAsync(segment, ct).ConfigureAwait(false);
        state.ResetSegment();
        return 1;
    }
}

/// <summary>What one Aggregator invoke did.</summary>
/// <param name="Response">The response for Lambda.</param>
/// <param name="AppliedUserRecords">User records added to the state.</param>
/// <param name="DuplicateRecords">Kinesis records skipped as already applied.</param>
/// <param name="SegmentsWritten">Segments written to the sink.</param>
/// <param name="Failure">The record that stopped the invoke, or null.</param>
public sealed record AggregationOutcome(KinesisTimeWindowResponse Response, int AppliedUserRecords, int DuplicateRecords, int SegmentsWritten, RecordFailure? Failure);

/// <summary>The invoke's event cannot be aggregated at all (for example it is not a tumbling-window event).</summary>
public sealed class AggregatorEventException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AggregatorEventException(string message)
        : base(message)
    {
    }
}
