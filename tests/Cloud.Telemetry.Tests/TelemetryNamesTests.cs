namespace Cloud.Telemetry.Tests;

public class TelemetryNamesTests
{
    [Fact]
    public void Instrument_names_follow_the_producers_scheme() =>
        Assert.Equal("cloud.consumer.records_in", TelemetryNames.Instrument(TelemetryNames.Consumer, "records_in"));

    [Theory]
    [InlineData("Other.Lib", "x")]
    [InlineData("Cloud.Consumer", "Records In")]
    public void Names_outside_the_scheme_are_refused(string source, string thing) =>
        Assert.Throws<ArgumentException>(() => TelemetryNames.Instrument(source, thing));

    [Fact]
    public void Each_library_has_one_activity_source_named_like_its_meter()
    {
        var sources = new[]
        {
            CloudActivitySources.Producer, CloudActivitySources.Consumer, CloudActivitySources.EventSourceMapping,
            CloudActivitySources.Functions, CloudActivitySources.Privacy,
        };
        Assert.Equal(TelemetryNames.All, sources.Select(s => s.Name));
    }
}
