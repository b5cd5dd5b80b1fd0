using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Cloud.Telemetry.Tests;

public class EmfMetricsWriterTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 3, 0, 0, TimeSpan.Zero);

    private static (EmfMetricsWriter Writer, StringWriter Output, Meter Meter) Create(Dictionary<string, string>? defaults = null)
    {
        string meterName = "Cloud.Test." + Guid.NewGuid().ToString("N");
        var output = new StringWriter();
        var writer = new EmfMetricsWriter(new EmfMetricsOptions
        {
            Namespace = "CloudPipeline",
            Meters = [meterName],
            DefaultDimensions = defaults ?? [],
            TimeProvider = new FakeTimeProvider(Now),
        }, output);
        return (writer, output, new Meter(meterName));
    }

    [Fact]
    public void Golden_format_counters_histograms_and_gauges_in_one_line_per_tag_set()
    {
        var (writer, output, meter) = Create(new() { ["function"] = "aggregator" });
        using (writer)
        using (meter)
        {
            var records = meter.CreateCounter<long>("cloud.functions.records_in", "{record}");
            var duration = meter.CreateHistogram<double>("cloud.functions.batch.duration", "ms");
            meter.CreateObservableGauge("cloud.functions.open_windows", () => 3, "{window}");
            records.Add(5, new KeyValuePair<string, object?>("shard", "shardId-000000000001"));
            records.Add(7, new KeyValuePair<string, object?>("shard", "shardId-000000000001"));
            duration.Record(1.5);
            duration.Record(2.25);

            Assert.Equal(2, writer.Flush());
        }

        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // Byte-exact golden lines: member order, units and the _aws envelope as the EMF specification shows them.
        Assert.Equal(
            """{"_aws":{"Timestamp":1796612400000,"CloudWatchMetrics":[{"Namespace":"CloudPipeline","Dimensions":[["function","shard"]],"Metrics":[{"Name":"cloud.functions.records_in","Unit":"Count"}]}]},"function":"aggregator","shard":"shardId-000000000001","cloud.functions.records_in":12}""",
            lines.Single(l => l.Contains("records_in", StringComparison.Ordinal)));
        Assert.Equal(
            """{"_aws":{"Timestamp":1796612400000,"CloudWatchMetrics":[{"Namespace":"CloudPipeline","Dimensions":[["function"]],"Metrics":[{"Name":"cloud.functions.batch.duration","Unit":"Milliseconds"},{"Name":"cloud.functions.open_windows","Unit":"Count"}]}]},"function":"aggregator","cloud.functions.batch.duration":[1.5,2.25],"cloud.functions.open_windows":3}""",
            lines.Single(l => l.Contains("batch.duration", StringComparison.Ordinal)));
    }

    [Fact]
    public void Every_line_is_a_valid_EMF_document_whose_directives_reference_existing_members()
    {
        var (writer, output, meter) = Create();
        using (writer)
        using (meter)
        {
            var c = meter.CreateCounter<int>("cloud.test.things", "{thing}");
            var h = meter.CreateHistogram<long>("cloud.test.size", "By");
            for (int i = 0; i < 250; i++)
            {
                h.Record(i, new KeyValuePair<string, object?>("kind", i % 2 == 0 ? "even" : "odd"));
                c.Add(1, new KeyValuePair<string, object?>("kind", i % 2 == 0 ? "even" : "odd"));
            }
            writer.Flush();
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // 125 values per tag set: 100 on one line, 25 on the next.
        Assert.Equal(4, lines.Length);
        double total = 0;
        int sizes = 0;
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            var aws = root.GetProperty("_aws");
            Assert.Equal(JsonValueKind.Number, aws.GetProperty("Timestamp").ValueKind);
            var directive = Assert.Single(aws.GetProperty("CloudWatchMetrics").EnumerateArray());
            Assert.Equal("CloudPipeline", directive.GetProperty("Namespace").GetString());
            foreach (var set in directive.GetProperty("Dimensions").EnumerateArray())
            {
                foreach (var key in set.EnumerateArray())
                {
                    Assert.Equal(JsonValueKind.String, root.GetProperty(key.GetString()!).ValueKind);
                }
            }
            foreach (var metric in directive.GetProperty("Metrics").EnumerateArray())
            {
                var value = root.GetProperty(metric.GetProperty("Name").GetString()!);
                if (metric.GetProperty("Name").GetString() == "cloud.test.things")
                {
                    total += value.GetDouble();
                    Assert.Equal("Count", metric.GetProperty("Unit").GetString());
                }
                else
                {
                    Assert.Equal("Bytes", metric.GetProperty("Unit").GetString());
                    int n = value.ValueKind == JsonValueKind.Array ? value.GetArrayLength() : 1;
                    Assert.InRange(n, 1, EmfMetricsWriter.MaxValuesPerMetric);
                    sizes += n;
                }
            }
        }
        Assert.Equal(250, total);
        Assert.Equal(250, sizes);
    }

    [Fact]
    public void Flush_starts_over_and_writes_nothing_when_nothing_was_recorded()
    {
        var (writer, output, meter) = Create();
        using (writer)
        using (meter)
        {
            var c = meter.CreateCounter<long>("cloud.test.count");
            c.Add(2);
            Assert.Equal(1, writer.Flush());
            Assert.Equal(0, writer.Flush());
            c.Add(3);
            Assert.Equal(1, writer.Flush());
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.EndsWith("\"Dimensions\":[[]],\"Metrics\":[{\"Name\":\"cloud.test.count\",\"Unit\":\"None\"}]}]},\"cloud.test.count\":2}", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("\"cloud.test.count\":3}", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Observable_counters_export_the_change_since_the_last_flush()
    {
        var (writer, output, meter) = Create();
        long total = 10;
        using (writer)
        using (meter)
        {
            meter.CreateObservableCounter("cloud.test.total", () => total, "{record}");
            writer.Flush();
            total = 25;
            writer.Flush();
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.EndsWith("\"cloud.test.total\":10}", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("\"cloud.test.total\":15}", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Non_finite_values_are_dropped_and_counted_not_written_as_invalid_JSON()
    {
        var (writer, output, meter) = Create();
        using (writer)
        using (meter)
        {
            var h = meter.CreateHistogram<double>("cloud.test.ratio");
            h.Record(double.NaN);
            h.Record(double.PositiveInfinity);
            h.Record(2);
            writer.Flush();
            Assert.Equal(2, writer.DroppedMeasurements);
        }
        using var doc = JsonDocument.Parse(output.ToString().Trim());
        Assert.Equal(2, doc.RootElement.GetProperty("cloud.test.ratio").GetDouble());
    }

    [Fact]
    public void Other_meters_are_not_exported()
    {
        var (writer, output, meter) = Create();
        using var other = new Meter("Cloud.Other." + Guid.NewGuid().ToString("N"));
        using (writer)
        using (meter)
        {
            other.CreateCounter<long>("cloud.other.count").Add(1);
            Assert.Equal(0, writer.Flush());
        }
        Assert.Equal(string.Empty, output.ToString());
    }

    [Theory]
    [InlineData("", "Namespace is required")]
    [InlineData("AWS/Lambda", "reserved")]
    public void Bad_options_are_refused_with_the_problem_named(string ns, string problem)
    {
        var ex = Assert.Throws<ArgumentException>(() => new EmfMetricsWriter(new EmfMetricsOptions { Namespace = ns }, TextWriter.Null));
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ms", "Milliseconds")]
    [InlineData("s", "Seconds")]
    [InlineData("By", "Bytes")]
    [InlineData("{record}", "Count")]
    [InlineData("{record}/s", "Count/Second")]
    [InlineData("1", "None")]
    [InlineData(null, "None")]
    public void Units_map_from_UCUM_to_CloudWatch(string? ucum, string cloudWatch) =>
        Assert.Equal(cloudWatch, EmfMetricsWriter.ToCloudWatchUnit(ucum));
}
