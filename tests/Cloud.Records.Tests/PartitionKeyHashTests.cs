using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using CsCheck;

namespace Cloud.Records.Tests;

public class PartitionKeyHashTests
{
    [Theory]
    // Expected values: int(hashlib.md5(key.encode()).hexdigest(), 16) in Python.
    [InlineData("a", "16955237001963240173058271559858726497")]
    [InlineData("partitionKey", "193318062818912349798954611745638949166")]
    [InlineData("ключ-🔑", "310955279035442261340063556077498676343")]
    public void Hash_is_MD5_of_UTF8_as_big_endian_128_bit(string key, string expected)
    {
        Assert.Equal(expected, PartitionKeyHash.Format(PartitionKeyHash.Compute(key)));
        Assert.Equal(PartitionKeyHash.Compute(key), PartitionKeyHash.Compute(Encoding.UTF8.GetBytes(key)));
    }

    [Fact]
    public void Hash_matches_BigInteger_reading_of_the_digest()
    {
        Generators.PartitionKey.Sample(key =>
        {
            var digest = MD5.HashData(Encoding.UTF8.GetBytes(key));
            var big = new BigInteger(digest, isUnsigned: true, isBigEndian: true);
            Assert.Equal(big.ToString(CultureInfo.InvariantCulture), PartitionKeyHash.Format(PartitionKeyHash.Compute(key)));
        }, iter: 2_000);
    }

    [Fact]
    public void Hash_keys_round_trip_through_format_and_parse()
    {
        Generators.HashValue.Sample(v =>
        {
            string text = PartitionKeyHash.Format(v);
            Assert.Equal(v, PartitionKeyHash.ParseHashKey(text));
            Assert.True(PartitionKeyHash.TryParseHashKey(text, out var parsed));
            Assert.Equal(v, parsed);
        }, iter: 5_000);
    }

    [Theory]
    [InlineData("0", true)]
    [InlineData("340282366920938463463374607431768211455", true)]
    [InlineData("340282366920938463463374607431768211456", false)]
    [InlineData("999999999999999999999999999999999999999", false)]
    [InlineData("1000000000000000000000000000000000000000", false)]
    [InlineData("007", false)]
    [InlineData("+7", false)]
    [InlineData(" 7", false)]
    [InlineData("7 ", false)]
    [InlineData("", false)]
    [InlineData("12a", false)]
    public void Hash_key_validation_follows_the_Kinesis_pattern_and_range(string text, bool valid)
    {
        Assert.Equal(valid, PartitionKeyHash.TryParseHashKey(text, out _));
        if (!valid)
        {
            var ex = Assert.Throws<ArgumentException>(() => PartitionKeyHash.ParseHashKey(text));
            Assert.StartsWith("Invalid hash key", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Explicit_hash_key_overrides_the_partition_key()
    {
        Assert.Equal(UInt128.Parse("5", CultureInfo.InvariantCulture), PartitionKeyHash.ForRecord("a", "5"));
        Assert.Equal(PartitionKeyHash.Compute("a"), PartitionKeyHash.ForRecord("a", null));
        Assert.Throws<ArgumentException>(() => PartitionKeyHash.ForRecord("a", "-5"));
        Assert.Throws<ArgumentException>(() => PartitionKeyHash.Compute(new string('x', 257)));
        Assert.Throws<ArgumentException>(() => PartitionKeyHash.Compute(""));
    }
}
