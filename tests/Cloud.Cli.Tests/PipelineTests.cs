using Cloud.Cli.Infrastructure;
using Cloud.Cli.Tests.Infrastructure;
using Cloud.Testing;

namespace Cloud.Cli.Tests;

/// <summary><c>cloud pipeline</c>, the main job, for a few seconds against the fixture's emulators.</summary>
[Collection(CliCollection.Name)]
public sealed class PipelineTests(EmulatorFixture fixture) : IDisposable
{
    private static readonly string[] ConstraintNames = ["writeBytes", "writeRecords", "sharedRead", "consumerSpeed", "surgeDrain"];
    private readonly CliSandbox _sandbox = new(fixture);

    // Every run shares the emulator's key table, so they share one master key too (as one deployment would): the
    // generator's user ids repeat across runs, and pseudonymous mode keeps one index key per key table.
    private static readonly string MasterKey = Path.Combine(AppContext.BaseDirectory, "pipeline-tests-master.key");

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task A_short_run_delivers_every_event_and_reports_json()
    {
        var stream = EmulatorFixture.UniqueName("cli-pipeline");

        var result = await _sandbox.OnEmulatorsAsync("pipeline", "--stream", stream, "--duration", "4", "--rate", "200", "--json", "--master-key-file", MasterKey);

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
        Assert.False(summary.GetProperty("limitsEnforced").GetBoolean());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, summary.GetProperty("throttledRecords").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, summary.GetProperty("throttledReads").ValueKind);

        var described = await _sandbox.OnEmulatorsAsync("streams", "describe", stream, "--json");
        CliAssert.Succeeded(described);
        Assert.Equal(summary.GetProperty("shards").GetInt32(), described.Json().GetProperty("openShards").GetInt32());
    }

    [Fact]
    public async Task With_enforced_limits_the_run_goes_through_the_limit_proxy_and_reports_what_it_throttled()
    {
        var stream = EmulatorFixture.UniqueName("cli-pipeline-limits");

        // One Kinesis record per event on one shard: the write limit (1,000 records/s) is what a fast machine hits
        // first (tests/Cloud.IntegrationTests ProducerLimitTests shows the producer throttled and retried through the
        // same proxy); here the run must deliver everything through it and surface both counters.
        var result = await _sandbox.OnEmulatorsAsync("pipeline", "--stream", stream, "--duration", "4", "--rate", "3000", "--shards", "1", "--no-aggregation", "--enforce-limits", "--json", "--master-key-file", MasterKey);

        CliAssert.Succeeded(result);
        var summary = result.Json();
        Assert.True(summary.GetProperty("limitsEnforced").GetBoolean());
        Assert.True(summary.GetProperty("throttledRecords").GetInt64() >= 0);
        Assert.True(summary.GetProperty("throttledReads").GetInt64() >= 0);
        var durable = summary.GetProperty("durable").GetInt64();
        Assert.True(durable > 0);
        Assert.Equal(summary.GetProperty("produced").GetInt64(), durable);
        Assert.Equal(0, summary.GetProperty("deliveryFailures").GetInt64());
        Assert.Equal(1, summary.GetProperty("shards").GetInt32());
        // Without aggregation every event is its own Kinesis record: the mapping read them all through the proxy.
        Assert.Equal(durable, summary.GetProperty("kinesisRecordsProcessed").GetInt64());
    }

    [Fact]
    public async Task Forget_demo_names_the_forgotten_user_and_their_per_user_rows_are_keyed_by_a_pseudonym_nobody_can_recompute()
    {
        var stream = EmulatorFixture.UniqueName("cli-pipeline-forget");

        var result = await _sandbox.OnEmulatorsAsync("pipeline", "--stream", stream, "--duration", "6", "--rate", "200", "--window-seconds", "1", "--forget-demo", "--json", "--master-key-file", MasterKey);

        CliAssert.Succeeded(result);
        var summary = result.Json();
        var user = summary.GetProperty("forgottenUser").GetString();
        Assert.False(string.IsNullOrEmpty(user));
        var pseudonym = summary.GetProperty("forgottenUserPseudonym").GetString();
        Assert.StartsWith("ps1_", pseudonym, StringComparison.Ordinal);
        Assert.Equal("cloud-aggregates-users", summary.GetProperty("perUserTable").GetString());
        Assert.True(summary.GetProperty("perUserRows").GetInt64() > 0, "the main job aggregates per user too: " + result.Stdout + result.Stderr);
        Assert.False(summary.GetProperty("forgottenUserLinkable").GetBoolean());
        Assert.True(summary.GetProperty("refusedForForgottenUser").GetInt64() >= 0);

        // Proof of erasure: nothing the project stores is linked to the user (exit 0) ...
        string[] common = ["--pseudonymize", "--scan-stream", stream, "--master-key-file", MasterKey];
        var verified = await _sandbox.OnEmulatorsAsync(["forget", user!, "--verify", .. common]);
        CliAssert.Succeeded(verified);
        var report = verified.Json();
        Assert.True(report.GetProperty("nothingLinked").GetBoolean());
        Assert.Equal("Forgotten", report.GetProperty("keyStatus").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.String, report.GetProperty("keyDestroyedAt").ValueKind);
        var scanned = report.GetProperty("scanned").EnumerateArray().ToList();
        Assert.Contains(scanned, s => s.GetProperty("kind").GetString() == "stream" && s.GetProperty("items").GetInt64() > 0);
        Assert.Contains(scanned, s => s.GetProperty("name").GetString() == "cloud-aggregates-users" && s.GetProperty("items").GetInt64() > 0);
        Assert.DoesNotContain(user!, verified.Stdout, StringComparison.Ordinal);

        // ... while the pseudonym recorded before the forget still keys the (anonymous) per-user rows: given it, the
        // report finds them and exits 5 — the scan does look.
        var withPseudonym = await _sandbox.OnEmulatorsAsync(["forget", user!, "--verify", "--pseudonym", pseudonym!, .. common]);
        CliAssert.Failed(withPseudonym, ExitCodes.InvalidInput);
        Assert.Contains(withPseudonym.Json().GetProperty("scanned").EnumerateArray(), s => s.GetProperty("name").GetString() == "cloud-aggregates-users" && s.GetProperty("matches").GetInt64() > 0);
    }
}
