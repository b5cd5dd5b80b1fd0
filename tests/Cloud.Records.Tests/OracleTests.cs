using System.Security.Cryptography;
using Cloud.Records.Tests.Oracle;
using CsCheck;
using Google.Protobuf;

namespace Cloud.Records.Tests;

/// <summary>Golden bytes built by hand from the spec, and Google.Protobuf (generated from the KPL .proto) as an oracle.</summary>
public class OracleTests
{
    private static readonly byte[] Magic = [0xF3, 0x89, 0x9A, 0xC2];

    [Fact]
    public void Golden_bytes_match_the_spec_written_out_by_hand()
    {
        using var builder = new AggregateBuilder();
        Assert.True(builder.TryAdd("a", null, "x"u8));
        Assert.True(builder.TryAdd("b", "5", "yz"u8));
        Assert.True(builder.TryAdd("a", null, ""u8));

        // partition_key_table "a","b"; explicit_hash_key_table "5"; three Record messages (field 3).
        byte[] protobuf = Convert.FromHexString("0A01610A01621201351A0508001A01781A08080110001A02797A1A0408001A00");
        // MD5 of the protobuf bytes, computed independently (Python hashlib).
        byte[] md5 = Convert.FromHexString("c7dc72342186d6cc9b1a780fcca23f85");
        byte[] expected = [.. Magic, .. protobuf, .. md5];

        Assert.Equal(expected, builder.ToArray());
        Assert.Equal(expected.Length, builder.EncodedSize);
        Assert.Equal("a", builder.PartitionKey);
        Assert.Null(builder.ExplicitHashKey);
        Assert.Equal(2, builder.PartitionKeyCount);
        Assert.Equal(1, builder.ExplicitHashKeyCount);
    }

    [Fact]
    public void Encoding_is_byte_identical_to_Google_Protobuf_for_random_aggregates()
    {
        Generators.Records.Sample(records =>
        {
            using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = KplFormat.MaxKinesisRecordSize });
            foreach (var r in records)
            {
                Assert.True(builder.TryAdd(r.PartitionKey, r.ExplicitHashKey, r.Data));
            }
            byte[] ours = builder.ToArray();
            byte[] oracle = EncodeWithOracle(records);
            Assert.Equal(oracle, ours);
            Assert.Equal(oracle.Length, builder.EncodedSize);
        }, iter: 2_000);
    }

    [Fact]
    public void Google_Protobuf_parses_what_we_encode()
    {
        Generators.Records.Sample(records =>
        {
            using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = KplFormat.MaxKinesisRecordSize });
            foreach (var r in records)
            {
                builder.TryAdd(r.PartitionKey, r.ExplicitHashKey, r.Data);
            }
            byte[] bytes = builder.ToArray();
            var parsed = AggregatedRecord.Parser.ParseFrom(bytes.AsSpan(4, bytes.Length - 20).ToArray());
            Assert.Equal(records.Length, parsed.Records.Count);
            for (int i = 0; i < records.Length; i++)
            {
                var rec = parsed.Records[i];
                Assert.Equal(records[i].PartitionKey, parsed.PartitionKeyTable[(int)rec.PartitionKeyIndex]);
                Assert.Equal(records[i].ExplicitHashKey is not null, rec.HasExplicitHashKeyIndex);
                if (rec.HasExplicitHashKeyIndex)
                {
                    Assert.Equal(records[i].ExplicitHashKey, parsed.ExplicitHashKeyTable[(int)rec.ExplicitHashKeyIndex]);
                }
                Assert.Equal(records[i].Data, rec.Data.ToByteArray());
            }
        }, iter: 1_000);
    }

    [Fact]
    public void We_decode_what_Google_Protobuf_encodes_including_tags_and_unknown_fields()
    {
        Generators.Records.Sample(records =>
        {
            var message = BuildOracleMessage(records);
            foreach (var rec in message.Records)
            {
                rec.Tags.Add(new Tag { Key = "k", Value = "v" }); // tags are carried by the format but unused
            }
            byte[] proto = message.ToByteArray();
            // An unknown top-level field (number 9, varint) must be skipped, as proto2 parsers do.
            byte[] withUnknown = [.. proto, 0x48, 0x96, 0x01];
            byte[] aggregate = Frame(withUnknown);

            var users = KplDeaggregator.Deaggregate(aggregate, "outer", "seq-1");
            Assert.Equal(records.Length, users.Count);
            for (int i = 0; i < records.Length; i++)
            {
                Assert.Equal(records[i].PartitionKey, users[i].PartitionKey);
                Assert.Equal(records[i].ExplicitHashKey, users[i].ExplicitHashKey);
                Assert.Equal(records[i].Data, users[i].Data.ToArray());
                Assert.Equal(i, users[i].SubSequenceNumber);
                Assert.Equal("seq-1", users[i].SequenceNumber);
                Assert.True(users[i].IsAggregated);
            }
        }, iter: 1_000);
    }

    [Fact]
    public void Tables_written_after_the_records_are_still_read()
    {
        // Protobuf allows fields in any order; a parser must not assume the tables come first.
        var rec = new Oracle.Record { PartitionKeyIndex = 1, Data = ByteString.CopyFromUtf8("late") }.ToByteArray();
        byte[] proto = [0x1A, (byte)rec.Length, .. rec, 0x0A, 0x01, (byte)'x', 0x0A, 0x01, (byte)'y'];
        var users = KplDeaggregator.Deaggregate(Frame(proto), "outer");
        var only = Assert.Single(users);
        Assert.Equal("y", only.PartitionKey);
        Assert.Equal("late"u8.ToArray(), only.Data.ToArray());
    }

    internal static byte[] Frame(byte[] protobuf) => [.. Magic, .. protobuf, .. MD5.HashData(protobuf)];

    internal static byte[] EncodeWithOracle(IReadOnlyList<TestRecord> records) => Frame(BuildOracleMessage(records).ToByteArray());

    internal static AggregatedRecord BuildOracleMessage(IReadOnlyList<TestRecord> records)
    {
        var message = new AggregatedRecord();
        var keys = new Dictionary<string, int>(StringComparer.Ordinal);
        var hashKeys = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var r in records)
        {
            if (!keys.TryGetValue(r.PartitionKey, out int k))
            {
                k = keys[r.PartitionKey] = keys.Count;
                message.PartitionKeyTable.Add(r.PartitionKey);
            }
            var rec = new Oracle.Record { PartitionKeyIndex = (ulong)k, Data = ByteString.CopyFrom(r.Data) };
            if (r.ExplicitHashKey is not null)
            {
                if (!hashKeys.TryGetValue(r.ExplicitHashKey, out int h))
                {
                    h = hashKeys[r.ExplicitHashKey] = hashKeys.Count;
                    message.ExplicitHashKeyTable.Add(r.ExplicitHashKey);
                }
                rec.ExplicitHashKeyIndex = (ulong)h;
            }
            message.Records.Add(rec);
        }
        return message;
    }
}
