using Cloud.Records;

namespace Cloud.Benchmarks.Reliability;

/// <summary>How an input was damaged.</summary>
internal enum MutationKind
{
    BitFlip,
    ByteInsert,
    ByteDelete,
    Truncate,
    LengthField,
    HugeLength,
    Splice,
    Structured,
}

/// <summary>
/// Damages valid inputs the ways real bytes go bad or are crafted: bit flips, inserted and deleted bytes, truncation,
/// corrupted length fields (a target can point at its own), huge declared lengths (out-of-memory attempts) and splices
/// of two valid inputs. Deterministic for a given <see cref="Random"/>.
/// </summary>
internal static class Mutator
{
    private static readonly ulong[] HugeValues =
    [
        int.MaxValue, (ulong)int.MaxValue + 1, uint.MaxValue, 1UL << 35, 1UL << 40, long.MaxValue, ulong.MaxValue,
        int.MaxValue - 1, 0x0FFF_FFFF, 0x00FF_FFFF,
    ];

    private static readonly byte[] Interesting = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE, 0x0A, 0x12, 0x1A, 0x22, (byte)'"', (byte)'{', (byte)'\\'];

    /// <summary>One mutation of <paramref name="input"/> (never the same array).</summary>
    public static (byte[] Output, MutationKind Kind) Mutate(Random random, byte[] input, IReadOnlyList<byte[]> corpus, Func<byte[], IReadOnlyList<int>>? lengthFields)
    {
        var kind = (MutationKind)random.Next(7);
        return (Apply(random, kind, input, corpus, lengthFields), kind);
    }

    public static byte[] Apply(Random random, MutationKind kind, byte[] input, IReadOnlyList<byte[]> corpus, Func<byte[], IReadOnlyList<int>>? lengthFields)
    {
        switch (kind)
        {
            case MutationKind.BitFlip:
            {
                var output = (byte[])input.Clone();
                int flips = 1 + random.Next(4);
                for (int i = 0; i < flips && output.Length > 0; i++)
                {
                    output[random.Next(output.Length)] ^= (byte)(1 << random.Next(8));
                }
                return output;
            }
            case MutationKind.ByteInsert:
            {
                int at = random.Next(input.Length + 1);
                int count = 1 + random.Next(random.Next(2) == 0 ? 4 : 64);
                var output = new byte[input.Length + count];
                input.AsSpan(0, at).CopyTo(output);
                for (int i = 0; i < count; i++)
                {
                    output[at + i] = random.Next(2) == 0 ? Interesting[random.Next(Interesting.Length)] : (byte)random.Next(256);
                }
                input.AsSpan(at).CopyTo(output.AsSpan(at + count));
                return output;
            }
            case MutationKind.ByteDelete:
            {
                if (input.Length == 0)
                {
                    return [];
                }
                int at = random.Next(input.Length);
                int count = Math.Min(input.Length - at, 1 + random.Next(random.Next(2) == 0 ? 4 : 64));
                return [.. input.AsSpan(0, at), .. input.AsSpan(at + count)];
            }
            case MutationKind.Truncate:
                return input.AsSpan(0, input.Length == 0 ? 0 : random.Next(input.Length)).ToArray();
            case MutationKind.LengthField:
            case MutationKind.HugeLength:
            {
                var fields = lengthFields?.Invoke(input) ?? [];
                int at = Math.Min(input.Length, fields.Count > 0 && random.Next(8) != 0 ? fields[random.Next(fields.Count)] : random.Next(input.Length + 1));
                ulong value = kind == MutationKind.HugeLength
                    ? HugeValues[random.Next(HugeValues.Length)]
                    : (ulong)Math.Max(0, ReadVarint(input, at) + random.Next(-16, 17));
                return ReplaceVarint(input, at, value, padded: random.Next(16) == 0);
            }
            default:
            {
                var other = corpus[random.Next(corpus.Count)];
                int cut = random.Next(input.Length + 1);
                int from = random.Next(other.Length + 1);
                return [.. input.AsSpan(0, cut), .. other.AsSpan(from)];
            }
        }
    }

    /// <summary>The varint at <paramref name="at"/> (0 when there is none).</summary>
    private static long ReadVarint(byte[] data, int at)
    {
        long value = 0;
        for (int shift = 0, i = at; i < data.Length && shift < 63; i++, shift += 7)
        {
            value |= (long)(data[i] & 0x7F) << shift;
            if ((data[i] & 0x80) == 0)
            {
                return value;
            }
        }
        return value;
    }

    /// <summary>Replaces the varint at <paramref name="at"/> (or inserts one at the end) with <paramref name="value"/>.</summary>
    private static byte[] ReplaceVarint(byte[] data, int at, ulong value, bool padded)
    {
        int oldLength = 0;
        while (at + oldLength < data.Length && oldLength < 10)
        {
            if ((data[at + oldLength++] & 0x80) == 0)
            {
                break;
            }
        }
        Span<byte> encoded = stackalloc byte[11];
        int n = 0;
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            encoded[n++] = (byte)(value != 0 || (padded && n == 1) ? b | 0x80 : b);
        }
        while (value != 0 && n < 10);
        if (padded && encoded[n - 1] >= 0x80)
        {
            encoded[n++] = 0; // a non-minimal spelling of the same value
        }
        return [.. data.AsSpan(0, at), .. encoded[..n], .. data.AsSpan(at + oldLength)];
    }

    /// <summary>Offsets of every length varint of a protobuf message (recursing into <paramref name="nested"/> fields).</summary>
    public static List<int> ProtobufLengthFields(ReadOnlySpan<byte> message, int baseOffset, Func<int, bool> nested, List<int>? into = null)
    {
        into ??= [];
        int pos = 0;
        while (pos < message.Length)
        {
            if (!TryVarint(message, ref pos, out ulong tag))
            {
                break;
            }
            int wire = (int)(tag & 7);
            int field = (int)(tag >> 3);
            if (wire == 0)
            {
                if (!TryVarint(message, ref pos, out _))
                {
                    break;
                }
            }
            else if (wire == 2)
            {
                into.Add(baseOffset + pos);
                if (!TryVarint(message, ref pos, out ulong length) || length > (ulong)(message.Length - pos))
                {
                    break;
                }
                if (nested(field))
                {
                    ProtobufLengthFields(message.Slice(pos, (int)length), baseOffset + pos, _ => false, into);
                }
                pos += (int)length;
            }
            else
            {
                break;
            }
        }
        return into;
    }

    /// <summary>Length varints of a KPL aggregate (top-level tables and records, and the fields inside each record).</summary>
    public static IReadOnlyList<int> KplLengthFields(byte[] aggregate) =>
        aggregate.Length < KplFormat.Overhead
            ? []
            : ProtobufLengthFields(aggregate.AsSpan(KplFormat.MagicLength, aggregate.Length - KplFormat.Overhead), KplFormat.MagicLength, field => field == 3);

    private static bool TryVarint(ReadOnlySpan<byte> data, ref int pos, out ulong value)
    {
        value = 0;
        for (int shift = 0; pos < data.Length && shift < 64; shift += 7)
        {
            byte b = data[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }
        return false;
    }
}
