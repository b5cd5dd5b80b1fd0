using System.Buffers;
using System.Text;
using CsCheck;

namespace Cloud.Records.Tests;

public class AggregateBuilderTests
{
    private static readonly Gen<int> MaxSize = Gen.OneOf(Gen.Int[40, 2_000], Gen.Int[2_000, 60_000]);

    [Fact]
    public void Size_accounting_equals_encoded_size_and_never_exceeds_the_bound()
    {
        Gen.Select(Generators.Records, MaxSize).Sample((records, max) =>
        {
            using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = max });
            var accepted = new List<TestRecord>();
            foreach (var r in records)
            {
                int before = builder.EncodedSize;
                int count = builder.Count;
                if (builder.TryAdd(r.PartitionKey, r.ExplicitHashKey, r.Data))
                {
                    accepted.Add(r);
                }
                else
                {
                    // A refused record leaves the builder unchanged, and was refused only because it would not fit.
                    Assert.Equal(before, builder.EncodedSize);
                    Assert.Equal(count, builder.Count);
                    using var probe = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = KplFormat.MaxKinesisRecordSize });
                    foreach (var a in accepted)
                    {
                        probe.TryAdd(a.PartitionKey, a.ExplicitHashKey, a.Data);
                    }
                    probe.TryAdd(r.PartitionKey, r.ExplicitHashKey, r.Data);
                    Assert.True(probe.EncodedSize > max);
                }
                Assert.True(builder.EncodedSize <= max);
                Assert.Equal(builder.EncodedSize, builder.ToArray().Length);
            }
            Assert.Equal(accepted.Count, builder.Count);
            if (accepted.Count > 0)
            {
                Assert.Equal(OracleTests.EncodeWithOracle(accepted), builder.ToArray());
            }
        }, iter: 1_000);
    }

    [Fact]
    public void Fill_payload_units_bounds_the_billed_record_size_including_the_outer_key()
    {
        Gen.Select(Generators.Records, Gen.Int[1, 6]).Sample((records, units) =>
        {
            int max = units * KplFormat.PutPayloadUnitSize + 1_000; // rounded down to whole units by the builder
            using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = max, FillPayloadUnits = true });
            Assert.Equal(units * KplFormat.PutPayloadUnitSize, builder.SizeLimit);
            foreach (var r in records)
            {
                builder.TryAdd(r.PartitionKey, r.ExplicitHashKey, r.Data);
                if (builder.Count > 0)
                {
                    Assert.Equal(builder.ToArray().Length + Encoding.UTF8.GetByteCount(builder.PartitionKey!), builder.KinesisRecordSize);
                }
                Assert.True(builder.KinesisRecordSize <= builder.SizeLimit);
                Assert.True(builder.PayloadUnits <= units);
            }
        }, iter: 500);
    }

    [Fact]
    public void Fill_payload_units_packs_to_within_one_record_of_the_unit_boundary()
    {
        using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = 51_200, FillPayloadUnits = true });
        var data = new byte[200];
        int i = 0;
        while (builder.TryAdd("pk-" + (i % 50), null, data))
        {
            i++;
        }
        Assert.True(builder.KinesisRecordSize <= 51_200);
        Assert.True(builder.KinesisRecordSize > 51_200 - 220);
        Assert.Equal(2, builder.PayloadUnits);

        // The KPL's plain bound lets the billed size (aggregate + key) spill into a third unit.
        using var kpl = new AggregateBuilder();
        while (kpl.TryAdd("pk-" + (i++ % 50), null, data))
        {
        }
        Assert.True(kpl.EncodedSize <= 51_200);
    }

    [Fact]
    public void Reset_reuses_the_builder_and_produces_identical_bytes()
    {
        Generators.Records.Sample(records =>
        {
            using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = KplFormat.MaxKinesisRecordSize });
            foreach (var r in records)
            {
                builder.TryAdd("noise", "1", r.Data);
            }
            builder.Reset();
            Assert.Equal(0, builder.Count);
            Assert.Equal(KplFormat.Overhead, builder.EncodedSize);
            Assert.Null(builder.PartitionKey);
            foreach (var r in records)
            {
                builder.TryAdd(r.PartitionKey, r.ExplicitHashKey, r.Data);
            }
            Assert.Equal(OracleTests.EncodeWithOracle(records), builder.ToArray());
        }, iter: 300);
    }

    [Fact]
    public void WriteTo_span_and_buffer_writer_match_ToArray()
    {
        using var builder = new AggregateBuilder();
        builder.TryAdd("k", null, new byte[500]);
        builder.TryAdd("k2", "42", "abc"u8);
        var expected = builder.ToArray();

        var span = new byte[expected.Length + 10];
        Assert.Equal(expected.Length, builder.WriteTo(span));
        Assert.Equal(expected, span[..expected.Length]);

        var writer = new ArrayBufferWriter<byte>();
        Assert.Equal(expected.Length, builder.WriteTo(writer));
        Assert.Equal(expected, writer.WrittenSpan.ToArray());

        Assert.Throws<ArgumentException>(() => builder.WriteTo(new byte[expected.Length - 1]));
    }

    [Fact]
    public void EncodedSizeOfSingle_matches_a_one_record_aggregate()
    {
        Generators.Record.Sample(r =>
        {
            using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = KplFormat.MaxKinesisRecordSize });
            builder.TryAdd(r.PartitionKey, r.ExplicitHashKey, r.Data);
            Assert.Equal(builder.EncodedSize, AggregateBuilder.EncodedSizeOfSingle(r.PartitionKey, r.ExplicitHashKey, r.Data.Length));
        }, iter: 2_000);
    }

    [Fact]
    public void A_record_too_large_for_any_aggregate_is_refused_on_an_empty_builder()
    {
        using var builder = new AggregateBuilder();
        Assert.False(builder.TryAdd("k", null, new byte[51_200]));
        Assert.Equal(0, builder.Count);
        // 20 (magic + MD5) + 3 (key table entry "k") + 10 (record tag, 3-byte length, index field, data tag, 3-byte length)
        Assert.True(builder.TryAdd("k", null, new byte[51_200 - 33]));
        Assert.Equal(51_200, builder.EncodedSize);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void Invalid_partition_keys_are_rejected(string? key)
    {
        using var builder = new AggregateBuilder();
        Assert.ThrowsAny<ArgumentException>(() => builder.TryAdd(key!, null, "x"u8));
        Assert.ThrowsAny<ArgumentException>(() => builder.TryAdd(new string('k', 257), null, "x"u8));
        Assert.Equal(0, builder.Count);
    }

    [Fact]
    public void Partition_key_length_counts_characters_not_utf16_units()
    {
        // 256 characters outside the BMP: 512 UTF-16 units, 1,024 UTF-8 bytes (a 2-byte length prefix).
        string longest = string.Concat(Enumerable.Repeat("😀", KplFormat.MaxPartitionKeyLength));
        var records = new List<TestRecord> { new(longest, null, [1, 2, 3]), new("k", "7", [4]), new(longest, null, [5]) };
        using var builder = new AggregateBuilder();
        foreach (var r in records)
        {
            Assert.True(builder.TryAdd(r.PartitionKey, r.ExplicitHashKey, r.Data));
        }
        Assert.Equal(OracleTests.EncodeWithOracle(records), builder.ToArray());
        Assert.Equal(builder.EncodedSize + 1_024, builder.KinesisRecordSize);
        Assert.Equal(PartitionKeyHash.Compute(Encoding.UTF8.GetBytes(longest)), PartitionKeyHash.Compute(longest));

        string tooLong = longest + "😀";
        Assert.Throws<ArgumentException>(() => builder.TryAdd(tooLong, null, "x"u8));
        Assert.Throws<ArgumentException>(() => PartitionKeyHash.Compute(tooLong));
        Assert.Equal(3, builder.Count);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("01")]
    [InlineData("1.5")]
    [InlineData("340282366920938463463374607431768211456")]
    [InlineData("")]
    public void Invalid_explicit_hash_keys_are_rejected_and_named(string ehk)
    {
        using var builder = new AggregateBuilder();
        var ex = Assert.Throws<ArgumentException>(() => builder.TryAdd("user-7", ehk, "x"u8));
        Assert.Contains("user-7", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, builder.Count);
    }

    [Fact]
    public void Invalid_options_name_every_problem()
    {
        var ex = Assert.Throws<ArgumentException>(() => new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = 10, FillPayloadUnits = true }));
        Assert.Contains("MaxAggregateSize must be between", ex.Message, StringComparison.Ordinal);
        Assert.Contains("FillPayloadUnits", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Adding_records_to_a_warm_builder_allocates_nothing()
    {
        using var builder = new AggregateBuilder();
        var keys = Enumerable.Range(0, 300).Select(i => Guid.NewGuid().ToString()).ToArray();
        var data = new byte[200];
        var output = new byte[KplFormat.DefaultMaxAggregateSize];
        void Fill()
        {
            builder.Reset();
            foreach (var k in keys)
            {
                if (!builder.TryAdd(k, null, data))
                {
                    builder.WriteTo(output);
                    builder.Reset();
                    builder.TryAdd(k, null, data);
                }
            }
            builder.WriteTo(output);
        }
        Fill();
        Fill();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Fill();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
