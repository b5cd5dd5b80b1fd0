using System.Globalization;
using System.Text;
using Cloud.Records;

namespace Cloud.Sizing.Tests;

public class RecordSampleMeasurerTests
{
    private static MemoryStream Sample(int count, Func<int, string> line)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            sb.Append(line(i)).Append('\n');
        }

        return new MemoryStream(Encoding.UTF8.GetBytes(sb.ToString()));
    }

    private static string Click(int i) => string.Create(CultureInfo.InvariantCulture,
        $"{{\"userId\":\"user-{i % 20}\",\"page\":\"/products/{i % 7}\",\"amount\":{i % 100}.5,\"ts\":{1_700_000_000 + i}}}");

    [Fact]
    public async Task A_malformed_sample_line_is_named_by_its_line_and_column_only()
    {
        var text = "{\"a\":1}\n{\"a\": oops}\n";
        var ex = await Assert.ThrowsAsync<SizingValidationException>(() =>
            RecordSampleMeasurer.MeasureAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)), new RecordSampleOptions()));

        var problem = Assert.Single(ex.Problems);
        Assert.Equal("sample line 2", problem.Field);
        Assert.Contains("is not valid JSON", problem.Message, StringComparison.Ordinal);
        Assert.Contains("(column 7)", problem.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_aggregation_or_compression_bytes_and_records_pass_through()
    {
        var m = await RecordSampleMeasurer.MeasureAsync(Sample(100, Click), new RecordSampleOptions { Aggregate = false });

        Assert.Equal(100, m.UserRecords);
        Assert.Equal(100, m.KinesisRecords);
        Assert.Equal(m.UserBytes, m.KinesisBytes);
        Assert.Equal(1, m.AggregationRatio);
        Assert.Equal(1, m.CompressionRatio);
    }

    [Fact]
    public async Task Generated_partition_keys_are_uuid_length()
    {
        var lines = Enumerable.Range(0, 10).Select(Click).ToArray();
        var dataBytes = lines.Sum(l => Encoding.UTF8.GetByteCount(l));

        var m = await RecordSampleMeasurer.MeasureAsync(Sample(10, Click), new RecordSampleOptions { Aggregate = false });

        Assert.Equal(dataBytes + (10 * 36), m.UserBytes);
    }

    [Fact]
    public async Task Aggregation_packs_records_into_kpl_sized_aggregates()
    {
        var m = await RecordSampleMeasurer.MeasureAsync(Sample(5_000, Click), new RecordSampleOptions());

        // ~100-byte records + 36-byte keys into 51,200-byte aggregates: a few hundred per Kinesis record.
        Assert.InRange(m.AggregationRatio, 200, 500);
        Assert.InRange(m.AverageKinesisRecordBytes, 40_000, 51_200 + 256);
        // Unique keys: the framing (protobuf tags, magic, MD5) costs a little, so slightly under 1.
        Assert.InRange(m.CompressionRatio, 0.9, 1.0);
    }

    [Fact]
    public async Task Repeated_partition_keys_are_stored_once_per_aggregate()
    {
        var m = await RecordSampleMeasurer.MeasureAsync(Sample(5_000, Click), new RecordSampleOptions { PartitionKeyField = "userId" });

        // Each record's key (user-0..user-19) counts in the user bytes but only once per aggregate on the stream.
        Assert.True(m.CompressionRatio > 1.0, $"ratio {m.CompressionRatio}");
    }

    [Fact]
    public async Task Compressing_whole_aggregates_beats_compressing_each_record()
    {
        var whole = await RecordSampleMeasurer.MeasureAsync(Sample(5_000, Click), new RecordSampleOptions { Codec = CompressionCodec.Zstd });
        var each = await RecordSampleMeasurer.MeasureAsync(Sample(5_000, Click), new RecordSampleOptions { Codec = CompressionCodec.Zstd, Placement = CompressionPlacement.EachRecord });

        Assert.True(whole.CompressionRatio > 3, $"whole-aggregate zstd ratio {whole.CompressionRatio}");
        Assert.True(whole.CompressionRatio > each.CompressionRatio);
        Assert.Equal(whole.UserBytes, each.UserBytes);
    }

    [Theory]
    [InlineData(CompressionCodec.Gzip)]
    [InlineData(CompressionCodec.Lz4)]
    [InlineData(CompressionCodec.Snappy)]
    public async Task Every_codec_shrinks_repetitive_json(CompressionCodec codec)
    {
        var m = await RecordSampleMeasurer.MeasureAsync(Sample(2_000, Click), new RecordSampleOptions { Codec = codec });

        Assert.True(m.CompressionRatio > 1.5, $"{codec} ratio {m.CompressionRatio}");
    }

    [Fact]
    public async Task Records_too_big_for_an_aggregate_travel_alone()
    {
        var big = "{\"blob\":\"" + new string('x', 60_000) + "\"}";
        var m = await RecordSampleMeasurer.MeasureAsync(Sample(3, _ => big), new RecordSampleOptions());

        Assert.Equal(3, m.KinesisRecords);
    }

    [Fact]
    public async Task A_bad_line_is_named()
    {
        var sample = new MemoryStream(Encoding.UTF8.GetBytes("{\"a\":1}\n\n{not json\n"));

        var ex = await Assert.ThrowsAsync<SizingValidationException>(() => RecordSampleMeasurer.MeasureAsync(sample));

        Assert.Equal("sample line 3", ex.Problems.Single().Field);
    }

    [Fact]
    public async Task Non_object_lines_and_empty_samples_are_rejected()
    {
        await Assert.ThrowsAsync<SizingValidationException>(() => RecordSampleMeasurer.MeasureAsync(new MemoryStream(Encoding.UTF8.GetBytes("[1,2]\n"))));
        var ex = await Assert.ThrowsAsync<SizingValidationException>(() => RecordSampleMeasurer.MeasureAsync(new MemoryStream()));
        Assert.Equal("sample", ex.Problems.Single().Field);
    }

    [Fact]
    public async Task Bad_options_are_all_listed()
    {
        var ex = await Assert.ThrowsAsync<SizingValidationException>(() => RecordSampleMeasurer.MeasureAsync(
            new MemoryStream(), new RecordSampleOptions { MaxAggregateBytes = 10, MaxRecords = 0, PartitionKeyField = "" }));

        Assert.Equal(["MaxAggregateBytes", "MaxRecords", "PartitionKeyField"], ex.Problems.Select(p => p.Field));
    }

    [Fact]
    public async Task Missing_file_is_a_validation_error()
    {
        var ex = await Assert.ThrowsAsync<SizingValidationException>(() => RecordSampleMeasurer.MeasureFileAsync(Path.Combine(Path.GetTempPath(), Guid.NewGuid() + ".jsonl")));

        Assert.Contains("does not exist", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Measured_ratios_feed_the_calculator()
    {
        var m = await RecordSampleMeasurer.MeasureAsync(Sample(5_000, Click), new RecordSampleOptions { Codec = CompressionCodec.Zstd });
        var workload = new WorkloadProfile { AverageRecordsPerSecond = 20_000, PeakRecordsPerSecond = 20_000, AverageRecordBytes = 1 }.WithMeasurement(m);

        var measured = new ShardCalculator().Calculate(workload);
        var raw = new ShardCalculator().Calculate(workload with { AggregationRatio = 1, CompressionRatio = 1 });

        Assert.Equal(m.AverageUserRecordBytes, workload.AverageRecordBytes);
        Assert.Equal(20, raw.Shards);
        Assert.True(measured.Shards < raw.Shards);
        Assert.True(measured.Cost.OnDemand.MonthlyTotal < raw.Cost.OnDemand.MonthlyTotal / 10);
    }
}
