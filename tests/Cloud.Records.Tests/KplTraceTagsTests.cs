using System.Diagnostics;
using Cloud.Records.Tests.Oracle;
using CsCheck;

namespace Cloud.Records.Tests;

/// <summary>Trace context in KPL per-record tags: Google.Protobuf (generated from the KPL .proto) is the oracle.</summary>
public class KplTraceTagsTests
{
    private static readonly Gen<ActivityContext?> Context = Gen.Frequency(
        (1, Gen.Const((ActivityContext?)null)),
        (3, Gen.Select(Gen.Byte.Array[16], Gen.Byte.Array[8], Gen.Bool, Gen.Bool, (t, s, sampled, state) =>
        {
            t[0] |= 1; // never the all-zero (invalid) id
            s[0] |= 1;
            return (ActivityContext?)new ActivityContext(
                ActivityTraceId.CreateFromBytes(t), ActivitySpanId.CreateFromBytes(s),
                sampled ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None, state ? "vendor=abc,other=1" : null);
        })));

    private static readonly Gen<(TestRecord Record, ActivityContext? Context)[]> TracedRecords =
        Gen.Select(Generators.Record, Context, (r, c) => (r, c)).Array[1, 40];

    [Fact]
    public void Google_Protobuf_reads_the_tags_and_the_records_unchanged()
    {
        TracedRecords.Sample(records =>
        {
            byte[] bytes = Build(records, out int encodedSize);
            Assert.Equal(encodedSize, bytes.Length);
            var parsed = AggregatedRecord.Parser.ParseFrom(bytes.AsSpan(4, bytes.Length - 20).ToArray());
            Assert.Equal(records.Length, parsed.Records.Count);
            for (int i = 0; i < records.Length; i++)
            {
                var rec = parsed.Records[i];
                Assert.Equal(records[i].Record.Data, rec.Data.ToByteArray());
                Assert.Equal(records[i].Record.PartitionKey, parsed.PartitionKeyTable[(int)rec.PartitionKeyIndex]);
                if (records[i].Context is { } c)
                {
                    Assert.Equal(KplTraceTags.TraceParentKey, rec.Tags[0].Key);
                    Assert.Equal($"00-{c.TraceId}-{c.SpanId}-{(c.TraceFlags == ActivityTraceFlags.Recorded ? "01" : "00")}", rec.Tags[0].Value);
                    Assert.Equal(c.TraceState is null ? 1 : 2, rec.Tags.Count);
                }
                else
                {
                    Assert.Empty(rec.Tags);
                }
            }
        }, iter: 1_000);
    }

    [Fact]
    public void Deaggregation_ignores_the_tags_and_ReadContexts_returns_them_by_sub_sequence_number()
    {
        TracedRecords.Sample(records =>
        {
            byte[] bytes = Build(records, out _);
            var users = KplDeaggregator.Deaggregate(bytes, "outer", "seq");
            var contexts = KplTraceTags.ReadContexts(bytes);
            Assert.Equal(records.Length, users.Count);
            Assert.Equal(records.Length, contexts.Length);
            for (int i = 0; i < records.Length; i++)
            {
                Assert.Equal(records[i].Record.Data, users[i].Data.ToArray());
                if (records[i].Context is { } c)
                {
                    Assert.Equal(c.TraceId, contexts[users[i].SubSequenceNumber].TraceId);
                    Assert.Equal(c.SpanId, contexts[i].SpanId);
                    Assert.Equal(c.TraceFlags, contexts[i].TraceFlags);
                    Assert.Equal(c.TraceState, contexts[i].TraceState);
                    Assert.True(contexts[i].IsRemote);
                }
                else
                {
                    Assert.Equal(default, contexts[i]);
                }
            }
        }, iter: 1_000);
    }

