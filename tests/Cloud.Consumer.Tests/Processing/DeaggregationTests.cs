using System.Collections.Concurrent;
using System.Text;
using Cloud.Consumer.Events;
using Cloud.Records;
using CsCheck;

namespace Cloud.Consumer.Tests.Processing;

/// <summary>KPL aggregates and compressed frames through the processor: user records come out whole and in order.</summary>
public class DeaggregationTests
{
    private static byte[] Aggregate(IEnumerable<(string Key, byte[] Data)> records)
    {
        using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = 1024 * 1024 });
        foreach ((string key, byte[] data) in records)
        {
            Assert.True(builder.TryAdd(key, null, data));
        }

        return builder.ToArray();
    }

    private static readonly Gen<(string Key, byte[] Data)> UserRecordGen =
        Gen.Select(Gen.Int[0, 7].Select(i => "user-" + i), Gen.Byte.Array[0, 64]);

    [Fact]
    public void Aggregated_and_compressed_records_yield_every_user_record_in_order_with_parent_sequence_numbers()
    {
        var gen = Gen.Select(UserRecordGen.Array[1, 30].Array[1, 6], Gen.Int[0, 3].Array[6], Gen.Int[1, 4]);
        gen.Sample(t =>
        {
            var (parents, packing, degree) = t;
            var records = new List<KinesisEventRecord>();
            for (int p = 0; p < parents.Length; p++)
            {
                byte[] payload = packing[p] switch
                {
                    0 => Aggregate(parents[p]),
                    1 => CompressedFrame.Encode(Aggregate(parents[p]), CompressionCodec.Zstd),
                    2 => CompressedFrame.Encode(Aggregate(parents[p]), CompressionCodec.Lz4),
                    _ => CompressedFrame.Encode(Aggregate(parents[p]), CompressionCodec.Gzip),
                };
                records.Add(TestRecords.Record(p, parents[p][0].Key, payload));
            }

            var seen = new ConcurrentQueue<UserRecordContext>();
            var result = new KinesisBatchProcessor(new KinesisBatchProcessorOptions { MaxDegreeOfParallelism = degree })
                .ProcessAsync(records, (r, _) => { seen.Enqueue(r); return ValueTask.CompletedTask; }).GetAwaiter().GetResult();
            Assert.True(result.IsSuccess);

            var expected = parents.SelectMany((users, p) => users.Select((u, i) => (TestRecords.Seq(p), (long?)i, u.Key, Convert.ToHexString(u.Data)))).ToList();
            var actual = seen.Select(r => (r.SequenceNumber, r.SubSequenceNumber, r.PartitionKey, Convert.ToHexString(r.Data.Span))).ToList();
            Assert.Equal(expected.Order(), actual.Order());
            // Per user key, the handler saw records in stream order.
            foreach (var group in seen.GroupBy(r => r.PartitionKey))
            {
                var order = group.Select(r => (r.ParentIndex, r.SubSequenceNumber!.Value)).ToList();
                Assert.Equal(order.Order(), order);
            }
        }, iter: 500);
    }

    [Fact]
    public async Task The_processor_meters_records_in_and_out_the_deaggregation_ratio_batch_size_and_decode_failures_by_kind()
    {
        var seen = new ConcurrentBag<(string Name, double Value, KeyValuePair<string, object?>[] Tags)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ConsumerMetricNames.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => seen.Add((i.Name, v, tags.ToArray())));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => seen.Add((i.Name, v, tags.ToArray())));
        listener.Start();
        var records = new[]
        {
            TestRecords.Record(0, "user-key-a", Aggregate([("user-key-a", "a0"u8.ToArray()), ("user-key-b", "b1"u8.ToArray()), ("user-key-a", "a2"u8.ToArray())])),
            TestRecords.RecordB64(1, "user-key-c", "!!not base64!!"),
        };

        await new KinesisBatchProcessor().ProcessAsync(records, (_, _) => ValueTask.CompletedTask);

        Assert.Contains(seen, m => m.Name == ConsumerMetricNames.BatchSize && m.Value == 2);
        Assert.Contains(seen, m => m.Name == ConsumerMetricNames.KinesisRecords && m.Value == 2);
        Assert.Contains(seen, m => m.Name == ConsumerMetricNames.UserRecords && m.Value == 3);
        Assert.Contains(seen, m => m.Name == ConsumerMetricNames.DeaggregationRatio && m.Value == 1.5);
        Assert.Contains(seen, m => m.Name == ConsumerMetricNames.DecodeFailures && m.Tags.Single().Key == "kind" && Equals(m.Tags.Single().Value, nameof(RecordFailureStage.Base64)));
        Assert.All(seen, m => Assert.All(m.Tags, t => Assert.DoesNotContain("user-key", t.Value?.ToString() ?? string.Empty, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_failed_sub_record_reports_its_parent_and_bad_md5_passes_through()
    {
        byte[] aggregate = Aggregate([("a", "a0"u8.ToArray()), ("b", "b1"u8.ToArray()), ("a", "a2"u8.ToArray())]);
        byte[] badMd5 = (byte[])aggregate.Clone();
        badMd5[^1] ^= 0xFF;
        var records = new[]
        {
            TestRecords.Record(0, "x", "plain"),
            TestRecords.Record(1, "a", aggregate),
            TestRecords.Record(2, "m", badMd5),
        };
        var handled = new ConcurrentBag<string>();
        var result = await new KinesisBatchProcessor().ProcessAsync(records, (r, _) =>
        {
            string text = Encoding.UTF8.GetString(r.Data.Span);
            if (text == "b1")
            {
                throw new InvalidOperationException("sub-record failure");
            }

            handled.Add(r.SubSequenceNumber is null ? (text.Length > 10 ? "passthrough" : text) : text);
            return ValueTask.CompletedTask;
        });

        Assert.Equal(TestRecords.Seq(1), result.LowestFailedSequenceNumber);
        RecordFailure f = Assert.Single(result.Failures, f => f.Stage == RecordFailureStage.Handler);
        Assert.Equal(1, f.SubSequenceNumber);
        Assert.Contains(TestRecords.Seq(1) + "/1", f.Message, StringComparison.Ordinal);
        Assert.Contains("passthrough", handled); // bad MD5: handed over unchanged as one record
        Assert.Contains("plain", handled);
    }

    [Fact]
    public async Task Corrupt_aggregates_and_unknown_codecs_are_reported_and_the_rest_processed()
    {
        byte[] aggregate = Aggregate([("a", "a0"u8.ToArray()), ("b", "b1"u8.ToArray())]);
        // Truncate the protobuf but fix up the MD5 so it is still recognised as an aggregate.
        byte[] body = aggregate[4..^16][..^3];
#pragma warning disable CA5351 // the KPL format itself uses MD5 as a checksum
        byte[] truncated = [.. aggregate[..4], .. body, .. System.Security.Cryptography.MD5.HashData(body)];
#pragma warning restore CA5351
        byte[] frame = CompressedFrame.Encode("hello"u8.ToArray(), CompressionCodec.None);
        byte[] unknownCodec = (byte[])frame.Clone();
        unknownCodec[5] = 99; // codec id byte (after 4-byte magic and version); keep the CRC-32 valid
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(unknownCodec.AsSpan(unknownCodec.Length - 4), System.IO.Hashing.Crc32.HashToUInt32(unknownCodec.AsSpan(0, unknownCodec.Length - 4)));

        var records = new[]
        {
            TestRecords.Record(0, "a", truncated),
            TestRecords.Record(1, "b", unknownCodec),
            TestRecords.Record(2, "c", "fine"),
        };
        var handled = new ConcurrentBag<string>();
        var result = await new KinesisBatchProcessor().ProcessAsync(records, (r, _) => { handled.Add(Encoding.UTF8.GetString(r.Data.Span)); return ValueTask.CompletedTask; });

        Assert.Equal(["fine"], handled);
        Assert.Equal(TestRecords.Seq(0), result.LowestFailedSequenceNumber);
        RecordFailure agg = Assert.Single(result.Failures, f => f.SequenceNumber == TestRecords.Seq(0));
        Assert.Equal(RecordFailureStage.Decode, agg.Stage);
        Assert.IsType<AggregateFormatException>(agg.Exception!.InnerException);
        Assert.Contains("byte", agg.Message, StringComparison.Ordinal);
        RecordFailure codec = Assert.Single(result.Failures, f => f.SequenceNumber == TestRecords.Seq(1));
        Assert.Equal(RecordFailureStage.Decode, codec.Stage);
        Assert.IsType<UnknownCodecException>(codec.Exception!.InnerException);
        Assert.Contains(TestRecords.Seq(1), codec.Message, StringComparison.Ordinal);
    }
    [Fact]
    public async Task A_decompression_bomb_fails_only_its_record_and_the_batch_budget_bounds_the_whole_batch()
    {
        // Issue 12: 100 frames of 10 MiB each in one small aggregate; each frame is under the per-frame limit.
        byte[] tenMiB = CompressedFrame.Encode(new byte[CompressedFrame.DefaultMaxDecompressedSize], CompressionCodec.Zstd);
        byte[] bomb = Aggregate(Enumerable.Repeat(("k", tenMiB), 100));
        byte[] oneMiB = CompressedFrame.Encode(new byte[1 << 20], CompressionCodec.Lz4);
        var decoder = new RecordDecoder(new RecordDecoderOptions { MaxDecompressedBytesPerRecord = 2 << 20, MaxDecompressedBytesPerBatch = 3 << 20 });
        var records = new[]
        {
            TestRecords.Record(0, "a", "before"),
            TestRecords.Record(1, "k", bomb),
            TestRecords.Record(2, "b", oneMiB),
            TestRecords.Record(3, "b", oneMiB),
            TestRecords.Record(4, "b", oneMiB),
            TestRecords.Record(5, "b", oneMiB), // the fourth MiB is over the batch's 3 MiB
            TestRecords.Record(6, "c", "after"),
        };
        var handled = new ConcurrentBag<string>();

        var result = await new KinesisBatchProcessor(new KinesisBatchProcessorOptions { Decoder = decoder })
            .ProcessAsync(records, (r, _) => { handled.Add(r.Data.Length > 100 ? "MiB" : Encoding.UTF8.GetString(r.Data.Span)); return ValueTask.CompletedTask; });

        Assert.Equal(["MiB", "MiB", "MiB", "after", "before"], handled.Order(StringComparer.Ordinal));
        var bombed = Assert.Single(result.Failures, f => f.SequenceNumber == TestRecords.Seq(1));
        Assert.Equal(RecordFailureStage.Decode, bombed.Stage);
        Assert.Equal(DecompressionLimitScope.Record, Assert.IsType<DecompressionLimitException>(bombed.Exception!.InnerException).Scope);
        var over = Assert.Single(result.Failures, f => f.SequenceNumber == TestRecords.Seq(5));
        Assert.Equal(DecompressionLimitScope.Batch, Assert.IsType<DecompressionLimitException>(over.Exception!.InnerException).Scope);
        Assert.Equal(TestRecords.Seq(1), result.LowestFailedSequenceNumber);
    }
}
