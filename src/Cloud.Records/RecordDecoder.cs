namespace Cloud.Records;

/// <summary>Options of a <see cref="RecordDecoder"/>.</summary>
public sealed class RecordDecoderOptions
{
    /// <summary>Largest uncompressed size a compressed frame may declare; larger frames are rejected before allocating.</summary>
    /// <value>The default value is 10 MiB.</value>
    public int MaxDecompressedSize { get; init; } = CompressedFrame.DefaultMaxDecompressedSize;

    /// <summary>Also decompress sub-records of an aggregate whose data is a compressed frame (per-record compression).</summary>
    /// <value>The default value is true.</value>
    public bool DecompressSubRecords { get; init; } = true;

    /// <summary>Default of <see cref="MaxDecompressedBytesPerRecord"/>: 32 MiB.</summary>
    public const long DefaultMaxDecompressedBytesPerRecord = 32L * 1024 * 1024;

    /// <summary>Default of <see cref="MaxDecompressedBytesPerBatch"/>: 128 MiB.</summary>
    public const long DefaultMaxDecompressedBytesPerBatch = 128L * 1024 * 1024;

    /// <summary>
    /// Largest total that all frames of one Kinesis record (the outer frame and every compressed sub-record) may
    /// declare. <see cref="MaxDecompressedSize"/> bounds each frame; this bounds their sum, so 100 small frames of
    /// 10 MiB each cannot make one 36 KB record allocate 1 GB.
    /// </summary>
    /// <value>The default value is 32 MiB (<see cref="DefaultMaxDecompressedBytesPerRecord"/>).</value>
    public long MaxDecompressedBytesPerRecord { get; init; } = DefaultMaxDecompressedBytesPerRecord;

    /// <summary>Size of the budgets <see cref="RecordDecoder.CreateBatchBudget"/> makes: decompressed bytes per batch.</summary>
    /// <value>The default value is 128 MiB (<see cref="DefaultMaxDecompressedBytesPerBatch"/>).</value>
    public long MaxDecompressedBytesPerBatch { get; init; } = DefaultMaxDecompressedBytesPerBatch;

    /// <summary>Throws one <see cref="ArgumentException"/> naming every invalid option.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (MaxDecompressedSize < 1)
        {
            problems.Add($"MaxDecompressedSize must be positive; it is {MaxDecompressedSize}.");
        }
        if (MaxDecompressedBytesPerRecord < 1)
        {
            problems.Add($"MaxDecompressedBytesPerRecord must be positive; it is {MaxDecompressedBytesPerRecord}.");
        }
        if (MaxDecompressedBytesPerBatch < 1)
        {
            problems.Add($"MaxDecompressedBytesPerBatch must be positive; it is {MaxDecompressedBytesPerBatch}.");
        }
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid RecordDecoderOptions: " + string.Join(" ", problems));
        }
    }
}

/// <summary>
/// Turns one Kinesis record into user records with no configuration: a compressed frame is decompressed, a KPL
/// aggregate is split into sub-records (which keep the parent sequence number and get a sub-sequence number),
/// anything else passes through as one user record. Thread-safe.
/// </summary>
/// <example>
/// <code>
/// var users = RecordDecoder.Default.Decode(record.Data, record.PartitionKey, record.SequenceNumber);
/// </code>
/// </example>
public sealed class RecordDecoder
{
    private readonly int _maxDecompressed;
    private readonly bool _decompressSubRecords;
    private readonly long _maxPerRecord;
    private readonly long _maxPerBatch;

    /// <summary>Creates a decoder.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public RecordDecoder(RecordDecoderOptions? options = null)
    {
        options ??= new RecordDecoderOptions();
        options.Validate();
        _maxDecompressed = options.MaxDecompressedSize;
        _decompressSubRecords = options.DecompressSubRecords;
        _maxPerRecord = options.MaxDecompressedBytesPerRecord;
        _maxPerBatch = options.MaxDecompressedBytesPerBatch;
    }

