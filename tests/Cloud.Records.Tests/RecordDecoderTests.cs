using System.Text;
using CsCheck;

namespace Cloud.Records.Tests;

public class RecordDecoderTests
{
    private static readonly Gen<byte[]> RawData = Gen.OneOf(
        Gen.Byte.Array[0, 400],
        Gen.String.Select(s => Encoding.UTF8.GetBytes("{\"text\":\"" + s + "\"}")),
        // raw records that start with the KPL magic but are not aggregates (bad MD5)
        Gen.Byte.Array[0, 100].Select(b => (byte[])[0xF3, 0x89, 0x9A, 0xC2, .. b]));

    [Fact]
    public void Detect_never_confuses_kinds()
    {
        Gen.Select(RawData.Where(b => !CompressedFrame.HasMagic(b)), Generators.Records, Gen.Enum<CompressionCodec>()).Sample((raw, records, codec) =>
        {
            byte[] aggregate = OracleTests.EncodeWithOracle(records);
            Assert.Equal(RecordKind.Raw, RecordFormat.Detect(raw));
            Assert.Equal(RecordKind.KplAggregated, RecordFormat.Detect(aggregate));
            Assert.Equal(RecordKind.Compressed, RecordFormat.Detect(CompressedFrame.Encode(aggregate, codec)));
            Assert.Equal(RecordKind.Compressed, RecordFormat.Detect(CompressedFrame.Encode(raw, codec)));
        }, iter: 2_000);
    }

    [Fact]
    public void Text_and_JSON_are_never_taken_for_a_frame_or_an_aggregate()
    {
        // The frame magic starts with 0xC1 and the KPL magic with 0xF3 followed by bytes that are not UTF-8 continuations
        // of a valid sequence: valid UTF-8 text can start with neither.
        Gen.String.Sample(s =>
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            Assert.Equal(RecordKind.Raw, RecordFormat.Detect(bytes));
        }, iter: 5_000);
    }

    [Fact]
    public void Decoder_round_trips_raw_aggregated_and_compressed_records()
    {
        Gen.Select(Generators.Records, Gen.Enum<CompressionCodec>(), Gen.Int[0, 3]).Sample((records, codec, mode) =>
        {
            using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = KplFormat.MaxKinesisRecordSize });
            foreach (var r in records)
            {
                // mode 3: per-record compression inside the aggregate
                builder.TryAdd(r.PartitionKey, r.ExplicitHashKey, mode == 3 ? CompressedFrame.Encode(r.Data, codec) : r.Data);
            }
            byte[] aggregate = builder.ToArray();
            byte[] record = mode switch
            {
                0 => aggregate,
                1 or 2 => CompressedFrame.Encode(aggregate, codec),
                _ => aggregate,
            };
            var users = RecordDecoder.Default.Decode(record, builder.PartitionKey!, "4959", null);
            Assert.Equal(records.Length, users.Count);
            for (int i = 0; i < records.Length; i++)
            {
                Assert.Equal(records[i].PartitionKey, users[i].PartitionKey);
                Assert.Equal(records[i].ExplicitHashKey, users[i].ExplicitHashKey);
                Assert.Equal(records[i].Data, users[i].Data.ToArray());
                Assert.Equal("4959", users[i].SequenceNumber);
                Assert.Equal(i, users[i].SubSequenceNumber);
                Assert.True(users[i].IsAggregated);
            }
        }, iter: 1_500);
    }

    [Fact]
    public void Raw_records_pass_through_and_compressed_raw_records_come_back_as_one_record()
    {
        Gen.Select(RawData.Where(b => !CompressedFrame.HasMagic(b)), Gen.Enum<CompressionCodec>()).Sample((raw, codec) =>
        {
            var plain = Assert.Single(RecordDecoder.Default.Decode(raw, "pk", "7", "123"));
            Assert.Equal(raw, plain.Data.ToArray());
            Assert.Equal("pk", plain.PartitionKey);
            Assert.Equal("123", plain.ExplicitHashKey);
            Assert.False(plain.IsAggregated);

            var unframed = Assert.Single(RecordDecoder.Default.Decode(CompressedFrame.Encode(raw, codec), "pk", "7"));
            Assert.Equal(raw, unframed.Data.ToArray());
            Assert.False(unframed.IsAggregated);
        }, iter: 2_000);
    }

    [Fact]
    public void Errors_name_the_sequence_number_and_append_nothing()
    {
        byte[] badAggregate = OracleTests.Frame(Convert.FromHexString("0A01611A0508001A01781A0408051A00"));
        byte[] badFrame = CompressedFrame.Encode(badAggregate, CompressionCodec.Zstd);
        byte[] flipped = CompressedFrame.Encode("hello"u8, CompressionCodec.Lz4);
        flipped[^6] ^= 0x10;
        var destination = new List<UserRecord>();

        var ex1 = Assert.Throws<AggregateFormatException>(() => RecordDecoder.Default.Decode(badFrame, "pk", "49001", null, destination));
        Assert.Contains("49001", ex1.Message, StringComparison.Ordinal);
        var ex2 = Assert.Throws<CompressedFrameException>(() => RecordDecoder.Default.Decode(flipped, "pk", "49002", null, destination));
        Assert.Contains("49002", ex2.Message, StringComparison.Ordinal);
        Assert.Contains("Lz4", ex2.Message, StringComparison.Ordinal);
        Assert.Empty(destination);

        // A damaged per-record frame inside a good aggregate fails the whole Kinesis record, naming the sub-record.
        using var builder = new AggregateBuilder();
        builder.TryAdd("a", null, "fine"u8);
        builder.TryAdd("b", null, flipped);
        var ex3 = Assert.Throws<CompressedFrameException>(() => RecordDecoder.Default.Decode(builder.ToArray(), "a", "49003", null, destination));
        Assert.Contains("sub-record 1", ex3.Message, StringComparison.Ordinal);
        Assert.Empty(destination);
    }

    [Fact]
    public void Sub_record_frames_stay_opaque_when_per_record_decompression_is_off()
    {
        byte[] frame = CompressedFrame.Encode("inner"u8, CompressionCodec.Snappy);
        using var builder = new AggregateBuilder();
        builder.TryAdd("a", null, frame);
        var decoder = new RecordDecoder(new RecordDecoderOptions { DecompressSubRecords = false });
        Assert.Equal(frame, Assert.Single(decoder.Decode(builder.ToArray(), "a")).Data.ToArray());
        Assert.Equal("inner"u8.ToArray(), Assert.Single(RecordDecoder.Default.Decode(builder.ToArray(), "a")).Data.ToArray());
    }
}
