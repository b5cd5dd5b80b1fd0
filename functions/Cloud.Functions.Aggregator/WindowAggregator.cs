using System.Runtime.InteropServices;
using Cloud.Consumer;
using Cloud.Consumer.Events;
using Cloud.Records;
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
    private readonly EventFieldReader _fieldReader;
    private List<UserRecordData>? _spareUsers;

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
        _fieldReader = new EventFieldReader(config.KeyField, config.SumFields, config.TopKField);
    }

    /// <summary>Processes one invoke.</summary>
    /// <exception cref="AggregatorEventException">The event has no window.</exception>
    /// <exception cref="AggregatorStateException">The state was not written by this Aggregator.</exception>
    public async Task<AggregationOutcome> ProcessAsync(KinesisTimeWindowEvent evt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evt);
        ValidateRecords(evt);
        using var records = new ObjectInvokeRecords(evt.Records);
        return (await ProcessAsync(records, evt.Window, evt.State, evt.ShardId, evt.IsFinalInvokeForWindow, false, cancellationToken).ConfigureAwait(false)).Outcome;
    }

    /// <summary>
    /// Processes one invoke read by <see cref="WindowEventReader"/> (records decoded in its buffer). When the invoke
    /// returns a window state, the response's <c>state</c> is left empty and the state is returned for the caller to
    /// write (<see cref="WindowState.WriteStateMap"/>) instead of being turned into a map of strings.
    /// </summary>
    internal async Task<(AggregationOutcome Outcome, WindowState? State)> ProcessAsync(ParsedWindowEvent evt, CancellationToken cancellationToken)
    {
        using var records = new BufferInvokeRecords(evt);
        return await ProcessAsync(records, evt.Window, evt.State, evt.ShardId, evt.IsFinalInvokeForWindow, true, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(AggregationOutcome Outcome, WindowState? State)> ProcessAsync(InvokeRecords records, TimeWindow? eventWindow, IReadOnlyDictionary<string, string>? incomingState,
        string? shardId, bool isFinal, bool writeStateLater, CancellationToken cancellationToken)
    {
        TimeWindow window = eventWindow ?? throw new AggregatorEventException("the event has no 'window': is TumblingWindowInSeconds set on the event source mapping?");
        string shard = shardId ?? records.FirstRecordShardId ?? "unknown-shard";
        // Continues the producers' traces carried in KPL tags (opt-in on the producer side); no listener, no cost.
        using var activity = records.StartActivity();
        activity?.SetTag(Cloud.Telemetry.TelemetryTags.Shard, shard);
        activity?.SetTag("records", records.Count);

        WindowState state = WindowState.Parse(incomingState, _config);
        int segmentsWritten = 0;
        if (!state.HasLayoutOf(_config))
        {
            // The configuration changed mid-window: write what was built under the old layout, go on with the new one.
            string? last = state.LastSequenceNumber;
            segmentsWritten += await FlushAsync(state, window, shard, cancellationToken).ConfigureAwait(false);
            state = new WindowState(_config) { LastSequenceNumber = last };
        }

        int fieldCount = _fieldReader.FieldCount;
        // Per Kinesis record, its user records are validated into these first, then applied as a unit.
        var users = new List<UserRecordData>();
        var keys = new ByteScratch();
        var parsed = new List<(int KeyStart, int KeyLength, string? Category, long? Sub)>();
        var parsedValues = new List<decimal?>();
        decimal?[] values = new decimal?[fieldCount];
        int applied = 0, duplicates = 0;
        RecordFailure? failure = null;

        // One decompression budget per invoke: a batch of bombs cannot exhaust the function's memory.
        var decompression = RecordDecoder.Default.CreateBatchBudget();
        // Decompressed frames go to pooled arrays, given back once their record is applied.
        using var frames = new RecordDecodeBuffers();
        // Sequence numbers become strings only where they are kept or reported; duplicates are found by comparing
        // them in place, against the incoming state's last one until a record of this invoke is applied. Which records
        // are duplicates is known before any is decoded: every other record is applied or stops the invoke.
        string? incomingLast = state.LastSequenceNumber;
        bool[] duplicate = new bool[records.Count];
        for (int i = 0, previous = -1; i < records.Count; i++)
        {
            duplicate[i] = previous >= 0 ? records.CompareSequenceNumbers(i, previous) <= 0 : incomingLast is not null && records.CompareSequenceNumber(i, incomingLast) <= 0;
            if (!duplicate[i])
            {
                previous = i;
            }
        }

        // Records are decoded a chunk at a time, all MD5 trailers of a chunk in one multi-buffer pass.
        using var batch = new BatchDecoder(this, records, duplicate, decompression, frames);
        int lastApplied = -1;
        for (int i = 0; i < records.Count && failure is null; i++)
        {
            if (duplicate[i])
            {
                duplicates++;
                continue;
            }

            users.Clear();
            keys.Length = 0;
            parsed.Clear();
            parsedValues.Clear();
            failure = batch.Decode(i, users);
            if (failure is not null)
            {
                break;
            }

            foreach (UserRecordData user in users)
            {
                ReadOnlyMemory<byte> json = user.Data;
                if (_schemas is not null)
                {
                    (json, failure) = await _schemas.DecodeAsync(user.Data, records.SequenceNumber(i), user.SubSequenceNumber, cancellationToken).ConfigureAwait(false);
                    if (failure is not null)
                    {
                        break;
                    }
                }

                string? error = _fieldReader.TryRead(json.Span, values, state, keys, out int keyStart, out int keyLength, out string? category);
                if (error is not null)
                {
                    string seq = records.SequenceNumber(i);
                    failure = new RecordFailure
                    {
                        SequenceNumber = seq,
                        SubSequenceNumber = user.SubSequenceNumber,
                        Stage = RecordFailureStage.Handler,
                        Message = $"Record {RecordFailure.Describe(seq, user.SubSequenceNumber)}: {error}",
                    };
                    break;
                }

                parsed.Add((keyStart, keyLength, category, user.SubSequenceNumber));
                parsedValues.AddRange(values);
            }

            if (failure is not null)
            {
                break;
            }

            // Validated: apply the whole record. Only a sink error (which fails the invoke) can interrupt this.
            for (int u = 0; u < parsed.Count; u++)
            {
                state.SegmentStart ??= $"{records.SequenceNumber(i)}/{parsed[u].Sub ?? 0}";
                state.Apply(keys.Written.Slice(parsed[u].KeyStart, parsed[u].KeyLength), CollectionsMarshal.AsSpan(parsedValues).Slice(u * fieldCount, fieldCount), parsed[u].Category);
                applied++;
                if (state.EstimatedBytes > _config.StateBudgetBytes)
                {
                    _logger.LogInformation("Window {Window} shard {Shard}: state reached {Bytes} bytes (budget {Budget}); writing segment {Segment} early",
                        AggregatesTable.FormatWindow(window.Start), shard, state.EstimatedBytes, _config.StateBudgetBytes, state.SegmentStart);
                    segmentsWritten += await FlushAsync(state, window, shard, cancellationToken).ConfigureAwait(false);
                }
            }

            lastApplied = i;
        }

        if (lastApplied >= 0)
        {
            state.LastSequenceNumber = records.SequenceNumber(lastApplied);
        }

        if (failure is not null)
        {
            _logger.LogWarning(failure.Exception, "Aggregator: {Message}", failure.Message);
        }

        Dictionary<string, string> outState;
        WindowState? stateToWrite = null;
        if (failure is not null)
        {
            outState = incomingState is null ? [] : new Dictionary<string, string>(incomingState, StringComparer.Ordinal);
        }
        else if (isFinal)
        {
            segmentsWritten += await FlushAsync(state, window, shard, cancellationToken).ConfigureAwait(false);
            outState = [];
        }
        else if (writeStateLater)
        {
            outState = [];
            stateToWrite = state;
        }
        else
        {
            outState = state.ToStateMap();
        }

        var response = new KinesisTimeWindowResponse
        {
            State = outState,
            BatchItemFailures = failure is null ? [] : [new BatchItemFailure { ItemIdentifier = records.SequenceNumber(0) }],
        };
        return (new AggregationOutcome(response, applied, duplicates, segmentsWritten, failure), stateToWrite);
    }

    /// <summary>
    /// Base64 (already undone by the record source), decompression and deaggregation of record <paramref name="index"/>
    /// into its user records' data; the failure, typed as the consumer's record reader types it, or null.
    /// </summary>
    private static RecordFailure? Decode(InvokeRecords records, int index, List<UserRecordData> users, DecompressionBudget decompression, RecordDecodeBuffers frames)
    {
        KinesisRecordDecodeException? error;
        if (!records.TryGetData(index, out ReadOnlyMemory<byte> data, out int base64Chars))
        {
            error = new KinesisRecordDecodeException(records.SequenceNumber(index), RecordFailureStage.Base64, $"'data' is not valid base64 ({base64Chars} characters)");
        }
        else
        {
            try
            {
                RecordDecoder.Default.DecodeData(data, null, users, decompression, frames);
                return null;
            }
            catch (Exception ex) when (ex is FormatException or InvalidDataException)
            {
                // The decoder names the record in its errors only when given its sequence number, which is a string
                // made for the failing record alone: decode it once more with it (the failed call released its budget).
                string seq = records.SequenceNumber(index);
                error = Redecode(data, seq, decompression) ?? new KinesisRecordDecodeException(seq, RecordFailureStage.Decode, ex.Message, ex);
            }
        }

        return new RecordFailure { SequenceNumber = error.SequenceNumber, Stage = error.Stage, Message = error.Message, Exception = error };
    }

    /// <summary>
    /// Decodes an invoke's records a chunk at a time with <see cref="RecordDecoder.DecodeDataBatch"/> (all MD5 trailers
    /// of a chunk verified in one multi-buffer pass) and hands out each record's user records or failure, typed as
    /// <see cref="WindowAggregator.Decode(InvokeRecords, int, List{UserRecordData}, DecompressionBudget, RecordDecodeBuffers)"/> types them.
    /// Duplicates are not decoded, plain records (no frame or KPL magic) are handed out as they are, as
    /// <see cref="RecordDecoder.DecodeData"/> would; a chunk ends before a record whose base64 is bad. Frames of a chunk stay in
    /// <c>frames</c> until the next chunk is decoded.
    /// </summary>
    private sealed class BatchDecoder(WindowAggregator owner, InvokeRecords records, bool[] duplicate, DecompressionBudget decompression, RecordDecodeBuffers frames) : IDisposable
    {
        private const int ChunkSize = 32;

        /// <summary>Largest list of user records kept for the next invoke (entries; 24 bytes each).</summary>
        private const int MaxSpareUsers = 1 << 16;

        private readonly List<ReadOnlyMemory<byte>> _data = new(ChunkSize);
        private readonly int[] _index = new int[ChunkSize];
        private readonly int[] _counts = new int[ChunkSize];
        private readonly int[] _firsts = new int[ChunkSize];
        private readonly RecordFormatException?[] _errors = new RecordFormatException?[ChunkSize];

        // A chunk's user records (thousands: a large-object array) are kept from one invoke to the next.
        private readonly List<UserRecordData> _users = Interlocked.Exchange(ref owner._spareUsers, null) ?? [];

        public void Dispose()
        {
            _users.Clear();
            if (_users.Capacity <= MaxSpareUsers)
            {
                Volatile.Write(ref owner._spareUsers, _users);
            }
        }
        private int _next;    // position in the chunk of the next record to hand out
        private bool _oneByOne; // the batch threw what it does not type: this chunk goes record by record

        public RecordFailure? Decode(int index, List<UserRecordData> users)
        {
            if (records.TryGetData(index, out ReadOnlyMemory<byte> data, out _) && !HasMagic(data.Span))
            {
                // Neither a frame nor an aggregate: one user record, as DecodeData makes it (no budget, no hashing).
                users.Add(new UserRecordData(data, null));
                return null;
            }

            while (_next < _data.Count && _index[_next] < index)
            {
                _next++;
            }

            if (_next >= _data.Count)
            {
                Fill(index);
            }

            if (_next >= _data.Count || _index[_next] != index)
            {
                // Not in a chunk: its base64 is bad (or the batch could not type an error); the record path says so.
                return WindowAggregator.Decode(records, index, users, decompression, frames);
            }

            int at = _next++;
            if (_oneByOne)
            {
                return WindowAggregator.Decode(records, index, users, decompression, frames);
            }

            if (_errors[at] is { } ex)
            {
                string seq = records.SequenceNumber(index);
                var error = new KinesisRecordDecodeException(seq, RecordFailureStage.Decode, ex.Message, ex);
                return new RecordFailure { SequenceNumber = error.SequenceNumber, Stage = error.Stage, Message = error.Message, Exception = error };
            }

            for (int u = 0; u < _counts[at]; u++)
            {
                users.Add(_users[_firsts[at] + u]);
            }

            return null;
        }

        /// <summary>True when the data starts as a compressed frame or a KPL aggregate does (what the batch decodes).</summary>
        private static bool HasMagic(ReadOnlySpan<byte> data) => CompressedFrame.HasMagic(data) || KplFormat.HasMagic(data);

        private void Fill(int from)
        {
            frames.ReturnAll();
            _data.Clear();
            _users.Clear();
            _next = 0;
            _oneByOne = false;
            // A source whose data is valid only until its next call (the object path's one buffer) decodes one record at a time.
            int size = records.DataStaysValid ? ChunkSize : 1;
            for (int j = from; j < records.Count && _data.Count < size; j++)
            {
                if (duplicate[j])
                {
                    continue;
                }

                if (!records.TryGetData(j, out ReadOnlyMemory<byte> data, out _))
                {
                    break;
                }

                if (!HasMagic(data.Span))
                {
                    continue; // plain data: handed out as it is (see Decode)
                }

                _index[_data.Count] = j;
                _data.Add(data);
            }

            if (_data.Count == 0)
            {
                return;
            }

            try
            {
                RecordDecoder.Default.DecodeDataBatch(_data, _users, _counts, _errors, decompression, frames, k => records.SequenceNumber(_index[k]));
            }
            catch (Exception ex) when (ex is FormatException or InvalidDataException)
            {
                // Not a typed record error (none is known): decode this chunk as before, one record at a time.
                _users.Clear();
                _oneByOne = true;
                return;
            }

            for (int k = 0, first = 0; k < _data.Count; k++)
            {
                _firsts[k] = first;
                first += _counts[k];
            }
        }
    }

    private static KinesisRecordDecodeException? Redecode(ReadOnlyMemory<byte> data, string seq, DecompressionBudget decompression)
    {
        var discard = new List<UserRecordData>();
        try
        {
            RecordDecoder.Default.DecodeData(data, seq, discard, decompression);
            return null;
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException)
        {
            return new KinesisRecordDecodeException(seq, RecordFailureStage.Decode, ex.Message, ex);
        }
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