    /// <summary>A decoder with default options.</summary>
    public static RecordDecoder Default { get; } = new();

    /// <summary>A fresh budget of <see cref="RecordDecoderOptions.MaxDecompressedBytesPerBatch"/> bytes for one batch.</summary>
    public DecompressionBudget CreateBatchBudget() => new(_maxPerBatch);

    /// <summary>Decodes one Kinesis record into its user records.</summary>
    /// <exception cref="RecordFormatException">
    /// The record is a damaged compressed frame (<see cref="CompressedFrameException"/>), decompresses past a bound
    /// (<see cref="DecompressionLimitException"/>) or is a malformed aggregate (<see cref="AggregateFormatException"/>);
    /// the exception names the sequence number and byte offset.
    /// </exception>
    public List<UserRecord> Decode(ReadOnlyMemory<byte> data, string partitionKey, string? sequenceNumber = null, string? explicitHashKey = null)
    {
        var list = new List<UserRecord>();
        Decode(data, partitionKey, sequenceNumber, explicitHashKey, list);
        return list;
    }

    /// <summary>
    /// Decodes one Kinesis record and appends its user records to <paramref name="destination"/>; all or nothing.
    /// </summary>
    /// <param name="data">The Kinesis record's data.</param>
    /// <param name="partitionKey">Its partition key.</param>
    /// <param name="sequenceNumber">Its sequence number (named in errors, copied to every user record).</param>
    /// <param name="explicitHashKey">Its explicit hash key, if known.</param>
    /// <param name="destination">Where the user records go.</param>
    /// <param name="batch">The batch's budget, or null to bound this record alone. A failing record releases its share.</param>
    /// <returns>The number of user records appended.</returns>
    /// <exception cref="RecordFormatException">The record is damaged or over a bound (see <see cref="Decode(ReadOnlyMemory{byte}, string, string?, string?)"/>).</exception>
    public int Decode(ReadOnlyMemory<byte> data, string partitionKey, string? sequenceNumber, string? explicitHashKey, List<UserRecord> destination, DecompressionBudget? batch = null) =>
        Decode(data, RecordFormat.Detect(data.Span), partitionKey, sequenceNumber, explicitHashKey, destination, batch);

    /// <summary>
    /// Decodes one record of a batch whose kinds <see cref="RecordFormat.Detect(IReadOnlyList{ReadOnlyMemory{byte}}, Span{DetectedRecord})"/>
    /// found (MD5 trailers checked all at once); otherwise exactly as
    /// <see cref="Decode(ReadOnlyMemory{byte}, string, string?, string?, List{UserRecord}, DecompressionBudget?)"/>:
    /// same user records, same typed errors, all or nothing.
    /// </summary>
    /// <returns>The number of user records appended.</returns>
    /// <exception cref="RecordFormatException">The record is damaged or over a bound.</exception>
    public int Decode(DetectedRecord record, string partitionKey, string? sequenceNumber, string? explicitHashKey, List<UserRecord> destination, DecompressionBudget? batch = null) =>
        Decode(record.Data, record.Kind, partitionKey, sequenceNumber, explicitHashKey, destination, batch);

