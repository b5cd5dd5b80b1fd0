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
}
