using System.Buffers;

namespace Cloud.Records;

/// <summary>What a Kinesis record's data is.</summary>
public enum RecordKind
{
    /// <summary>Plain user data: neither a KPL aggregate nor a compressed frame.</summary>
    Raw,

    /// <summary>A KPL aggregate: KPL magic and a matching MD5 trailer.</summary>
    KplAggregated,

    /// <summary>A compressed frame of this project: starts with the frame magic C1 4B 43 46.</summary>
    Compressed,
}

/// <summary>Tells raw, KPL-aggregated and compressed records apart with no configuration.</summary>
public static class RecordFormat
{
    /// <summary>
    /// Detects the kind of <paramref name="data"/>: <see cref="RecordKind.Compressed"/> when it starts with the frame
    /// magic (a damaged frame is still reported as compressed, so decoding fails loudly instead of passing garbage
    /// on); <see cref="RecordKind.KplAggregated"/> when it has the KPL magic and a matching MD5; otherwise
    /// <see cref="RecordKind.Raw"/> (including KPL magic with a bad MD5, as KPL deaggregators do).
    /// </summary>
    public static RecordKind Detect(ReadOnlySpan<byte> data)
    {
        if (CompressedFrame.HasMagic(data))
        {
            return RecordKind.Compressed;
        }
        return KplDeaggregator.IsAggregated(data) ? RecordKind.KplAggregated : RecordKind.Raw;
    }

    /// <summary>
    /// Detects the kind of every record of a batch, as <see cref="Detect(ReadOnlySpan{byte})"/> does one by one, but
    /// checks the MD5 trailers of all KPL candidates together with <see cref="MultiBufferMd5"/> (16 per pass on
    /// AVX-512) instead of one single-stream MD5 each. Pass each result to
    /// <see cref="RecordDecoder.Decode(DetectedRecord, string, string?, string?, List{UserRecord}, DecompressionBudget?)"/>.
    /// </summary>
    /// <param name="records">The Kinesis records' data.</param>
    /// <param name="destination">Receives one <see cref="DetectedRecord"/> per record, in order.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <paramref name="records"/>.</exception>
    public static void Detect(IReadOnlyList<ReadOnlyMemory<byte>> records, Span<DetectedRecord> destination)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (destination.Length < records.Count)
        {
            throw new ArgumentException($"The destination holds {destination.Length} results; there are {records.Count} records.", nameof(destination));
        }
        List<ReadOnlyMemory<byte>>? bodies = null;
        int[]? candidates = null;
        for (int i = 0; i < records.Count; i++)
        {
            var data = records[i];
            var span = data.Span;
            if (CompressedFrame.HasMagic(span))
            {
                destination[i] = new DetectedRecord(data, RecordKind.Compressed);
            }
            else if (span.Length >= KplFormat.Overhead && KplFormat.HasMagic(span))
            {
                bodies ??= new List<ReadOnlyMemory<byte>>(records.Count);
                candidates ??= ArrayPool<int>.Shared.Rent(records.Count);
                candidates[bodies.Count] = i;
                bodies.Add(data[KplFormat.MagicLength..^KplFormat.DigestLength]);
                destination[i] = new DetectedRecord(data, RecordKind.Raw); // until its MD5 matches
            }
            else
            {
                destination[i] = new DetectedRecord(data, RecordKind.Raw);
            }
        }
        if (bodies is null)
        {
            return;
        }
        byte[] digests = ArrayPool<byte>.Shared.Rent(bodies.Count * KplFormat.DigestLength);
        try
        {
            MultiBufferMd5.HashData(bodies, digests);
            for (int k = 0; k < bodies.Count; k++)
            {
                int i = candidates![k];
                var data = records[i];
                if (digests.AsSpan(k * KplFormat.DigestLength, KplFormat.DigestLength).SequenceEqual(data.Span[^KplFormat.DigestLength..]))
                {
                    destination[i] = new DetectedRecord(data, RecordKind.KplAggregated);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(digests);
            ArrayPool<int>.Shared.Return(candidates!);
        }
    }
}

/// <summary>
/// A Kinesis record's data with its kind as <see cref="RecordFormat.Detect(IReadOnlyList{ReadOnlyMemory{byte}}, Span{DetectedRecord})"/>
/// found it (for <see cref="RecordKind.KplAggregated"/>: magic and MD5 checked). Only that method makes one, so a
/// decoder can trust the kind without hashing again; <c>default</c> is an empty raw record.
/// </summary>
public readonly struct DetectedRecord
{
    internal DetectedRecord(ReadOnlyMemory<byte> data, RecordKind kind)
    {
        Data = data;
        Kind = kind;
    }

    /// <summary>The record's data, as given to Detect.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>What the data is.</summary>
    public RecordKind Kind { get; }
}
