using System.Globalization;
using System.Numerics;
using System.Text;
using Cloud.Consumer.Events;

namespace Cloud.Consumer.Tests;

/// <summary>Builds Lambda Kinesis event records for tests.</summary>
internal static class TestRecords
{
    public static readonly BigInteger BaseSequence = BigInteger.Parse("49590338271490256608559692538361571095921575989136588898", CultureInfo.InvariantCulture);

    public static string Seq(int index) => (BaseSequence + (new BigInteger(index) * 1_000_003)).ToString(CultureInfo.InvariantCulture);

    public static KinesisEventRecord Record(int index, string partitionKey, byte[] data, string shard = "shardId-000000000000") =>
        RecordB64(index, partitionKey, Convert.ToBase64String(data), shard);

    public static KinesisEventRecord Record(int index, string partitionKey, string text) =>
        Record(index, partitionKey, Encoding.UTF8.GetBytes(text));

    public static KinesisEventRecord RecordB64(int index, string partitionKey, string base64, string shard = "shardId-000000000000") => new()
    {
        Kinesis = new KinesisRecordData
        {
            KinesisSchemaVersion = "1.0",
            PartitionKey = partitionKey,
            SequenceNumber = Seq(index),
            Data = base64,
            ApproximateArrivalTimestamp = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + index),
        },
        EventSource = "aws:kinesis",
        EventVersion = "1.0",
        EventId = shard + ":" + Seq(index),
        EventName = "aws:kinesis:record",
        InvokeIdentityArn = "arn:aws:iam::123456789012:role/lambda-role",
        AwsRegion = "us-east-1",
        EventSourceArn = "arn:aws:kinesis:us-east-1:123456789012:stream/test",
    };
}
