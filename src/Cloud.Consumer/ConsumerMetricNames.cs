using System.Diagnostics.Metrics;
using Cloud.Telemetry;

namespace Cloud.Consumer;

/// <summary>
/// Names of the batch processor's instruments on the <see cref="MeterName"/> meter (docs/observability.md has units
/// and tags). No tag carries a partition key or record content: decode failures are tagged with their stage only.
/// </summary>
public static class ConsumerMetricNames
{
    /// <summary>Meter name.</summary>
    public const string MeterName = TelemetryNames.Consumer;

    /// <summary>Kinesis records in (one per record of a batch, an aggregate counts once).</summary>
    public const string KinesisRecords = "cloud.consumer.kinesis_records";

    /// <summary>User records out of deaggregation, handed to the handler.</summary>
    public const string UserRecords = "cloud.consumer.user_records";

    /// <summary>User records per Kinesis record, per batch.</summary>
    public const string DeaggregationRatio = "cloud.consumer.deaggregation_ratio";

    /// <summary>Kinesis records that could not be decoded; tag <c>kind</c> (the failure stage).</summary>
    public const string DecodeFailures = "cloud.consumer.decode_failures";

    /// <summary>Kinesis records per batch.</summary>
    public const string BatchSize = "cloud.consumer.batch_size";
}

/// <summary>The batch processor's instruments: one meter per process, as .NET recommends for library statics.</summary>
internal static class ConsumerMetrics
{
    private static readonly Meter Meter = new(ConsumerMetricNames.MeterName);
    private static readonly Counter<long> KinesisRecords = Meter.CreateCounter<long>(ConsumerMetricNames.KinesisRecords, "{record}", "Kinesis records in");
    private static readonly Counter<long> UserRecords = Meter.CreateCounter<long>(ConsumerMetricNames.UserRecords, "{record}", "User records out of deaggregation");
    private static readonly Histogram<double> Ratio = Meter.CreateHistogram<double>(ConsumerMetricNames.DeaggregationRatio, "{record}", "User records per Kinesis record, per batch");
    private static readonly Counter<long> DecodeFailures = Meter.CreateCounter<long>(ConsumerMetricNames.DecodeFailures, "{record}", "Kinesis records that could not be decoded, by stage");
    private static readonly Histogram<long> BatchSize = Meter.CreateHistogram<long>(ConsumerMetricNames.BatchSize, "{record}", "Kinesis records per batch");

    public static void DecodeFailed(RecordFailureStage stage) =>
        DecodeFailures.Add(1, new KeyValuePair<string, object?>(TelemetryTags.Kind, stage.ToString()));

    public static void Batch(int kinesisRecords, int userRecords)
    {
        BatchSize.Record(kinesisRecords);
        KinesisRecords.Add(kinesisRecords);
        UserRecords.Add(userRecords);
        if (kinesisRecords > 0)
        {
            Ratio.Record((double)userRecords / kinesisRecords);
        }
    }
}
