using System.Security.Cryptography;

namespace Cloud.Records.Internal;

/// <summary>
/// MD5 as a checksum and key hash, not as security: the KPL aggregate format's trailer and Kinesis's
/// partition-key-to-shard mapping are both defined as MD5, so no other algorithm is possible here.
/// </summary>
internal static class Md5
{
#pragma warning disable CA5351 // MD5 is mandated by the wire formats (KPL trailer, Kinesis key hashing)
    public static void Hash(ReadOnlySpan<byte> source, Span<byte> destination) => MD5.HashData(source, destination);
#pragma warning restore CA5351
}
