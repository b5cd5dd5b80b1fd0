using System.Text.Json;
using Cloud.Cli.Infrastructure;
using Cloud.Cli.Tests.Infrastructure;
using Cloud.EventSourceMapping;
using Cloud.Testing;

namespace Cloud.Cli.Tests;

/// <summary><c>cloud lag STREAM</c>: records behind the local runner's checkpoint, per shard.</summary>
[Collection(CliCollection.Name)]
public sealed class LagTests(EmulatorFixture fixture) : IDisposable
{
    private readonly CliSandbox _sandbox = new(fixture);

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task A_checkpoint_table_name_DynamoDB_refuses_is_invalid_input()
    {
        var stream = await _sandbox.CreateStreamAsync("cli-lag-table", 1);

        // DynamoDB table names need 3 to 255 characters: its ValidationException is the user's value, exit 5, not a failure (1).
        var result = await _sandbox.OnEmulatorsAsync("lag", stream, "--checkpoint-table", "t2");

        CliAssert.Failed(result, ExitCodes.InvalidInput, "TableName");
        Assert.DoesNotContain("Exception)", result.Stderr);
    }

    [Fact]
    public async Task Lag_counts_the_records_after_the_checkpoint()
    {
        var stream = await _sandbox.CreateStreamAsync("cli-lag", 1);
        var table = EmulatorFixture.UniqueName("cli-checkpoints");
        var mapping = "esm-" + stream;
        string[] lagArgs = ["lag", stream, "--checkpoint-table", table, "--json"];

        var empty = await _sandbox.OnEmulatorsAsync(lagArgs);
        CliAssert.Succeeded(empty);
        var emptyShard = Assert.Single(empty.Json().GetProperty("shards").EnumerateArray());
        Assert.Equal(0, emptyShard.GetProperty("recordsBehind").GetInt64());
        Assert.Equal(JsonValueKind.Null, emptyShard.GetProperty("checkpoint").ValueKind);

        // --sync: each record is its own PutRecords call, so each is one Kinesis record whose sequence number we learn.
        var lines = Enumerable.Range(0, 5).Select(i => JsonSerializer.Serialize(new { userId = "u" + i, n = i }));
        var produced = await _sandbox.OnEmulatorsWithInputAsync(string.Join('\n', lines) + "\n", "produce", stream, "--sync", "--json");
        CliAssert.Succeeded(produced);
        var sequences = produced.JsonLines().Where(l => l.TryGetProperty("record", out _)).Select(l => l.GetProperty("sequenceNumber").GetString()!).Distinct().ToList();
        Assert.Equal(5, sequences.Count);

        var behind = await _sandbox.OnEmulatorsAsync(lagArgs);
        CliAssert.Succeeded(behind);
        var shard = Assert.Single(behind.Json().GetProperty("shards").EnumerateArray());
        Assert.Equal(5, shard.GetProperty("recordsBehind").GetInt64());
        Assert.False(shard.GetProperty("finished").GetBoolean());

        // The runner checkpointed after the second record: three remain.
        using var dynamo = fixture.CreateDynamoDbClient();
        var store = new DynamoDbCheckpointStore(dynamo, table);
        await store.SaveAsync(new ShardCheckpoint { MappingId = mapping, ShardId = shard.GetProperty("shardId").GetString()!, SequenceNumber = sequences[1], UpdatedAt = DateTimeOffset.UtcNow });

        var partial = await _sandbox.OnEmulatorsAsync(lagArgs);
        CliAssert.Succeeded(partial);
        var after = Assert.Single(partial.Json().GetProperty("shards").EnumerateArray());
        Assert.Equal(sequences[1], after.GetProperty("checkpoint").GetString());
        Assert.Equal(3, after.GetProperty("recordsBehind").GetInt64());

        // Another mapping id has no checkpoint: everything is behind.
        var other = await _sandbox.OnEmulatorsAsync([.. lagArgs, "--mapping-id", "someone-else"]);
        Assert.Equal(5, Assert.Single(other.Json().GetProperty("shards").EnumerateArray()).GetProperty("recordsBehind").GetInt64());

        var human = await _sandbox.OnEmulatorsAsync("lag", stream, "--checkpoint-table", table);
        CliAssert.Succeeded(human);
        Assert.Contains("shardId-000000000000", human.Stdout);
    }
}
