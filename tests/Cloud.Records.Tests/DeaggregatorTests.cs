using Google.Protobuf;
using CsCheck;

namespace Cloud.Records.Tests;

public class DeaggregatorTests
{
    [Fact]
    public void Records_without_magic_pass_through_unchanged()
    {
        Gen.Byte.Array[0, 500].Where(b => !KplFormat.HasMagic(b)).Sample(data =>
        {
            var users = KplDeaggregator.Deaggregate(data, "pk", "seq", "77");
            var only = Assert.Single(users);
            Assert.Equal(data, only.Data.ToArray());
            Assert.Equal("pk", only.PartitionKey);
            Assert.Equal("77", only.ExplicitHashKey);
            Assert.Equal("seq", only.SequenceNumber);
            Assert.Equal(0, only.SubSequenceNumber);
            Assert.False(only.IsAggregated);
        }, iter: 2_000);
    }

    [Fact]
    public void An_aggregate_with_any_flipped_bit_after_the_magic_passes_through_unchanged()
    {
        // MD5 covers every protobuf byte and is itself the trailer: any single flip breaks the match.
        Gen.Select(Generators.Records, Gen.Int, Gen.Int[0, 7]).Sample((records, at, bit) =>
        {
            byte[] bytes = OracleTests.EncodeWithOracle(records);
            int index = 4 + (int)((uint)at % (uint)(bytes.Length - 4));
            bytes[index] ^= (byte)(1 << bit);
            var only = Assert.Single(KplDeaggregator.Deaggregate(bytes, "pk", "seq"));
            Assert.False(only.IsAggregated);
            Assert.Equal(bytes, only.Data.ToArray());
            Assert.Equal(RecordKind.Raw, RecordFormat.Detect(bytes));
        }, iter: 2_000);
    }

    [Fact]
    public void Magic_alone_or_shorter_than_the_trailer_is_raw()
    {
        byte[] justMagic = [0xF3, 0x89, 0x9A, 0xC2];
        Assert.False(Assert.Single(KplDeaggregator.Deaggregate(justMagic, "pk")).IsAggregated);
        byte[] nineteen = [.. justMagic, .. new byte[15]];
        Assert.False(Assert.Single(KplDeaggregator.Deaggregate(nineteen, "pk")).IsAggregated);
    }

    [Fact]
    public void An_empty_aggregate_is_an_error_not_zero_user_records()
    {
        // docs/records.md: an MD5-valid aggregate with no records would otherwise vanish without a trace.
        var ex = Assert.Throws<AggregateFormatException>(() => KplDeaggregator.Deaggregate(OracleTests.Frame([]), "pk"));
        Assert.Equal(KplFormat.MagicLength, ex.Offset);
    }

