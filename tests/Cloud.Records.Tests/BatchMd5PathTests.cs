using System.Security.Cryptography;
using CsCheck;

namespace Cloud.Records.Tests;

/// <summary>
/// The batch paths that hash many aggregates at once (multi-buffer MD5) give exactly what the one-at-a-time paths give:
/// the same bytes on encode, the same kinds, user records and typed errors on decode, record by record.
/// </summary>
public class BatchMd5PathTests
{
    /// <summary>A batch: aggregates of random records (1–40 of them, 1–60 records each, mixed keys and hash keys).</summary>
    private static readonly Gen<TestRecord[][]> Batches = Generators.Records.Array[1, 40];

    [Fact]
    public void Batch_encode_writes_the_same_bytes_as_WriteTo_for_random_records()
    {
        Batches.Sample(batch =>
        {
            var encoder = new AggregateBatchEncoder(); // CsCheck runs samples in parallel
            var expected = new List<byte[]>();
            var actual = new List<Memory<byte>>();
            foreach (var records in batch)
            {
                using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = 1024 * 1024 });
                foreach (var r in records)
                {
                    Assert.True(builder.TryAdd(r.PartitionKey, r.ExplicitHashKey, r.Data));
                }
                expected.Add(builder.ToArray());
                // At an offset inside a larger buffer, as pooled buffers are; the builder is reset at once (its bytes were copied).
                var buffer = new byte[builder.EncodedSize + 7];
                var slot = buffer.AsMemory(3, builder.EncodedSize);
                Assert.Equal(builder.EncodedSize, encoder.Write(builder, slot));
                builder.Reset();
                actual.Add(slot);
            }
            Assert.Equal(batch.Length, encoder.Pending);
            encoder.Complete();
            Assert.Equal(0, encoder.Pending);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(Convert.ToHexString(expected[i]), Convert.ToHexString(actual[i].Span));
            }
        }, iter: 1000);
    }

    [Fact]
    public void Trailers_are_written_only_by_Complete_and_Clear_forgets_them()
    {
        var encoder = new AggregateBatchEncoder();
        using var builder = new AggregateBuilder();
        Assert.True(builder.TryAdd("k", null, new byte[] { 1, 2, 3 }));
        var bytes = new byte[builder.EncodedSize];
        encoder.Write(builder, bytes);
        Assert.True(bytes.AsSpan(bytes.Length - 16).IndexOfAnyExcept((byte)0) < 0);
        Assert.False(KplDeaggregator.IsAggregated(bytes));
        encoder.Clear();
        encoder.Complete();
        Assert.False(KplDeaggregator.IsAggregated(bytes));
        encoder.Write(builder, bytes);
        encoder.Complete();
        Assert.Equal(builder.ToArray(), bytes);
        Assert.True(KplDeaggregator.IsAggregated(bytes));
    }

    [Fact]
    public void A_destination_too_short_is_refused_before_anything_is_written()
    {
        var encoder = new AggregateBatchEncoder();
        using var builder = new AggregateBuilder();
        builder.TryAdd("k", null, new byte[10]);
        var ex = Assert.Throws<ArgumentException>(() => encoder.Write(builder, new byte[builder.EncodedSize - 1]));
        Assert.Contains($"needs {builder.EncodedSize}", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, encoder.Pending);
    }

    /// <summary>What a batch of Kinesis records may hold: good aggregates, damaged ones of every kind, raw data, frames.</summary>
    private static readonly Gen<byte[]> KinesisRecord = Gen.Frequency(
        (6, Generators.Records.Select(Aggregate)),
        (2, Gen.Select(Generators.Records, Gen.Int, Gen.Byte).Select((records, at, value) => Damage(Aggregate(records), at, value))),
        (1, Gen.Select(Generators.Records, Gen.Int).Select((records, at) => Malformed(Aggregate(records), at))),
        (1, Generators.Data),
        (1, Gen.Byte.Array[0, 40].Select(b => (byte[])[0xF3, 0x89, 0x9A, 0xC2, .. b])),
        (1, Generators.Records.Select(records => Frame(Aggregate(records)))));

    [Fact]
    public void Batch_detect_and_decode_give_each_record_what_the_single_record_path_gives()
    {
        KinesisRecord.Array[0, 40].Sample(batch =>
        {
            var data = batch.Select(b => (ReadOnlyMemory<byte>)b).ToList();
            var detected = new DetectedRecord[batch.Length];
            RecordFormat.Detect(data, detected);
            var budget = RecordDecoder.Default.CreateBatchBudget();
            var batchOut = new List<UserRecord>();
            for (int i = 0; i < batch.Length; i++)
            {
                Assert.Equal(RecordFormat.Detect(batch[i]), detected[i].Kind);
                string seq = "seq-" + i;
                var single = Outcome(() => RecordDecoder.Default.Decode(batch[i], "outer", seq));
                var fromBatch = Outcome(() =>
                {
                    int before = batchOut.Count;
                    try
                    {
                        RecordDecoder.Default.Decode(detected[i], "outer", seq, null, batchOut, budget);
                    }
                    finally
                    {
                        Assert.True(batchOut.Count >= before);
                    }
                    return batchOut[before..];
                });
                Assert.Equal(single, fromBatch);
                var deaggregated = Outcome(() => KplDeaggregator.Deaggregate(batch[i], "outer", seq));
                var deaggregatedBatch = Outcome(() =>
                {
                    var list = new List<UserRecord>();
                    KplDeaggregator.Deaggregate(detected[i], "outer", seq, null, list);
                    return list;
                });
                Assert.Equal(deaggregated, deaggregatedBatch);
                Assert.Equal(ZeroCopy(batch[i]), ZeroCopy(detected[i]));
            }
        }, iter: 600);
    }

    [Fact]
    public void A_malformed_aggregate_in_a_batch_fails_alone()
    {
        var good = Aggregate([new TestRecord("a", null, [1]), new TestRecord("b", null, [2])]);
        var bad = Malformed(Aggregate([new TestRecord("c", null, [3])]), 0);
        var corrupt = Damage(good, 30, 0x5A);
        byte[][] batch = [good, bad, corrupt, good];
        var detected = new DetectedRecord[batch.Length];
        RecordFormat.Detect(batch.Select(b => (ReadOnlyMemory<byte>)b).ToList(), detected);
        Assert.Equal([RecordKind.KplAggregated, RecordKind.KplAggregated, RecordKind.Raw, RecordKind.KplAggregated], detected.Select(d => d.Kind));
        var output = new List<UserRecord>();
        Assert.Equal(2, RecordDecoder.Default.Decode(detected[0], "p", "s0", null, output));
        var ex = Assert.Throws<AggregateFormatException>(() => RecordDecoder.Default.Decode(detected[1], "p", "s1", null, output));
        Assert.Equal("s1", ex.SequenceNumber);
        Assert.Equal(1, RecordDecoder.Default.Decode(detected[2], "p", "s2", null, output)); // bad MD5: passes through
        Assert.Equal(2, RecordDecoder.Default.Decode(detected[3], "p", "s3", null, output));
        Assert.Equal(5, output.Count);
        Assert.Equal(corrupt, output[2].Data.ToArray());
    }

    [Fact]
    public void A_short_destination_is_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => RecordFormat.Detect([new byte[1], new byte[2]], new DetectedRecord[1]));
        Assert.Contains("2 records", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>What <see cref="KplAggregateReader"/> yields for a record opened alone: not an aggregate, its sub-records, or the error.</summary>
    private static string ZeroCopy(byte[] data)
    {
        try
        {
            if (!KplAggregateReader.TryCreate(data, out var reader))
            {
                return "not an aggregate";
            }
            try
            {
                return Read(reader);
            }
            finally
            {
                reader.Dispose();
            }
        }
        catch (AggregateFormatException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>The same for a record opened from a batch detection.</summary>
    private static string ZeroCopy(DetectedRecord record)
    {
        try
        {
            if (!KplAggregateReader.TryCreate(record, out var reader))
            {
                return "not an aggregate";
            }
            try
            {
                return Read(reader);
            }
            finally
            {
                reader.Dispose();
            }
        }
        catch (AggregateFormatException ex)
        {
            return ex.Message;
        }
    }

    private static string Read(KplAggregateReader reader)
    {
        var text = new System.Text.StringBuilder();
        while (reader.TryRead(out var sub))
        {
            text.Append(sub.Index).Append('|').Append(Convert.ToHexString(reader.GetPartitionKeyUtf8(sub.PartitionKeyIndex)))
                .Append('|').Append(Convert.ToHexString(sub.Data)).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>The user records, or the error's type, message, offset and sequence number.</summary>
    private static string Outcome(Func<IEnumerable<UserRecord>> decode)
    {
        try
        {
            return string.Join("\n", decode().Select(u =>
                $"{u.PartitionKey}|{u.ExplicitHashKey}|{Convert.ToHexString(u.Data.Span)}|{u.SequenceNumber}|{u.SubSequenceNumber}|{u.IsAggregated}"));
        }
        catch (RecordFormatException ex)
        {
            return $"{ex.GetType().Name}: {ex.Message} @{ex.Offset} seq {ex.SequenceNumber}";
        }
    }

    private static byte[] Aggregate(TestRecord[] records)
    {
        using var builder = new AggregateBuilder();
        foreach (var r in records)
        {
            builder.TryAdd(r.PartitionKey, r.ExplicitHashKey, r.Data);
        }
        return builder.ToArray();
    }

    private static byte[] Damage(byte[] aggregate, int at, byte value)
    {
        var copy = (byte[])aggregate.Clone();
        int i = (int)((uint)at % (uint)copy.Length);
        copy[i] ^= value == 0 ? (byte)1 : value;
        return copy;
    }

    /// <summary>A body byte changed and the MD5 recomputed: a valid trailer over broken protobuf (or a changed record).</summary>
    private static byte[] Malformed(byte[] aggregate, int at)
    {
        var copy = (byte[])aggregate.Clone();
        int body = copy.Length - KplFormat.Overhead;
        copy[KplFormat.MagicLength + (int)((uint)at % (uint)body)] = 0xFF;
#pragma warning disable CA5351 // the KPL checksum
        MD5.HashData(copy.AsSpan(KplFormat.MagicLength, body), copy.AsSpan(copy.Length - KplFormat.DigestLength));
#pragma warning restore CA5351
        return copy;
    }

    private static byte[] Frame(byte[] payload)
    {
        var frame = new byte[CompressedFrame.GetMaxEncodedLength(payload.Length, CompressionCodec.Zstd)];
        return frame[..CompressedFrame.Encode(payload, CompressionCodec.Zstd, frame)];
    }
}