    [Fact]
    public void Tags_written_by_Google_Protobuf_are_read_and_other_tags_are_ignored()
    {
        const string traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        var message = new AggregatedRecord { PartitionKeyTable = { "k" } };
        var rec = new Oracle.Record { PartitionKeyIndex = 0, Data = Google.Protobuf.ByteString.CopyFromUtf8("x") };
        rec.Tags.Add(new Tag { Key = "app" }); // a key without a value
        rec.Tags.Add(new Tag { Key = "traceparent", Value = traceParent });
        message.Records.Add(rec);
        message.Records.Add(new Oracle.Record { PartitionKeyIndex = 0, Data = Google.Protobuf.ByteString.CopyFromUtf8("y") });
        var contexts = KplTraceTags.ReadContexts(OracleTests.Frame(Google.Protobuf.MessageExtensions.ToByteArray(message)));
        Assert.Equal(2, contexts.Length);
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", contexts[0].TraceId.ToHexString());
        Assert.Equal("b7ad6b7169203331", contexts[0].SpanId.ToHexString());
        Assert.Equal(default, contexts[1]);
    }

    [Fact]
    public void Golden_bytes_of_a_traced_record()
    {
        using var builder = new AggregateBuilder();
        const string traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        Assert.True(builder.TryAdd("a", null, "x"u8, KplTraceTags.Create(traceParent)));
        byte[] bytes = builder.ToArray();
        // Record: 08 00 | 1A 01 78 | 22 <len> (0A 0B "traceparent" 12 37 <55 bytes>)
        byte[] tag = [0x0A, 0x0B, .. "traceparent"u8, 0x12, 0x37, .. System.Text.Encoding.ASCII.GetBytes(traceParent)];
        byte[] record = [0x08, 0x00, 0x1A, 0x01, (byte)'x', 0x22, (byte)tag.Length, .. tag];
        byte[] protobuf = [0x0A, 0x01, (byte)'a', 0x1A, (byte)record.Length, .. record];
        Assert.Equal(OracleTests.Frame(protobuf), bytes);
        Assert.Equal(bytes.Length, AggregateBuilder.EncodedSizeOfSingle("a", null, 1, KplTraceTags.Create(traceParent)));
    }

    [Fact]
    public void Tags_count_towards_the_size_limit()
    {
        var tags = KplTraceTags.Create("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        var options = new AggregateBuilderOptions { MaxAggregateSize = 600 };
        using var plain = new AggregateBuilder(options);
        using var traced = new AggregateBuilder(options);
        byte[] data = new byte[40];
        int plainCount = 0, tracedCount = 0;
        while (plain.TryAdd("key", null, data)) { plainCount++; }
        while (traced.TryAdd("key", null, data, tags)) { tracedCount++; }
        Assert.True(tracedCount < plainCount);
        Assert.True(traced.EncodedSize <= 600);
        Assert.Equal(traced.EncodedSize, traced.ToArray().Length);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-a-traceparent")]
    [InlineData("00-00000000000000000000000000000000-b7ad6b7169203331-01")]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01")]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra")]
    public void Invalid_traceparents_are_refused(string traceParent)
    {
        var ex = Assert.Throws<ArgumentException>(() => KplTraceTags.Create(traceParent));
        Assert.Contains("W3C", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_tags_never_fail_a_record()
    {
        // A Record body whose field 4 claims more bytes than remain.
        Assert.False(KplTraceTags.TryGetContext([0x08, 0x00, 0x1A, 0x00, 0x22, 0x7F, 0x0A], out _));
        // A traceparent tag whose value is not a traceparent.
        var tags = KplRecordTags.Create(new KeyValuePair<string, string?>(KplTraceTags.TraceParentKey, "garbage"));
        Assert.False(KplTraceTags.TryGetContext(tags.Encoded, out _));
    }

    [Fact]
    public void Empty_context_means_no_tags() => Assert.True(KplTraceTags.Create(default(ActivityContext)).IsEmpty);

    private static byte[] Build((TestRecord Record, ActivityContext? Context)[] records, out int encodedSize)
    {
        using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = KplFormat.MaxKinesisRecordSize });
        foreach (var (r, c) in records)
        {
            var tags = c is { } context ? KplTraceTags.Create(context) : default;
            Assert.True(builder.TryAdd(r.PartitionKey, r.ExplicitHashKey, r.Data, tags));
        }
        encodedSize = builder.EncodedSize;
        return builder.ToArray();
    }
}