    private int Decode(ReadOnlyMemory<byte> data, RecordKind kind, string partitionKey, string? sequenceNumber, string? explicitHashKey, List<UserRecord> destination, DecompressionBudget? batch)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(destination);
        int before = destination.Count;
        var reserved = new Reservation(this, batch);
        try
        {
            var payload = data;
            if (kind == RecordKind.Compressed)
            {
                payload = DecodeFrame(payload.Span, ref reserved);
                // One level of framing: what a frame holds is an aggregate or user data, never another frame to unwrap.
                kind = KplDeaggregator.IsAggregated(payload.Span) ? RecordKind.KplAggregated : RecordKind.Raw;
            }
            if (kind != RecordKind.KplAggregated)
            {
                destination.Add(new UserRecord(partitionKey, explicitHashKey, payload, sequenceNumber, 0, isAggregated: false));
                return 1;
            }
            int n = KplDeaggregator.DeaggregateVerified(payload, sequenceNumber, destination);
            if (_decompressSubRecords)
            {
                DecompressSubRecords(destination, before, ref reserved);
            }
            return n;
        }
        catch (RecordFormatException ex)
        {
            destination.RemoveRange(before, destination.Count - before);
            batch?.Release(reserved.Bytes);
            ex.SequenceNumber ??= sequenceNumber;
            throw;
        }
    }

    /// <summary>
    /// Decodes one Kinesis record like <see cref="Decode(ReadOnlyMemory{byte}, string, string?, string?, List{UserRecord}, DecompressionBudget?)"/>,
    /// with the same checks, bounds and errors, but appends only each user record's data and sub-sequence number:
    /// the data are slices of <paramref name="data"/> (or of the decompressed frame), and no partition key or other
    /// string is made. For handlers that read fields from the data and need nothing else (the Aggregator).
    /// </summary>
    /// <returns>The number of user records appended (all or nothing).</returns>
    /// <exception cref="RecordFormatException">The record is damaged or over a bound.</exception>
    /// <param name="data">The Kinesis record's data.</param>
    /// <param name="sequenceNumber">Its sequence number (named in errors), if known.</param>
    /// <param name="destination">Where the user records go.</param>
    /// <param name="batch">The batch's budget, or null to bound this record alone.</param>
    /// <param name="buffers">
    /// Where decompressed frames go (pooled arrays, valid until <see cref="RecordDecodeBuffers.ReturnAll"/>), or null
    /// for new arrays.
    /// </param>
    public int DecodeData(ReadOnlyMemory<byte> data, string? sequenceNumber, List<UserRecordData> destination, DecompressionBudget? batch = null, RecordDecodeBuffers? buffers = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        int before = destination.Count;
        var reserved = new Reservation(this, batch);
        try
        {
            var payload = data;
            var kind = RecordFormat.Detect(payload.Span);
            if (kind == RecordKind.Compressed)
            {
                payload = DecodeFrame(payload.Span, ref reserved, buffers);
                kind = KplDeaggregator.IsAggregated(payload.Span) ? RecordKind.KplAggregated : RecordKind.Raw;
            }
            if (kind != RecordKind.KplAggregated)
            {
                destination.Add(new UserRecordData(payload, null));
                return 1;
            }
            AppendAggregate(payload, destination, ref reserved, buffers);
            return destination.Count - before;
        }
        catch (RecordFormatException ex)
        {
            destination.RemoveRange(before, destination.Count - before);
            batch?.Release(reserved.Bytes);
            ex.SequenceNumber ??= sequenceNumber;
            throw;
        }
    }

    /// <summary>
    /// Decodes a batch of Kinesis records as <see cref="DecodeData"/> would one after the other (same user records, same
    /// typed error per record, a failing record fails alone and releases its share of <paramref name="batch"/>), but
    /// verifies the MD5 trailers of all aggregates at once with <see cref="MultiBufferMd5"/>: compressed frames are
    /// decompressed first, then every aggregate (inside a frame or not) is hashed in one multi-buffer pass, then split
    /// without hashing again. Should <paramref name="batch"/> run out, the batch is decoded again one record after the
    /// other, so which record hits the batch bound is exactly as with <see cref="DecodeData"/>.
    /// </summary>
    /// <param name="records">The Kinesis records' data.</param>
    /// <param name="destination">Where the user records go: those of record 0, then of record 1, and so on.</param>
    /// <param name="userRecordCounts">Receives, per record, how many user records it appended (0 when it failed).</param>
    /// <param name="errors">Receives, per record, its error, or null when it decoded.</param>
    /// <param name="batch">The batch's budget, or null to bound each record alone.</param>
    /// <param name="buffers">Where decompressed frames go (valid until <see cref="RecordDecodeBuffers.ReturnAll"/>), or null for new arrays.</param>
    /// <param name="sequenceNumberOf">Sequence number of record i, asked only for a failing record (named in its error), or null.</param>
    /// <exception cref="ArgumentException"><paramref name="userRecordCounts"/> or <paramref name="errors"/> is shorter than <paramref name="records"/>.</exception>
    public void DecodeDataBatch(IReadOnlyList<ReadOnlyMemory<byte>> records, List<UserRecordData> destination, Span<int> userRecordCounts, Span<RecordFormatException?> errors,
        DecompressionBudget? batch = null, RecordDecodeBuffers? buffers = null, Func<int, string?>? sequenceNumberOf = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(destination);
        int n = records.Count;
        if (userRecordCounts.Length < n || errors.Length < n)
        {
            throw new ArgumentException($"There are {n} records; the counts hold {userRecordCounts.Length} and the errors {errors.Length}.", nameof(records));
        }

        int start = destination.Count;
        var payloads = System.Buffers.ArrayPool<ReadOnlyMemory<byte>>.Shared.Rent(n);
        var reservations = System.Buffers.ArrayPool<Reservation>.Shared.Rent(n);
        var verified = System.Buffers.ArrayPool<bool>.Shared.Rent(n);
        List<ReadOnlyMemory<byte>>? bodies = null;
        int[]? candidates = null;
        byte[]? digests = null;
        bool sequential = false;
        try
        {
            // 1. Outer frames decompressed, in order (as DecodeData reserves them); aggregates found by their magic.
            for (int i = 0; i < n && !sequential; i++)
            {
                errors[i] = null;
                userRecordCounts[i] = 0;
                verified[i] = false;
                reservations[i] = new Reservation(this, batch);
                try
                {
                    var payload = records[i];
                    if (CompressedFrame.HasMagic(payload.Span))
                    {
                        payload = DecodeFrame(payload.Span, ref reservations[i], buffers);
                    }
                    payloads[i] = payload;
                    if (payload.Length >= KplFormat.Overhead && KplFormat.HasMagic(payload.Span))
                    {
                        bodies ??= new List<ReadOnlyMemory<byte>>(n);
                        candidates ??= System.Buffers.ArrayPool<int>.Shared.Rent(n);
                        candidates[bodies.Count] = i;
                        bodies.Add(payload[KplFormat.MagicLength..^KplFormat.DigestLength]);
                    }
                }
                catch (RecordFormatException ex)
                {
                    sequential = Fail(ex, i, ref reservations[i], batch, userRecordCounts, errors, sequenceNumberOf);
                    if (sequential)
                    {
                        ReleaseAll(reservations, i, batch, errors);
                    }
                }
            }

            // 2. All MD5 trailers at once.
            if (!sequential && bodies is not null)
            {
                digests = System.Buffers.ArrayPool<byte>.Shared.Rent(bodies.Count * KplFormat.DigestLength);
                MultiBufferMd5.HashData(bodies, digests);
                for (int k = 0; k < bodies.Count; k++)
                {
                    int i = candidates![k];
                    verified[i] = errors[i] is null && digests.AsSpan(k * KplFormat.DigestLength, KplFormat.DigestLength).SequenceEqual(payloads[i].Span[^KplFormat.DigestLength..]);
                }
            }

            // 3. Each record split (or passed through) without hashing again.
            for (int i = 0; i < n && !sequential; i++)
            {
                if (errors[i] is not null)
                {
                    continue;
                }
                if (!verified[i])
                {
                    destination.Add(new UserRecordData(payloads[i], null));
                    userRecordCounts[i] = 1;
                    continue;
                }
                int before = destination.Count;
                try
                {
                    AppendAggregate(payloads[i], destination, ref reservations[i], buffers);
                    userRecordCounts[i] = destination.Count - before;
                }
                catch (RecordFormatException ex)
                {
                    destination.RemoveRange(before, destination.Count - before);
                    sequential = Fail(ex, i, ref reservations[i], batch, userRecordCounts, errors, sequenceNumberOf);
                    if (sequential)
                    {
                        ReleaseAll(reservations, n, batch, errors);
                    }
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<ReadOnlyMemory<byte>>.Shared.Return(payloads, clearArray: true);
            System.Buffers.ArrayPool<Reservation>.Shared.Return(reservations, clearArray: true);
            System.Buffers.ArrayPool<bool>.Shared.Return(verified);
            if (candidates is not null)
            {
                System.Buffers.ArrayPool<int>.Shared.Return(candidates);
            }
            if (digests is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(digests);
            }
        }

        if (!sequential)
        {
            return;
        }

        // The batch budget ran out: the order in which records reserve it decides which one fails, so start again
        // one record after the other, as DecodeData would have gone.
        destination.RemoveRange(start, destination.Count - start);
        for (int i = 0; i < n; i++)
        {
            errors[i] = null;
            try
            {
                userRecordCounts[i] = DecodeData(records[i], null, destination, batch, buffers);
            }
            catch (RecordFormatException ex)
            {
                userRecordCounts[i] = 0;
                ex.SequenceNumber ??= sequenceNumberOf?.Invoke(i);
                errors[i] = ex;
            }
        }
    }

    /// <summary>Records a failing record of a batch; true when the batch budget ran out (decode again one by one).</summary>
    private static bool Fail(RecordFormatException ex, int index, ref Reservation reserved, DecompressionBudget? batch, Span<int> counts, Span<RecordFormatException?> errors, Func<int, string?>? sequenceNumberOf)
    {
        batch?.Release(reserved.Bytes);
        reserved = default;
        if (ex is DecompressionLimitException { Scope: DecompressionLimitScope.Batch })
        {
            return true;
        }
        ex.SequenceNumber ??= sequenceNumberOf?.Invoke(index);
        errors[index] = ex;
        counts[index] = 0;
        return false;
    }

    /// <summary>Gives back what records [0, count) of a batch reserved (a failed record has already).</summary>
    private static void ReleaseAll(Reservation[] reservations, int count, DecompressionBudget? batch, Span<RecordFormatException?> errors)
    {
        for (int i = 0; i < count; i++)
        {
            if (errors[i] is null)
            {
                batch?.Release(reservations[i].Bytes);
            }
            reservations[i] = default;
        }
    }

    /// <summary>Splits an aggregate whose magic and MD5 were checked into slices (sub-record frames decompressed); all or nothing is left to the caller.</summary>
    private void AppendAggregate(ReadOnlyMemory<byte> payload, List<UserRecordData> destination, ref Reservation reserved, RecordDecodeBuffers? buffers)
    {
        int before = destination.Count;
        var reader = KplAggregateReader.CreateVerified(payload.Span);
        try
        {
            if (reader.RecordCount == 0)
            {
                throw new AggregateFormatException(KplFormat.MagicLength, "the aggregate holds no records (MD5 valid, records field absent)");
            }
            destination.EnsureCapacity(before + reader.RecordCount);
            while (reader.TryRead(out var sub))
            {
                destination.Add(new UserRecordData(payload.Slice(sub.DataOffset, sub.Data.Length), sub.Index));
            }
        }
        finally
        {
            reader.Dispose();
        }
        if (_decompressSubRecords)
        {
            for (int i = before; i < destination.Count; i++)
            {
                var r = destination[i];
                if (CompressedFrame.HasMagic(r.Data.Span))
                {
                    destination[i] = new UserRecordData(DecodeSubRecordFrame(r.Data.Span, r.SubSequenceNumber ?? 0, ref reserved, buffers), r.SubSequenceNumber);
                }
            }
        }
    }

    private byte[] DecodeFrame(ReadOnlySpan<byte> frame, ref Reservation reserved)
    {
        var info = ReadFrameInfo(frame, ref reserved);
        return CompressedFrame.Decode(frame, info);
    }

    private CompressedFrameInfo ReadFrameInfo(ReadOnlySpan<byte> frame, ref Reservation reserved)
    {
        var info = CompressedFrame.ReadInfo(frame);
        if (info.UncompressedLength > _maxDecompressed)
        {
            throw new CompressedFrameException(6, $"declares {info.UncompressedLength} uncompressed bytes, over the limit of {_maxDecompressed}", info.Codec);
        }
        reserved.Add(info);
        return info;
    }

    private ReadOnlyMemory<byte> DecodeFrame(ReadOnlySpan<byte> frame, ref Reservation reserved, RecordDecodeBuffers? buffers)
    {
        if (buffers is null)
        {
            return DecodeFrame(frame, ref reserved);
        }
        var info = ReadFrameInfo(frame, ref reserved);
        var output = buffers.Rent(info.UncompressedLength);
        CompressedFrame.Decode(frame, info, output.AsSpan(0, info.UncompressedLength));
        return output.AsMemory(0, info.UncompressedLength);
    }

    private void DecompressSubRecords(List<UserRecord> records, int start, ref Reservation reserved)
    {
        for (int i = start; i < records.Count; i++)
        {
            var r = records[i];
            if (CompressedFrame.HasMagic(r.Data.Span))
            {
                ReadOnlyMemory<byte> data = DecodeSubRecordFrame(r.Data.Span, r.SubSequenceNumber, ref reserved, null);
                records[i] = new UserRecord(r.PartitionKey, r.ExplicitHashKey, data, r.SequenceNumber, r.SubSequenceNumber, r.IsAggregated);
            }
        }
    }

    private ReadOnlyMemory<byte> DecodeSubRecordFrame(ReadOnlySpan<byte> frame, long subSequenceNumber, ref Reservation reserved, RecordDecodeBuffers? buffers)
    {
        try
        {
            return DecodeFrame(frame, ref reserved, buffers);
        }
        catch (DecompressionLimitException ex)
        {
            throw new DecompressionLimitException(ex.Offset, $"sub-record {subSequenceNumber}: {ex.Problem}", ex.Scope, ex.Limit, ex.Codec);
        }
        catch (CompressedFrameException ex) when (ex is not UnknownCodecException)
        {
            throw new CompressedFrameException(ex.Offset, $"sub-record {subSequenceNumber}: {ex.Problem}", ex.Codec, ex);
        }
    }

    /// <summary>What one record has reserved so far, checked against the per-record bound and the batch's budget.</summary>
    private struct Reservation(RecordDecoder decoder, DecompressionBudget? batch)
    {
        public long Bytes { get; private set; }

        public void Add(CompressedFrameInfo info)
        {
            long declared = info.UncompressedLength;
            if (declared > decoder._maxPerRecord - Bytes)
            {
                throw new DecompressionLimitException(6,
                    $"decompressing would produce more than {decoder._maxPerRecord} bytes, the limit per Kinesis record ({Bytes} bytes so far, the next frame declares {declared})",
                    DecompressionLimitScope.Record, decoder._maxPerRecord, info.Codec);
            }
            if (batch is not null && !batch.TryReserve(declared))
            {
                throw new DecompressionLimitException(6,
                    $"decompressing would take the batch past {batch.MaxBytes} bytes, the limit per batch ({batch.UsedBytes} bytes used; this frame declares {declared}); retry it in a smaller batch",
                    DecompressionLimitScope.Batch, batch.MaxBytes, info.Codec);
            }
            Bytes += declared;
        }
    }
}

/// <summary>
/// Pooled arrays for <see cref="RecordDecoder.DecodeData"/>'s decompressed frames, so decoding a batch of compressed
/// records allocates no array per record. The data handed out stay valid until <see cref="ReturnAll"/>. Not thread-safe.
/// </summary>
public sealed class RecordDecodeBuffers : IDisposable
{
    private readonly List<byte[]> _rented = [];

    internal byte[] Rent(int length)
    {
        var array = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        _rented.Add(array);
        return array;
    }

    /// <summary>Returns every array handed out so far to the pool; data decoded into them must no longer be used.</summary>
    public void ReturnAll()
    {
        foreach (var array in _rented)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(array);
        }
        _rented.Clear();
    }

    /// <inheritdoc />
    public void Dispose() => ReturnAll();
}
