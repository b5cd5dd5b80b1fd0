using System.Reflection;
using Cloud.Producer;

namespace Cloud.Telemetry.Tests;

/// <summary>docs/observability.md lists every instrument, activity and tag key that exists in code.</summary>
public class DocumentationTests
{
    private static string Doc()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Cloud.sln")))
        {
            dir = dir.Parent;
        }
        Assert.NotNull(dir);
        return File.ReadAllText(Path.Combine(dir.FullName, "docs", "observability.md"));
    }

    private static IEnumerable<string> Constants(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!);

    [Fact]
    public void Every_producer_instrument_has_a_row()
    {
        string doc = Doc();
        foreach (var name in Constants(typeof(ProducerMetricNames)).Where(n => n.StartsWith("cloud.", StringComparison.Ordinal)))
        {
            Assert.Contains($"| `{name}` |", doc, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_event_source_mapping_and_consumer_instrument_has_a_row()
    {
        string doc = Doc();
        foreach (var name in Constants(typeof(Cloud.EventSourceMapping.EventSourceMappingMetricNames)).Concat(Constants(typeof(Cloud.Consumer.ConsumerMetricNames))).Where(n => n.StartsWith("cloud.", StringComparison.Ordinal)))
        {
            Assert.Contains($"| `{name}` |", doc, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_activity_name_meter_and_tag_key_is_documented()
    {
        string doc = Doc();
        foreach (var name in Constants(typeof(ActivityNames)).Concat(TelemetryNames.All).Concat(TelemetryTags.All))
        {
            Assert.Contains($"`{name}`", doc, StringComparison.Ordinal);
        }
    }
}
