using Cloud.Testing.Kinesis;
using System.Security.Cryptography;
using System.Text;

namespace Cloud.Producer.Tests;

/// <summary>Independent, minimal KPL aggregate decoder for assertions (magic, protobuf, MD5 trailer checked).</summary>
public static class TestKpl
{
    public sealed record SubRecord(string PartitionKey, string? ExplicitHashKey, byte[] Data);

    private static readonly byte[] Magic = [0xF3, 0x89, 0x9A, 0xC2];

    public static bool IsAggregate(byte[] data) =>
        data.Length >= 20 && data.AsSpan(0, 4).SequenceEqual(Magic)
        && MD5.HashData(data.AsSpan(4, data.Length - 20)).AsSpan().SequenceEqual(data.AsSpan(data.Length - 16));

    /// <summary>User records of a Kinesis record: the sub-records of an aggregate, or the record itself.</summary>
    public static List<SubRecord> Decode(StoredRecord record)
    {
        if (!IsAggregate(record.Data))
        {
            return [new SubRecord(record.PartitionKey, record.ExplicitHashKey, record.Data)];
        }
        var body = record.Data.AsSpan(4, record.Data.Length - 20);
        var pks = new List<string>();
        var ehks = new List<string>();
        var raw = new List<(int Pk, int Ehk, byte[] Data)>();
        int pos = 0;
        while (pos < body.Length)
        {
            ulong tag = ReadVarint(body, ref pos);
            int len = (int)ReadVarint(body, ref pos);
            var field = body.Slice(pos, len);
            pos += len;
            switch (tag)
            {
                case 0x0A: pks.Add(Encoding.UTF8.GetString(field)); break;
                case 0x12: ehks.Add(Encoding.UTF8.GetString(field)); break;
                case 0x1A:
                    int p = 0, pk = -1, ehk = -1;
                    byte[]? data = null;
                    while (p < field.Length)
                    {
                        ulong t = ReadVarint(field, ref p);
                        switch (t)
                        {
                            case 0x08: pk = (int)ReadVarint(field, ref p); break;
                            case 0x10: ehk = (int)ReadVarint(field, ref p); break;
                            case 0x1A:
                                int l = (int)ReadVarint(field, ref p);
                                data = field.Slice(p, l).ToArray();
                                p += l;
                                break;
                            default: throw new InvalidDataException($"unexpected record tag {t}");
                        }
                    }
                    raw.Add((pk, ehk, data ?? throw new InvalidDataException("record without data")));
                    break;
                default: throw new InvalidDataException($"unexpected tag {tag}");
            }
        }
        return [.. raw.Select(r => new SubRecord(pks[r.Pk], r.Ehk >= 0 ? ehks[r.Ehk] : null, r.Data))];
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int pos)
    {
        ulong value = 0;
        int shift = 0;
        while (true)
        {
            byte b = span[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
            shift += 7;
        }
    }
}
