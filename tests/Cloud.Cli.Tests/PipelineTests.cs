using Cloud.Cli.Tests.Infrastructure;
using Cloud.Testing;

namespace Cloud.Cli.Tests;

/// <summary><c>cloud pipeline</c>, the main job, for a few seconds against the fixture's emulators.</summary>
[Collection(CliCollection.Name)]
public sealed class PipelineTests(EmulatorFixture fixture) : IDisposable
{
    private static readonly string[] ConstraintNames = ["writeBytes", "writeRecords", "sharedRead", "consumerSpeed", "surgeDrain"];
    private readonly CliSandbox _sandbox = new(fixture);

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task A_short_run_delivers_every_event_and_reports_json()
    {
        var stream = EmulatorFixture.UniqueName("cli-pipeline");

        var result = await _sandbox.OnEmulatorsAsync("pipeline", "--stream", stream, "--duration", "4", "--rate", "200", "--json");

        CliAssert.Succeeded(result);
        var summary = result.Json();
        Assert.Equal(stream, summary.GetProperty("stream").GetString());
        Assert.True(summary.GetProperty("shards").GetInt32() >= 2);
        Assert.True(summary.GetProperty("calculatorShards").GetInt32() >= 1);
        // The same names as 'cloud size --json'.
        Assert.Contains(summary.GetProperty("decidingConstraint").GetString(), ConstraintNames);
        var durable = summary.GetProperty("durable").GetInt64();
        Assert.True(durable > 0);
        Assert.Equal(summary.GetProperty("produced").GetInt64(), durable);
        Assert.Equal(0, summary.GetProperty("deliveryFailures").GetInt64());
        Assert.Equal(durable, summary.GetProperty("perShard").EnumerateObject().Sum(s => s.Value.GetInt64()));
        Assert.True(summary.GetProperty("kinesisRecordsProcessed").GetInt64() > 0, "the local event-source mapping ran the Aggregator");

        var described = await _sandbox.OnEmulatorsAsync("streams", "describe", stream, "--json");
        CliAssert.Succeeded(described);
        Assert.Equal(summary.GetProperty("shards").GetInt32(), described.Json().GetProperty("openShards").GetInt32());
    }
}
