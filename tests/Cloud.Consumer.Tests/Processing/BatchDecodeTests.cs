using System.Security.Cryptography;
using Cloud.Consumer.Events;
using Cloud.Records;
using CsCheck;

namespace Cloud.Consumer.Tests.Processing;

/// <summary>
/// <see cref="KinesisRecordReader.DecodeBatch"/> (all MD5 trailers of a batch checked at once) gives every record
/// exactly what the one-record <see cref="KinesisRecordReader.Decode(KinesisEventRecord, int, List{UserRecordContext}, RecordDecoder, DecompressionBudget?)"/>
/// gives: the same user records, or the same typed failure, and a bad record never affects the others.
/// </summary>
public class BatchDecodeTests
{
    private static byte[] Aggregate((string Key, byte[] Data)[] records)
    {
        using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = 1024 * 1024 });
        foreach ((string key, byte[] data) in records)
        {
            Assert.True(builder.TryAdd(key, null, data));
        }
        return builder.ToArray();
    }

    /// <summary>Protobuf broken after the MD5 was taken: the trailer matches, the body does not parse.</summary>
    private static byte[] Malformed(byte[] aggregate)
    {
        var copy = (byte[])aggregate.Clone();
        copy[KplFormat.MagicLength] = 0x07; // field 0, wire type 7
#pragma warning disable CA5351 // the KPL checksum
        MD5.HashData(copy.AsSpan(KplFormat.MagicLength, copy.Length - KplFormat.Overhead), copy.AsSpan(copy.Length - KplFormat.DigestLength));
#pragma warning restore CA5351
        return copy;
    }

    private static readonly Gen<(string Key, byte[] Data)[]> UserRecords =
        Gen.Select(Gen.Int[0, 9].Select(i => "user-" + i), Gen.Byte.Array[0, 80]).Array[1, 20];

    /// <summary>0 good aggregate, 1 bad MD5, 2 malformed with a good MD5, 3 raw, 4 zstd frame, 5 not base64.</summary>
    private static KinesisEventRecord Make(int index, int kind, (string Key, byte[] Data)[] users)
    {
        byte[] aggregate = Aggregate(users);
        return kind switch
        {
            0 => TestRecords.Record(index, "outer", aggregate),
            1 => TestRecords.Record(index, "outer", [.. aggregate[..^1], (byte)(aggregate[^1] ^ 1)]),
            2 => TestRecords.Record(index, "outer", Malformed(aggregate)),
            3 => TestRecords.Record(index, "outer", users[0].Data),
            4 => TestRecords.Record(index, "outer", CompressedFrame.Encode(aggregate, CompressionCodec.Zstd)),
            _ => TestRecords.RecordB64(index, "outer", "not base64!"),
        };
    }

    [Fact]
    public void Each_record_of_a_batch_decodes_as_it_does_alone()
    {
        Gen.Select(Gen.Int[0, 5], UserRecords).Array[0, 40].Sample(specs =>
        {
            var records = specs.Select((s, i) => Make(i, s.Item1, s.Item2)).ToList();
            var output = new List<UserRecordContext>();
            var failures = KinesisRecordReader.DecodeBatch(records, output, RecordDecoder.Default, RecordDecoder.Default.CreateBatchBudget());
            Assert.Equal(records.Count, failures.Length);
            int next = 0;
            for (int i = 0; i < records.Count; i++)
            {
                var alone = new List<UserRecordContext>();
                KinesisRecordDecodeException? aloneFailure = null;
                try
                {
                    KinesisRecordReader.Decode(records[i], i, alone, RecordDecoder.Default, null);
                }
                catch (KinesisRecordDecodeException ex)
                {
                    aloneFailure = ex;
                }
                Assert.Equal(aloneFailure?.Message, failures[i]?.Message);
                Assert.Equal(aloneFailure?.Stage, failures[i]?.Stage);
                Assert.Equal(aloneFailure?.InnerException?.GetType(), failures[i]?.InnerException?.GetType());
                foreach (var user in alone)
                {
                    var got = output[next++];
                    Assert.Equal(i, got.ParentIndex);
                    Assert.Same(records[i], got.Parent);
                    Assert.Equal(user.PartitionKey, got.PartitionKey);
                    Assert.Equal(user.SubSequenceNumber, got.SubSequenceNumber);
                    Assert.Equal(user.Data.ToArray(), got.Data.ToArray());
                }
            }
            Assert.Equal(output.Count, next);
        }, iter: 300);
    }

    [Fact]
    public async Task A_malformed_aggregate_fails_alone_in_the_processor()
    {
        (string, byte[])[] users = [("a", [1]), ("b", [2]), ("c", [3])];
        var records = new List<KinesisEventRecord> { Make(0, 0, users), Make(1, 2, users), Make(2, 1, users), Make(3, 0, users) };
        var handled = new List<string>();
        var result = await new KinesisBatchProcessor().ProcessAsync(records, (r, _) =>
        {
            lock (handled)
            {
                handled.Add($"{r.ParentIndex}:{r.SubSequenceNumber}");
            }
            return ValueTask.CompletedTask;
        });
        // Record 1 (MD5 matches, protobuf broken) fails at Decode; record 2 (bad MD5) is raw data, handled as one record.
        var failure = Assert.Single(result.Failures);
        Assert.Equal(RecordFailureStage.Decode, failure.Stage);
        Assert.Equal(TestRecords.Seq(1), failure.SequenceNumber);
        Assert.IsType<AggregateFormatException>(failure.Exception!.InnerException);
        Assert.Equal(["0:0", "0:1", "0:2", "2:", "3:0", "3:1", "3:2"], handled.Order(StringComparer.Ordinal));
        Assert.Equal(TestRecords.Seq(1), result.Response.BatchItemFailures.Single().ItemIdentifier);
    }
}
