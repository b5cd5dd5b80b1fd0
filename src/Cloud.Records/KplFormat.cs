namespace Cloud.Records;

/// <summary>
/// Constants of the KPL aggregated record format:
/// <c>[magic F3 89 9A C2][protobuf AggregatedRecord][16-byte MD5 of the protobuf bytes]</c>
/// (awslabs/amazon-kinesis-producer, aggregation-format.md).
/// </summary>
public static class KplFormat
{
    /// <summary>Length of the magic prefix.</summary>
    public const int MagicLength = 4;

    /// <summary>Length of the MD5 trailer.</summary>
    public const int DigestLength = 16;

    /// <summary>Bytes an aggregate adds around its protobuf message (magic + MD5).</summary>
    public const int Overhead = MagicLength + DigestLength;

    /// <summary>The KPL's default <c>AggregationMaxSize</c>: 51,200 bytes.</summary>
    public const int DefaultMaxAggregateSize = 51_200;

    /// <summary>Size of one Kinesis PUT payload unit (25 KB = 25,600 bytes), the unit provisioned streams bill writes in.</summary>
    public const int PutPayloadUnitSize = 25_600;

    /// <summary>Largest record Kinesis accepts when a stream's maximum record size is raised (10 MiB, data plus partition key).</summary>
    public const int MaxKinesisRecordSize = 10 * 1024 * 1024;

    /// <summary>Longest partition key Kinesis accepts, in characters.</summary>
    public const int MaxPartitionKeyLength = 256;

    /// <summary>The four magic bytes F3 89 9A C2 that start every KPL aggregate.</summary>
    public static ReadOnlySpan<byte> Magic => [0xF3, 0x89, 0x9A, 0xC2];

    /// <summary>True when <paramref name="data"/> starts with the KPL magic (the MD5 is not checked).</summary>
    public static bool HasMagic(ReadOnlySpan<byte> data) => data.Length >= MagicLength && data[..MagicLength].SequenceEqual(Magic);
}
