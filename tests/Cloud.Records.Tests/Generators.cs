using CsCheck;

namespace Cloud.Records.Tests;

/// <summary>Shared CsCheck generators: valid partition keys (incl. multi-byte UTF-8), hash keys, data, user records.</summary>
internal static class Generators
{
    private static readonly string[] Samples = ["user-1", "ключ", "🔑", "a", "Ω≈ç√", "order#42"];

    public static readonly Gen<string> PartitionKey = Gen.OneOf(
        Gen.Char.AlphaNumeric.Array[1, 40].Select(c => new string(c)),
        Gen.Char['\u00A0', '\uD7FF'].Array[1, 8].Select(c => new string(c)),
        Gen.Int[0, Samples.Length - 1].Select(i => Samples[i]),
        Gen.Int[1, 256].Select(n => new string('k', n)));

    /// <summary>Few distinct keys, so key tables dedupe.</summary>
    public static readonly Gen<string> RepeatingKey = Gen.Int[0, 5].Select(i => "key-" + i);

    public static readonly Gen<UInt128> HashValue = Gen.Select(Gen.ULong, Gen.ULong, (hi, lo) => new UInt128(hi, lo));

    public static readonly Gen<string?> ExplicitHashKey = Gen.Frequency(
        (3, Gen.Const((string?)null)),
        (1, HashValue.Select(v => (string?)PartitionKeyHash.Format(v))),
        (1, Gen.Int[0, 3].Select(i => (string?)(i * 1000).ToString(System.Globalization.CultureInfo.InvariantCulture))));

    public static readonly Gen<byte[]> Data = Gen.Frequency(
        (5, Gen.Byte.Array[0, 300]),
        (1, Gen.Byte.Array[0, 3000]),
        (1, Gen.Const(Array.Empty<byte>())));

    public static readonly Gen<TestRecord> Record = Gen.Select(
        Gen.OneOf(PartitionKey, RepeatingKey), ExplicitHashKey, Data,
        (k, h, d) => new TestRecord(k, h, d));

    public static readonly Gen<TestRecord[]> Records = Record.Array[1, 60];
}

internal sealed record TestRecord(string PartitionKey, string? ExplicitHashKey, byte[] Data);
