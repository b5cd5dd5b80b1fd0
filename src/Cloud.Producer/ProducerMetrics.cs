using System.Diagnostics.Metrics;

namespace Cloud.Producer;

/// <summary>
/// Instrument names of the <c>Cloud.Producer</c> meter (System.Diagnostics.Metrics, so OpenTelemetry's
/// <c>AddMeter("Cloud.Producer")</c> picks them up). Every measurement carries the tag <c>stream</c>.
/// </summary>
public static class ProducerMetricNames
{
    /// <summary>Meter name.</summary>
    public const string MeterName = "Cloud.Producer";
    /// <summary>Counter: user records delivered (rate = records/s).</summary>
    public const string UserRecords = "cloud.producer.user_records";
    /// <summary>Counter: user data bytes delivered (rate = bytes/s).</summary>
    public const string UserBytes = "cloud.producer.user_bytes";
    /// <summary>Counter: Kinesis records written (aggregates count once).</summary>
    public const string KinesisRecords = "cloud.producer.kinesis_records";
    /// <summary>Counter: bytes (data + partition keys) of Kinesis records written.</summary>
    public const string KinesisBytes = "cloud.producer.kinesis_bytes";
    /// <summary>Counter: PutRecords requests, tag <c>outcome</c> = ok | partial | error.</summary>
    public const string Requests = "cloud.producer.requests";
    /// <summary>Histogram (ms): PutRecords request latency.</summary>
    public const string RequestDuration = "cloud.producer.request.duration";
    /// <summary>Counter: Kinesis records throttled (ProvisionedThroughputExceeded).</summary>
    public const string Throttles = "cloud.producer.throttles";
    /// <summary>Counter: Kinesis records retried, tag <c>error</c>.</summary>
    public const string Retries = "cloud.producer.retries";
    /// <summary>Counter: user records failed, tag <c>reason</c>.</summary>
    public const string Failures = "cloud.producer.failures";
    /// <summary>Histogram (ms): time from acceptance to durable write.</summary>
    public const string BufferedTime = "cloud.producer.buffered_time";
    /// <summary>Histogram: user records per Kinesis record.</summary>
    public const string AggregationRatio = "cloud.producer.aggregation_ratio";
    /// <summary>Histogram: uncompressed ÷ compressed size per Kinesis record (only when compression is on).</summary>
    public const string CompressionRatio = "cloud.producer.compression_ratio";
    /// <summary>Observable gauge: records accepted and not yet completed.</summary>
    public const string BufferedRecords = "cloud.producer.buffered_records";
    /// <summary>Observable gauge: bytes accepted and not yet completed.</summary>
    public const string BufferedBytes = "cloud.producer.buffered_bytes";
    /// <summary>Observable gauge: current per-shard rate factor of the AIMD limiter (1 = configured RateLimit), tag <c>shard</c>.</summary>
    public const string RateFactor = "cloud.producer.rate_factor";
    /// <summary>Observable gauge: estimated records of the hottest partition keys (top-K sketch), tag <c>rank</c> (1 = hottest).
    /// No tag carries the key itself: keys can be personal data. <see cref="KinesisProducer.GetHotKeys"/> reports them.</summary>
    public const string HotKeyRecords = "cloud.producer.hot_key.records";
    /// <summary>Counter: aggregates written to another shard than predicted (a reshard raced the map) and re-sent.</summary>
    public const string WrongShardAggregates = "cloud.producer.wrong_shard_aggregates";
    /// <summary>Counter: user records re-sent after a durable wrong-shard write (duplicates for readers that keep such aggregates).</summary>
    public const string Duplicates = "cloud.producer.duplicates";
}

/// <summary>The producer's instruments.</summary>
internal sealed class ProducerMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly KeyValuePair<string, object?> _stream;

    public ProducerMetrics(IMeterFactory? factory, string streamName, Func<long> bufferedRecords, Func<long> bufferedBytes,
        Func<IEnumerable<Measurement<double>>> rateFactors, Func<IEnumerable<Measurement<long>>> hotKeys)
    {
        if (factory is not null)
        {
            _meter = factory.Create(ProducerMetricNames.MeterName);
        }
        else
        {
            _meter = new Meter(ProducerMetricNames.MeterName);
            _ownsMeter = true;
        }
        _stream = new("stream", streamName);
        UserRecords = _meter.CreateCounter<long>(ProducerMetricNames.UserRecords, "{record}", "User records delivered.");
        UserBytes = _meter.CreateCounter<long>(ProducerMetricNames.UserBytes, "By", "User data bytes delivered.");
        KinesisRecords = _meter.CreateCounter<long>(ProducerMetricNames.KinesisRecords, "{record}", "Kinesis records written.");
        KinesisBytes = _meter.CreateCounter<long>(ProducerMetricNames.KinesisBytes, "By", "Kinesis record bytes written (data + partition key).");
        Requests = _meter.CreateCounter<long>(ProducerMetricNames.Requests, "{request}", "PutRecords requests.");
        RequestDuration = _meter.CreateHistogram<double>(ProducerMetricNames.RequestDuration, "ms", "PutRecords latency.");
        Throttles = _meter.CreateCounter<long>(ProducerMetricNames.Throttles, "{record}", "Kinesis records throttled.");
        Retries = _meter.CreateCounter<long>(ProducerMetricNames.Retries, "{record}", "Kinesis records retried.");
        Failures = _meter.CreateCounter<long>(ProducerMetricNames.Failures, "{record}", "User records that failed.");
        BufferedTime = _meter.CreateHistogram<double>(ProducerMetricNames.BufferedTime, "ms", "Acceptance to durable write.");
        AggregationRatio = _meter.CreateHistogram<double>(ProducerMetricNames.AggregationRatio, "{record}", "User records per Kinesis record.");
        CompressionRatio = _meter.CreateHistogram<double>(ProducerMetricNames.CompressionRatio, "1", "Uncompressed / compressed bytes.");
        var tags = new[] { _stream };
        _meter.CreateObservableGauge(ProducerMetricNames.BufferedRecords, () => new Measurement<long>(bufferedRecords(), tags), "{record}", "Records buffered.");
        _meter.CreateObservableGauge(ProducerMetricNames.BufferedBytes, () => new Measurement<long>(bufferedBytes(), tags), "By", "Bytes buffered.");
        _meter.CreateObservableGauge(ProducerMetricNames.RateFactor, rateFactors, "1", "AIMD rate factor per shard.");
        WrongShard = _meter.CreateCounter<long>(ProducerMetricNames.WrongShardAggregates, "{record}", "Aggregates written to an unpredicted shard and re-sent.");
        Duplicates = _meter.CreateCounter<long>(ProducerMetricNames.Duplicates, "{record}", "User records re-sent after a wrong-shard write.");
        _meter.CreateObservableGauge(ProducerMetricNames.HotKeyRecords, hotKeys, "{record}", "Hottest partition keys (top-K sketch).");
    }

    public KeyValuePair<string, object?> StreamTag => _stream;

    public Counter<long> UserRecords { get; }
    public Counter<long> UserBytes { get; }
    public Counter<long> KinesisRecords { get; }
    public Counter<long> KinesisBytes { get; }
    public Counter<long> Requests { get; }
    public Histogram<double> RequestDuration { get; }
    public Counter<long> Throttles { get; }
    public Counter<long> Retries { get; }
    public Counter<long> Failures { get; }
    public Histogram<double> BufferedTime { get; }
    public Histogram<double> AggregationRatio { get; }
    public Histogram<double> CompressionRatio { get; }
    public Counter<long> WrongShard { get; }
    public Counter<long> Duplicates { get; }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
