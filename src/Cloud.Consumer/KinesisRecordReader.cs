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
        KinesisRecordData kinesis = record.Kinesis ?? throw new KinesisRecordDecodeException("(unknown)", RecordFailureStage.Decode, "the record has no 'kinesis' object");
        string seq = kinesis.SequenceNumber;
        string base64 = kinesis.Data ?? "";
        byte[] bytes = new byte[(base64.Length / 4 * 3) + 3];
        if (!Convert.TryFromBase64String(base64, bytes, out int length))
        {
            throw new KinesisRecordDecodeException(seq, RecordFailureStage.Base64,
                $"'data' is not valid base64 ({base64.Length} characters)");
        }

        int start = output.Count;
        try
        {
            UserRecordDecoding.Decode(decoder, batch, bytes.AsMemory(0, length), kinesis.PartitionKey ?? "", seq, output, record, parentIndex);
        }
        catch (FormatException ex)
        {
            output.RemoveRange(start, output.Count - start);
            throw new KinesisRecordDecodeException(seq, RecordFailureStage.Decode, ex.Message, ex);
        }
        catch (InvalidDataException ex)
        {
            output.RemoveRange(start, output.Count - start);
            throw new KinesisRecordDecodeException(seq, RecordFailureStage.Decode, ex.Message, ex);
        }
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
