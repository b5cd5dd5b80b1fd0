using System.Globalization;
using System.Text.Json;
using Cloud.Cli.Infrastructure;
using Cloud.Cli.Tests.Infrastructure;

namespace Cloud.Cli.Tests;

/// <summary><c>cloud size</c>: the JSON contract, answers checked against the documented formulas (docs/sizing.md), and bad inputs.</summary>
public sealed class SizeTests : IDisposable
{
    private const double MiB = 1024 * 1024;
    private readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Theory]
    [InlineData(5_000, 1_000, 1)]
    [InlineData(1_000, 10_000, 3)]
    [InlineData(500, 100, 1)]
    [InlineData(20_000, 300, 2)]
    public async Task Kinesis_sizing_json_has_shards_and_the_deciding_constraint(double recordsPerSecond, double recordBytes, int consumers)
    {
        var result = await _sandbox.RunAsync("size", "--records-per-second", Num(recordsPerSecond), "--record-bytes", Num(recordBytes), "--consumers", Num(consumers), "--json");

        CliAssert.Succeeded(result);
        var json = result.Json();

        // Oracle: the formulas of docs/sizing.md with the CLI's defaults (no surge, ratios 1, 10,000 records/s per consumer).
        var required = new Dictionary<string, double>
        {
            ["writeBytes"] = recordsPerSecond * recordBytes / MiB,
            ["writeRecords"] = recordsPerSecond / 1_000,
            ["sharedRead"] = recordsPerSecond * recordBytes * consumers / (2 * MiB),
            ["consumerSpeed"] = recordsPerSecond / 10_000,
        };
        var deciding = required.MaxBy(kv => kv.Value);
        var shards = Math.Max(1, (int)Math.Ceiling(deciding.Value - 1e-9));

        Assert.Equal(shards, json.GetProperty("shards").GetInt32());
        Assert.Equal(deciding.Key, json.GetProperty("decidingConstraint").GetString());
        var constraints = json.GetProperty("constraints").EnumerateArray().ToDictionary(c => c.GetProperty("constraint").GetString()!, c => c.GetProperty("requiredShards").GetDouble());
        foreach (var (name, value) in required)
        {
            Assert.True(constraints.ContainsKey(name), $"constraint {name} missing: {result.Stdout}");
            Assert.Equal(value, constraints[name], 6);
        }

        var cost = json.GetProperty("cost");
        Assert.Equal("USD", cost.GetProperty("currency").GetString());
        Assert.True(cost.GetProperty("provisioned").GetProperty("monthlyTotal").GetDouble() > 0);
        Assert.True(cost.GetProperty("onDemand").GetProperty("monthlyTotal").GetDouble() > 0);
    }

    [Fact]
    public async Task Human_sizing_names_the_shards_and_the_deciding_constraint()
    {
        var json = (await _sandbox.RunAsync("size", "--records-per-second", "1000", "--record-bytes", "10000", "--consumers", "3", "--json")).Json();
        var human = await _sandbox.RunAsync("size", "--records-per-second", "1000", "--record-bytes", "10000", "--consumers", "3");

        CliAssert.Succeeded(human);
        Assert.Contains($"{json.GetProperty("shards").GetInt32()} shards, decided by {json.GetProperty("decidingConstraint").GetString()}", human.Stdout);
        Assert.Contains("Cheaper:", human.Stdout);
    }

    [Theory]
    [InlineData(100, 10, 20)]
    [InlineData(100, 30, 7)]
    [InlineData(1, 5, 5)]
    [InlineData(250.5, 12.5, 12.5)]
    public async Task Kafka_sizing_json_has_partitions(double throughput, double producer, double consumer)
    {
        var result = await _sandbox.RunAsync("size", "--kafka", "--throughput", Num(throughput), "--producer-partition-throughput", Num(producer), "--consumer-partition-throughput", Num(consumer), "--json");

        CliAssert.Succeeded(result);
        var json = result.Json();
        // Confluent's formula: partitions = ceil(max(T/p, T/c)), at least 1.
        var expected = Math.Max(1, (int)Math.Ceiling(Math.Max(throughput / producer, throughput / consumer) - 1e-9));
        Assert.Equal(expected, json.GetProperty("partitions").GetInt32());
        Assert.Equal(throughput / producer >= throughput / consumer ? "producerThroughput" : "consumerThroughput", json.GetProperty("decidingConstraint").GetString());
    }

    [Theory]
    [InlineData(new[] { "--records-per-second", "-5", "--record-bytes", "100" }, "AverageRecordsPerSecond")]
    [InlineData(new[] { "--records-per-second", "100", "--record-bytes", "0" }, "AverageRecordBytes")]
    [InlineData(new[] { "--records-per-second", "100", "--record-bytes", "100", "--peak-records-per-second", "50" }, "PeakRecordsPerSecond")]
    [InlineData(new[] { "--records-per-second", "100", "--record-bytes", "100", "--retention-hours", "1" }, "RetentionHours")]
    [InlineData(new[] { "--kafka", "--throughput", "0", "--producer-partition-throughput", "1", "--consumer-partition-throughput", "1" }, "TargetThroughput")]
    [InlineData(new[] { "--kafka", "--throughput", "10", "--producer-partition-throughput", "-1", "--consumer-partition-throughput", "1" }, "ProducerThroughputPerPartition")]
    public async Task Invalid_sizing_values_are_invalid_input_naming_the_field(string[] args, string field)
    {
        var result = await _sandbox.RunAsync(["size", .. args, "--json"]);

        CliAssert.Failed(result, ExitCodes.InvalidInput, field);
        Assert.Empty(result.Stdout);
        // A bound like double.MaxValue must not be spelled out as a 300-digit number.
        Assert.All(result.StderrLines, line => Assert.True(line.Length < 300, $"unreadable line: {line}"));
    }

    [Theory]
    [InlineData(new[] { "--record-bytes", "100" }, "--records-per-second")]
    [InlineData(new[] { "--records-per-second", "100" }, "--record-bytes")]
    [InlineData(new[] { "--kafka", "--throughput", "10" }, "--producer-partition-throughput")]
    [InlineData(new[] { "--records-per-second", "100", "--record-bytes", "100", "--consumers", "-1" }, "--consumers")]
    public async Task Missing_or_negative_sizing_options_are_usage_errors(string[] args, string option)
    {
        var result = await _sandbox.RunAsync(["size", .. args]);

        CliAssert.Failed(result, ExitCodes.Usage, option);
    }

    [Fact]
    public async Task A_missing_sample_file_is_not_found()
    {
        var result = await _sandbox.RunAsync("size", "--records-per-second", "100", "--sample", "no-such-sample.jsonl");

        CliAssert.Failed(result, ExitCodes.NotFound, "no-such-sample.jsonl");
    }

    [Fact]
    public async Task A_sample_file_is_measured()
    {
        var lines = Enumerable.Range(0, 200).Select(i => JsonSerializer.Serialize(new { userId = $"user-{i % 17}", page = $"/p/{i % 5}", amount = i }));
        var sample = _sandbox.WriteFile("sample.jsonl", string.Join('\n', lines) + "\n");

        var result = await _sandbox.RunAsync("size", "--records-per-second", "2000", "--sample", sample, "--json");

        CliAssert.Succeeded(result);
        var measured = result.Json().GetProperty("sample");
        Assert.Equal(200, measured.GetProperty("userRecords").GetInt64());
        Assert.True(measured.GetProperty("averageRecordBytes").GetDouble() > 20);
        Assert.True(measured.GetProperty("aggregationRatio").GetDouble() > 1, "200 small records fit in far fewer aggregates");
    }

    private static string Num(double value) => value.ToString(CultureInfo.InvariantCulture);
}
