using System.Globalization;
using Cloud.Cli.Infrastructure;
using Cloud.DataGenerator;
using Cloud.Records;

namespace Cloud.Cli.Commands.Pipeline;

/// <summary>The settings of one <c>cloud pipeline</c> run, from its flags.</summary>
internal sealed record PipelineSettings(string Stream, double Rate, double? Duration, EventKind Kind, int Seed, int? Shards, int? WindowSeconds, bool ForgetDemo, CompressionCodec Compression)
{
    public int? BatchSize { get; init; }

    public string? KeyField { get; init; }

    public string? CdkJson { get; init; }

    /// <summary>Loopback port of the web view (0: any free one); null: no web view.</summary>
    public int? WebPort { get; init; }

    /// <summary>
    /// <c>--enforce-limits</c>: the producer and the event-source mappings reach the local Kinesis through the proxy
    /// that enforces the per-shard limits (1,000 records/s, 1 MiB/s, 5 GetRecords/s).
    /// </summary>
    public bool EnforceLimits { get; init; }

    /// <summary><c>--no-aggregation</c>: one Kinesis record per event (what plain PutRecords code does).</summary>
    public bool NoAggregation { get; init; }

    /// <summary>OTLP endpoint to export metrics and traces to; null: no export.</summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>Every problem with the settings in one usage error (exit code 2).</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (Rate is <= 0 or > 1_000_000 || double.IsNaN(Rate))
        {
            problems.Add($"--rate must be greater than 0 and at most 1,000,000 events/s (was {Rate.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (Duration is { } seconds && (seconds <= 0 || double.IsNaN(seconds)))
        {
            problems.Add($"--duration must be positive (was {seconds.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (Shards is < 1 or > 50)
        {
            problems.Add($"--shards must be between 1 and 50 (was {Shards}).");
        }

        if (BatchSize is < 1 or > 10_000)
        {
            problems.Add($"--batch-size must be between 1 and 10,000 (was {BatchSize}).");
        }

        if (WindowSeconds is < 1 or > 900)
        {
            problems.Add($"--window-seconds must be between 1 and 900 (was {WindowSeconds}).");
        }

        if (WebPort is < 0 or > 65535)
        {
            problems.Add($"--web must be a port between 0 (any free port) and 65535 (was {WebPort}).");
        }

        if (problems.Count > 0)
        {
            throw CliException.Usage(string.Join(Environment.NewLine, problems));
        }
    }
}
