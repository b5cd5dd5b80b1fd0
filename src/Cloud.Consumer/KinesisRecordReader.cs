using Cloud.Consumer.Events;
using Cloud.Records;

namespace Cloud.Consumer;

/// <summary>
/// Turns a Kinesis record of a Lambda event into user records: base64 → decompress this project's
/// compressed frames → deaggregate KPL aggregates (records without the KPL magic or with a bad MD5 pass
/// through unchanged) → the <see cref="IUserRecordTransform"/> stages. Thread-safe.
/// </summary>
public sealed class KinesisRecordReader
{
    private readonly IUserRecordTransform[] _transforms;

    /// <summary>Creates a reader with optional transform stages (run in the given order).</summary>
    public KinesisRecordReader(IEnumerable<IUserRecordTransform>? transforms = null)
    {
        _transforms = transforms?.ToArray() ?? [];
        if (Array.IndexOf(_transforms, null) >= 0)
        {
            throw new ArgumentException("Transform stages must not be null.", nameof(transforms));
        }
    }

    /// <summary>The transform stages, in order.</summary>
    public IReadOnlyList<IUserRecordTransform> Transforms => _transforms;

    /// <summary>
    /// Decodes <paramref name="record"/> into its user records (one for a plain record, N for an aggregate).
    /// </summary>
    /// <exception cref="KinesisRecordDecodeException">Malformed base64, corrupt aggregate or damaged/unknown compressed frame.</exception>
    public static IReadOnlyList<UserRecordContext> Decode(KinesisEventRecord record, int parentIndex = 0)
    {
        var output = new List<UserRecordContext>(1);
        Decode(record, parentIndex, output);
        return output;
    }

    /// <summary>Decodes <paramref name="record"/>, appending its user records to <paramref name="output"/>.</summary>
    /// <exception cref="KinesisRecordDecodeException">See <see cref="Decode(KinesisEventRecord, int)"/>.</exception>
    public static void Decode(KinesisEventRecord record, int parentIndex, List<UserRecordContext> output) =>
        Decode(record, parentIndex, output, RecordDecoder.Default, null);

    /// <summary>
    /// Decodes <paramref name="record"/> with <paramref name="decoder"/>, counting its decompressed bytes against
    /// <paramref name="batch"/> (one budget per batch), and appends its user records to <paramref name="output"/>.
    /// </summary>
    /// <exception cref="KinesisRecordDecodeException">
    /// See <see cref="Decode(KinesisEventRecord, int)"/>; also a record over a decompression bound
    /// (inner <see cref="DecompressionLimitException"/>).
    /// </exception>
    public static void Decode(KinesisEventRecord record, int parentIndex, List<UserRecordContext> output, RecordDecoder decoder, DecompressionBudget? batch)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(output);
        ReadOnlyMemory<byte> bytes = DecodeBase64(record, out KinesisRecordData kinesis);
        int start = output.Count;
        try
        {
            UserRecordDecoding.Decode(decoder, batch, bytes, kinesis.PartitionKey ?? "", kinesis.SequenceNumber, output, record, parentIndex);
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException)
        {
            output.RemoveRange(start, output.Count - start);
            throw new KinesisRecordDecodeException(kinesis.SequenceNumber, RecordFailureStage.Decode, ex.Message, ex);
        }
    }

    /// <summary>
    /// Decodes a whole batch: every record's base64 first, then the MD5 trailers of all KPL aggregates at once
    /// (<see cref="RecordFormat.Detect(IReadOnlyList{ReadOnlyMemory{byte}}, Span{DetectedRecord})"/>, multi-buffer MD5),
    /// then each record's user records, appended to <paramref name="output"/> in record order (their
    /// <see cref="UserRecordContext.ParentIndex"/> is the record's index). Each record succeeds or fails alone, with
    /// exactly the user records and errors <see cref="Decode(KinesisEventRecord, int, List{UserRecordContext}, RecordDecoder, DecompressionBudget?)"/> gives.
    /// </summary>
    /// <returns>One entry per record: null when its user records were appended, else why it failed (nothing appended for it).</returns>
    public static KinesisRecordDecodeException?[] DecodeBatch(IReadOnlyList<KinesisEventRecord> records, List<UserRecordContext> output, RecordDecoder decoder, DecompressionBudget? batch)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(decoder);
        var failures = new KinesisRecordDecodeException?[records.Count];
        var data = new ReadOnlyMemory<byte>[records.Count];
        for (int i = 0; i < records.Count; i++)
        {
            try
            {
                ArgumentNullException.ThrowIfNull(records[i], nameof(records));
                data[i] = DecodeBase64(records[i], out _);
            }
            catch (KinesisRecordDecodeException ex)
            {
                failures[i] = ex;
            }
        }

        var detected = new DetectedRecord[records.Count];
        RecordFormat.Detect(data, detected);
        for (int i = 0; i < records.Count; i++)
        {
            if (failures[i] is not null)
            {
                continue;
            }
            KinesisEventRecord record = records[i];
            KinesisRecordData kinesis = record.Kinesis!;
            int start = output.Count;
            try
            {
                UserRecordDecoding.Decode(decoder, batch, detected[i], kinesis.PartitionKey ?? "", kinesis.SequenceNumber, output, record, i);
            }
            catch (Exception ex) when (ex is FormatException or InvalidDataException)
            {
                output.RemoveRange(start, output.Count - start);
                failures[i] = new KinesisRecordDecodeException(kinesis.SequenceNumber, RecordFailureStage.Decode, ex.Message, ex);
            }
        }
        return failures;
    }

    private static ReadOnlyMemory<byte> DecodeBase64(KinesisEventRecord record, out KinesisRecordData kinesis)
    {
        kinesis = record.Kinesis ?? throw new KinesisRecordDecodeException("(unknown)", RecordFailureStage.Decode, "the record has no 'kinesis' object");
        string base64 = kinesis.Data ?? "";
        byte[] bytes = new byte[(base64.Length / 4 * 3) + 3];
        if (!Convert.TryFromBase64String(base64, bytes, out int length))
        {
            throw new KinesisRecordDecodeException(kinesis.SequenceNumber, RecordFailureStage.Base64,
                $"'data' is not valid base64 ({base64.Length} characters)");
        }
        return bytes.AsMemory(0, length);
    }

    /// <summary>Runs the transform stages over <paramref name="record"/>, in order.</summary>
    public async ValueTask<UserRecordContext> TransformAsync(UserRecordContext record, CancellationToken cancellationToken)
    {
        foreach (IUserRecordTransform transform in _transforms)
        {
            record = await transform.TransformAsync(record, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Transform {transform.GetType().Name} returned null for record {record.Describe()}.");
        }

        return record;
    }
}
