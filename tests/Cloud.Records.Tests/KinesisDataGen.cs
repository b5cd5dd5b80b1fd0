using CsCheck;

namespace Cloud.Records.Tests;

/// <summary>
/// Random Kinesis record data for the decoder properties: plain bytes, KPL aggregates (with explicit hash keys, with
/// lz4 sub-record frames), zstd or gzip frames of them, and damaged ones (a flipped byte; a body that is not protobuf
/// under a matching MD5).
/// </summary>
internal static class KinesisDataGen
{
    private static readonly Gen<byte[]> Payload = Gen.Byte.Array[0, 300];

    public static readonly Gen<byte[]> Any =
        from records in Payload.Array[1, 20]
        from kind in Gen.Int[0, 8]
        from flip in Gen.Int[0, 10_000]
        select Make(records, kind, flip);

    /// <summary>Record data of <paramref name="kind"/> (0 plain … 8 malformed body under a valid MD5) from <paramref name="records"/>.</summary>
    public static byte[] Make(byte[][] records, int kind, int flip)
    {
        byte[] data;
        if (kind == 0)
        {
            data = records[0];
        }
        else
        {
            using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = 1024 * 1024 });
            foreach (byte[] r in records)
            {
                Assert.True(builder.TryAdd("pk-" + (r.Length % 4), r.Length % 5 == 0 ? "12345" : null, kind == 4 ? CompressedFrame.Encode(r, CompressionCodec.Lz4) : r));
            }
            data = builder.ToArray();
        }
        if (kind is 2 or 3 or 7)
        {
            data = CompressedFrame.Encode(data, kind == 3 ? CompressionCodec.Gzip : CompressionCodec.Zstd);
        }
        if (kind is 5 or 6 or 7 && data.Length > 0)
        {
            data[flip % data.Length] ^= (byte)(1 + (flip % 255));
        }
        if (kind == 8 && data.Length > 30)
        {
            // Magic and MD5 match, body malformed: the MD5 is recomputed over a damaged body.
            data[KplFormat.MagicLength] = 0x07; // field 0: not valid protobuf
            System.Security.Cryptography.MD5.HashData(data.AsSpan(KplFormat.MagicLength, data.Length - KplFormat.Overhead), data.AsSpan(data.Length - KplFormat.DigestLength));
        }
        return data;
    }
}
