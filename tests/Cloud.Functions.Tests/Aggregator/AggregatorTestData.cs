using System.Globalization;
using System.Numerics;
using System.Text;
using Cloud.Consumer.Events;

namespace Cloud.Functions.Tests.Aggregator;

/// <summary>Events, records and window invokes for Aggregator tests.</summary>
internal static class AggregatorTestData
{
    public static readonly DateTimeOffset WindowStart = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly TimeWindow Window = new() { Start = WindowStart, End = WindowStart.AddMinutes(1) };

    public static string Seq(int index) =>
        (BigInteger.Parse("49590338271490256608559692538361571095921575989136588898", CultureInfo.InvariantCulture) + (index * 7919)).ToString(CultureInfo.InvariantCulture);

    public sealed record Ev(string User, decimal? Amount, string? Page, string Email = "someone@example.com");

    public static string Json(Ev e)
    {
        var sb = new StringBuilder("{\"eventId\":\"x\",\"userId\":\"").Append(e.User).Append("\",\"email\":\"").Append(e.Email).Append('"');
        if (e.Amount is { } a)
        {
            sb.Append(",\"amount\":").Append(a.ToString(CultureInfo.InvariantCulture));
        }

        if (e.Page is { } p)
        {
            sb.Append(",\"page\":\"").Append(p).Append('"');
        }

        return sb.Append(",\"nested\":{\"amount\":\"ignored\",\"list\":[1,2,{\"page\":3}]}}").ToString();
    }

    public static KinesisEventRecord Record(int index, byte[] data, string shard = "shardId-000000000000", string partitionKey = "pk") => new()
    {
        Kinesis = new KinesisRecordData
        {
            KinesisSchemaVersion = "1.0",
            PartitionKey = partitionKey,
            SequenceNumber = Seq(index),
            Data = Convert.ToBase64String(data),
            ApproximateArrivalTimestamp = WindowStart.AddMilliseconds(index),
        },
        EventSource = "aws:kinesis",
        EventVersion = "1.0",
        EventId = shard + ":" + Seq(index),
        EventName = "aws:kinesis:record",
        AwsRegion = "us-east-1",
        EventSourceArn = "arn:aws:kinesis:us-east-1:123456789012:stream/test",
    };

    public static KinesisEventRecord Record(int index, Ev e, string shard = "shardId-000000000000") =>
        Record(index, Encoding.UTF8.GetBytes(Json(e)), shard, e.User);

    public static KinesisTimeWindowEvent Invoke(IReadOnlyList<KinesisEventRecord> records, IReadOnlyDictionary<string, string>? state, bool final = false, string shard = "shardId-000000000000") => new()
    {
        Records = records,
        Window = Window,
        State = state,
        ShardId = shard,
        EventSourceArn = "arn:aws:kinesis:us-east-1:123456789012:stream/test",
        IsFinalInvokeForWindow = final,
    };

    /// <summary>The expected results computed independently (LINQ over the events).</summary>
    public static Dictionary<string, (long Count, decimal Sum, decimal Min, decimal Max, long N, Dictionary<string, long> Pages)> Expected(IEnumerable<Ev> events) =>
        events.GroupBy(e => e.User).ToDictionary(g => g.Key, g =>
        {
            var amounts = g.Where(e => e.Amount is not null).Select(e => e.Amount!.Value).ToList();
            return ((long)g.Count(), amounts.Sum(), amounts.Count > 0 ? amounts.Min() : 0, amounts.Count > 0 ? amounts.Max() : 0, (long)amounts.Count,
                g.Where(e => e.Page is not null).GroupBy(e => e.Page!).ToDictionary(p => p.Key, p => (long)p.Count()));
        });
}