    public static TheoryData<string, string, int, string> Malformed => new()
    {
        // name, protobuf hex, expected offset (from the start of the aggregate, magic included), expected words
        { "truncated tag varint", "0A016180", 7, "truncated varint in field tag" },
        { "table length past the end", "0A0561", 4, "partition_key_table declares 5 bytes but only 1 remain" },
        { "pk index out of range", "0A01611A0408011A00", 7, "partition_key_index 1 is out of range: the partition key table has 1 entries" },
        { "ehk index out of range", "0A01611A06080010001A00", 7, "explicit_hash_key_index 0 is out of range" },
        { "missing partition_key_index", "0A01611A021A00", 7, "missing required field partition_key_index (1)" },
        { "missing data", "0A01611A020800", 7, "missing required field data (3)" },
        { "records field as varint", "0A01611805", 7, "records (3) has wire type 0; expected 2" },
        { "data as varint", "0A01611A0408001805", 11, "data (3) has wire type 0; expected 2" },
        { "record body truncated varint", "0A01611A020880", 10, "truncated varint in partition_key_index" },
        { "group wire type", "0A01612B", 7, "unsupported wire type 3" },
        { "field number zero", "0A016100", 7, "field number 0" },
        { "overlong varint", "0A0161" + "1A0C08FFFFFFFFFFFFFFFFFFFF01", 10, "longer than 10 bytes" },
        { "max varint index", "0A0161" + "1A0D08FFFFFFFFFFFFFFFFFF011A00", 7, "partition_key_index 18446744073709551615 is out of range" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_aggregates_with_a_good_MD5_raise_a_typed_error_with_offset(string name, string protobufHex, int offset, string words)
    {
        byte[] aggregate = OracleTests.Frame(Convert.FromHexString(protobufHex));
        Assert.Equal(RecordKind.KplAggregated, RecordFormat.Detect(aggregate));
        var destination = new List<UserRecord> { new("keep", null, new byte[1], "0", 0, false) };
        var ex = Assert.Throws<AggregateFormatException>(() => KplDeaggregator.Deaggregate(aggregate, "pk", "seq-9", null, destination));
        Assert.True(ex.Offset == offset, $"{name}: offset {ex.Offset}, expected {offset}: {ex.Message}");
        Assert.True(ex.Message.Contains(words, StringComparison.Ordinal), ex.Message);
        Assert.Contains("seq-9", ex.Message, StringComparison.Ordinal);
        Assert.Single(destination); // all or nothing: earlier content kept, nothing partial appended
    }

    [Fact]
    public void A_failure_in_a_later_sub_record_appends_nothing()
    {
        // record 0 fine, record 1 has an out-of-range index.
        byte[] aggregate = OracleTests.Frame(Convert.FromHexString("0A01611A0508001A01781A0408051A00"));
        var destination = new List<UserRecord>();
        var ex = Assert.Throws<AggregateFormatException>(() => KplDeaggregator.Deaggregate(aggregate, "pk", "s", null, destination));
        Assert.Equal(1, ex.SubRecordIndex);
        Assert.Empty(destination);
    }

    [Fact]
    public void Truncating_a_valid_aggregate_and_refreshing_the_MD5_never_returns_wrong_records()
    {
        // Cut the protobuf at every position and re-sign it: either a clean prefix of the records or a typed error.
        Generators.Records.Sample(records =>
        {
            var proto = OracleTests.BuildOracleMessage(records).ToByteArray();
            for (int cut = 0; cut < proto.Length; cut += 1 + proto.Length / 50)
            {
                byte[] aggregate = OracleTests.Frame(proto[..cut]);
                try
                {
                    var users = KplDeaggregator.Deaggregate(aggregate, "pk");
                    Assert.True(users.Count <= records.Length);
                    for (int i = 0; i < users.Count; i++)
                    {
                        Assert.Equal(records[i].PartitionKey, users[i].PartitionKey);
                        Assert.Equal(records[i].Data, users[i].Data.ToArray());
                    }
                }
                catch (AggregateFormatException ex)
                {
                    Assert.InRange(ex.Offset, 4, aggregate.Length - 16);
                }
            }
        }, iter: 300);
    }

    [Fact]
    public void Reader_exposes_tables_and_zero_copy_slices()
    {
        using var builder = new AggregateBuilder();
        builder.TryAdd("a", "9", "one"u8);
        builder.TryAdd("b", null, "two"u8);
        var bytes = builder.ToArray();
        Assert.True(KplAggregateReader.TryCreate(bytes, out var reader));
        using (reader)
        {
            Assert.Equal(2, reader.PartitionKeyCount);
            Assert.Equal(1, reader.ExplicitHashKeyCount);
            Assert.Equal(2, reader.RecordCount);
            Assert.True(reader.TryRead(out var first));
            Assert.Equal("a"u8.ToArray(), reader.GetPartitionKeyUtf8(first.PartitionKeyIndex).ToArray());
            Assert.Equal("9"u8.ToArray(), reader.GetExplicitHashKeyUtf8(first.ExplicitHashKeyIndex).ToArray());
            Assert.Equal("one"u8.ToArray(), bytes.AsSpan(first.DataOffset, first.Data.Length).ToArray());
            Assert.True(reader.TryRead(out var second));
            Assert.Equal(-1, second.ExplicitHashKeyIndex);
            Assert.Equal(1, second.Index);
            Assert.False(reader.TryRead(out _));
        }
        Assert.False(KplAggregateReader.TryCreate("plain"u8, out _));
    }
}
