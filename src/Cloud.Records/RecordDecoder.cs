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

    /// <summary>Throws one <see cref="ArgumentException"/> naming every invalid option.</summary>
    public void Validate()
    {
        if (MaxDecompressedSize < 1)
        {
            throw new ArgumentException($"Invalid RecordDecoderOptions: MaxDecompressedSize must be positive; it is {MaxDecompressedSize}.");
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

    /// <summary>Creates a decoder.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public RecordDecoder(RecordDecoderOptions? options = null)
    {
        options ??= new RecordDecoderOptions();
        options.Validate();
        _maxDecompressed = options.MaxDecompressedSize;
        _decompressSubRecords = options.DecompressSubRecords;
    }

    /// <summary>A decoder with default options.</summary>
    public static RecordDecoder Default { get; } = new();

    /// <summary>Decodes one Kinesis record into its user records.</summary>
    /// <exception cref="RecordFormatException">
    /// The record is a damaged compressed frame (<see cref="CompressedFrameException"/>) or a malformed aggregate
    /// (<see cref="AggregateFormatException"/>); the exception names the sequence number and byte offset.
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
    /// <returns>The number of user records appended.</returns>
    /// <exception cref="RecordFormatException">The record is damaged (see <see cref="Decode(ReadOnlyMemory{byte}, string, string?, string?)"/>).</exception>
    public int Decode(ReadOnlyMemory<byte> data, string partitionKey, string? sequenceNumber, string? explicitHashKey, List<UserRecord> destination)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(destination);
        int before = destination.Count;
        try
        {
            var payload = data;
            var kind = RecordFormat.Detect(payload.Span);
            if (kind == RecordKind.Compressed)
            {
                payload = CompressedFrame.Decode(payload.Span, _maxDecompressed);
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
                DecompressSubRecords(destination, before);
            }
            return n;
        }
        catch (RecordFormatException ex)
        {
            destination.RemoveRange(before, destination.Count - before);
            ex.SequenceNumber ??= sequenceNumber;
            throw;
        }
    }

    private void DecompressSubRecords(List<UserRecord> records, int start)
    {
        for (int i = start; i < records.Count; i++)
        {
            var r = records[i];
            if (CompressedFrame.HasMagic(r.Data.Span))
            {
                byte[] data;
                try
                {
                    data = CompressedFrame.Decode(r.Data.Span, _maxDecompressed);
                }
                catch (CompressedFrameException ex) when (ex is not UnknownCodecException)
                {
                    throw new CompressedFrameException(ex.Offset, $"sub-record {r.SubSequenceNumber}: {ex.Problem}", ex.Codec, ex);
                }
                records[i] = new UserRecord(r.PartitionKey, r.ExplicitHashKey, data, r.SequenceNumber, r.SubSequenceNumber, r.IsAggregated);
            }
        }
    }
}
