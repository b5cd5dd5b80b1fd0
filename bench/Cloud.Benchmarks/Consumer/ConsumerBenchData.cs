using System.Globalization;
using System.Numerics;
using System.Text;
using Cloud.Consumer.Events;
using Cloud.Records;

namespace Cloud.Benchmarks.Consumer;

/// <summary>Deterministic clickstream-like events packed into Kinesis records the way the producer does.</summary>
public static class ConsumerBenchData
{
    /// <summary>How user records become Kinesis records.</summary>
    public enum Packing
    {
        /// <summary>One Kinesis record per event.</summary>
        Raw,

        /// <summary>KPL aggregates (51,200-byte limit).</summary>
        Aggregated,

        /// <summary>KPL aggregates in zstd compressed frames.</summary>
        AggregatedZstd,

        /// <summary>KPL aggregates in LZ4 compressed frames.</summary>
        AggregatedLz4,
    }

    private static readonly string[] Pages = ["/", "/search", "/products/shoes", "/products/jackets", "/cart", "/checkout", "/account", "/help", "/deals", "/about"];

    /// <summary>About 200-byte JSON events over 5,000 pseudonymous users.</summary>
    public static List<(string Key, byte[] Data)> Events(int count, int seed = 42)
    {
        var rnd = new Random(seed);
        var list = new List<(string, byte[])>(count);
        for (int i = 0; i < count; i++)
        {
            string user = "u-" + rnd.Next(5000).ToString("D6", CultureInfo.InvariantCulture);
            string json = string.Create(CultureInfo.InvariantCulture,
                $"{{\"eventId\":\"{seed:x8}-{i:x12}\",\"type\":\"click\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"userId\":\"{user}\",\"page\":\"{Pages[rnd.Next(Pages.Length)]}\",\"referrer\":\"search\",\"device\":\"mobile\",\"country\":\"DE\",\"durationMs\":{rnd.Next(50, 30000)},\"amount\":{rnd.Next(0, 30000) / 100m}}}");
            list.Add((user, Encoding.UTF8.GetBytes(json)));
        }

        return list;
    }

    /// <summary>A non-final window invoke carrying <paramref name="userRecords"/> events.</summary>
    public static KinesisTimeWindowEvent WindowEvent(int userRecords, Packing packing) => WindowEvent(userRecords, packing, null);

    /// <summary>
    /// A non-final window invoke carrying <paramref name="userRecords"/> events, each first re-encoded by
    /// <paramref name="encode"/> (for example to AWS Glue Schema Registry Avro) when given.
    /// </summary>
    public static KinesisTimeWindowEvent WindowEvent(int userRecords, Packing packing, Func<byte[], byte[]>? encode)
    {
        var events = Events(userRecords);
        if (encode is not null)
        {
            events = events.Select(e => (e.Key, encode(e.Data))).ToList();
        }

        var payloads = new List<(string Key, byte[] Data)>();
        if (packing == Packing.Raw)
        {
            payloads.AddRange(events);
        }
        else
        {
            using var builder = new AggregateBuilder();
            foreach ((string key, byte[] data) in events)
            {
                if (!builder.TryAdd(key, null, data))
                {
                    payloads.Add(Pack(builder, packing));
                    builder.Reset();
                    builder.TryAdd(key, null, data);
                }
            }

            if (builder.Count > 0)
            {
                payloads.Add(Pack(builder, packing));
            }
        }

        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        BigInteger seq = BigInteger.Parse("49590338271490256608559692538361571095921575989136588898", CultureInfo.InvariantCulture);
        var records = payloads.Select((p, i) => new KinesisEventRecord
        {
            Kinesis = new KinesisRecordData
            {
                KinesisSchemaVersion = "1.0",
                PartitionKey = p.Key,
                SequenceNumber = (seq + i).ToString(CultureInfo.InvariantCulture),
                Data = Convert.ToBase64String(p.Data),
                ApproximateArrivalTimestamp = start.AddMilliseconds(i),
            },
            EventSource = "aws:kinesis",
            EventVersion = "1.0",
            EventId = "shardId-000000000000:" + (seq + i).ToString(CultureInfo.InvariantCulture),
            EventName = "aws:kinesis:record",
            AwsRegion = "us-east-1",
            EventSourceArn = "arn:aws:kinesis:us-east-1:123456789012:stream/bench",
        }).ToList();

        return new KinesisTimeWindowEvent
        {
            Records = records,
            Window = new TimeWindow { Start = start, End = start.AddMinutes(1) },
            State = new Dictionary<string, string>(),
            ShardId = "shardId-000000000000",
            EventSourceArn = "arn:aws:kinesis:us-east-1:123456789012:stream/bench",
        };
    }

    private static (string, byte[]) Pack(AggregateBuilder builder, Packing packing)
    {
        byte[] aggregate = builder.ToArray();
        byte[] data = packing switch
        {
            Packing.AggregatedZstd => CompressedFrame.Encode(aggregate, CompressionCodec.Zstd),
            Packing.AggregatedLz4 => CompressedFrame.Encode(aggregate, CompressionCodec.Lz4),
            _ => aggregate,
        };
        return (builder.PartitionKey!, data);
    }
}
