namespace Cloud.Sizing;

/// <summary>
/// Kinesis Data Streams list prices in USD used for cost estimates. Pass your own for another region or a discount.
/// Defaults: us-east-1 list prices as taken on 2026-11-23 (see docs/sizing.md for sources);
/// https://aws.amazon.com/kinesis/data-streams/pricing/.
/// </summary>
public sealed record PriceTable
{
    /// <summary>The us-east-1 defaults, taken on <see cref="TakenOn"/>.</summary>
    public static PriceTable UsEast1 { get; } = new();

    /// <summary>Where the prices apply.
    /// <value>The default value is us-east-1.</value></summary>
    public string Region { get; init; } = "us-east-1";

    /// <summary>The day the prices were taken (ISO 8601).
    /// <value>The default value is 2026-11-23.</value></summary>
    public string TakenOn { get; init; } = "2026-11-23";

    /// <summary>Provisioned: per shard-hour.
    /// <value>The default value is $0.015.</value></summary>
    public decimal ShardHour { get; init; } = 0.015m;

    /// <summary>Provisioned: per million PUT payload units (25 KiB chunks of a record).
    /// <value>The default value is $0.014.</value></summary>
    public decimal PutPayloadUnitsPerMillion { get; init; } = 0.014m;

    /// <summary>Provisioned: extended retention (24 h to 7 days), per shard-hour.
    /// <value>The default value is $0.02.</value></summary>
    public decimal ExtendedRetentionShardHour { get; init; } = 0.02m;

    /// <summary>Provisioned: enhanced fan-out, per consumer-shard-hour.
    /// <value>The default value is $0.015.</value></summary>
    public decimal EnhancedFanOutConsumerShardHour { get; init; } = 0.015m;

    /// <summary>Provisioned: enhanced fan-out data retrieved, per GB.
    /// <value>The default value is $0.013.</value></summary>
    public decimal EnhancedFanOutRetrievalPerGb { get; init; } = 0.013m;

    /// <summary>On-demand: per stream-hour.
    /// <value>The default value is $0.04.</value></summary>
    public decimal OnDemandStreamHour { get; init; } = 0.04m;

    /// <summary>On-demand: data written, per GB (each record rounded up to 1 KiB).
    /// <value>The default value is $0.08.</value></summary>
    public decimal OnDemandDataInPerGb { get; init; } = 0.08m;

    /// <summary>On-demand: data read by shared-throughput consumers, per GB (each record rounded up to 1 KiB).
    /// <value>The default value is $0.04.</value></summary>
    public decimal OnDemandDataOutPerGb { get; init; } = 0.04m;

    /// <summary>On-demand: enhanced fan-out data retrieved, per GB.
    /// <value>The default value is $0.05.</value></summary>
    public decimal OnDemandEnhancedFanOutRetrievalPerGb { get; init; } = 0.05m;

    /// <summary>On-demand: extended retention (24 h to 7 days), per GB-month stored.
    /// <value>The default value is $0.10.</value></summary>
    public decimal OnDemandExtendedRetentionPerGbMonth { get; init; } = 0.10m;

    /// <summary>Both modes: long-term retention (beyond 7 days), per GB-month stored.
    /// <value>The default value is $0.023.</value></summary>
    public decimal LongTermRetentionPerGbMonth { get; init; } = 0.023m;

    /// <summary>Hours in a billing month (AWS calculators use 730).
    /// <value>The default value is 730.</value></summary>
    public int HoursPerMonth { get; init; } = 730;

    /// <summary>Checks every price and throws <see cref="SizingValidationException"/> listing all problems.</summary>
    public void Validate()
    {
        var p = new ProblemList();
        void Price(string name, decimal value)
        {
            if (value < 0)
            {
                p.Add($"{nameof(PriceTable)}.{name}", $"must not be negative, got {value}.");
            }
        }

        Price(nameof(ShardHour), ShardHour);
        Price(nameof(PutPayloadUnitsPerMillion), PutPayloadUnitsPerMillion);
        Price(nameof(ExtendedRetentionShardHour), ExtendedRetentionShardHour);
        Price(nameof(EnhancedFanOutConsumerShardHour), EnhancedFanOutConsumerShardHour);
        Price(nameof(EnhancedFanOutRetrievalPerGb), EnhancedFanOutRetrievalPerGb);
        Price(nameof(OnDemandStreamHour), OnDemandStreamHour);
        Price(nameof(OnDemandDataInPerGb), OnDemandDataInPerGb);
        Price(nameof(OnDemandDataOutPerGb), OnDemandDataOutPerGb);
        Price(nameof(OnDemandEnhancedFanOutRetrievalPerGb), OnDemandEnhancedFanOutRetrievalPerGb);
        Price(nameof(OnDemandExtendedRetentionPerGbMonth), OnDemandExtendedRetentionPerGbMonth);
        Price(nameof(LongTermRetentionPerGbMonth), LongTermRetentionPerGbMonth);
        if (HoursPerMonth is < 1 or > 744)
        {
            p.Add($"{nameof(PriceTable)}.{nameof(HoursPerMonth)}", $"must be between 1 and 744, got {HoursPerMonth}.");
        }

        if (string.IsNullOrWhiteSpace(Region))
        {
            p.Add($"{nameof(PriceTable)}.{nameof(Region)}", "must not be empty.");
        }

        p.ThrowIfAny();
    }
}
