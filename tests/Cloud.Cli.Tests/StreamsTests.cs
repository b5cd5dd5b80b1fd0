using System.Numerics;
using System.Text.Json;
using Cloud.Cli.Infrastructure;
using Cloud.Cli.Tests.Infrastructure;
using Cloud.Testing;

namespace Cloud.Cli.Tests;

/// <summary><c>cloud streams create|list|describe|scale|delete</c> against kinesis-local.</summary>
[Collection(CliCollection.Name)]
public sealed class StreamsTests(EmulatorFixture fixture) : IDisposable
{
    private static readonly BigInteger MaxHashKey = BigInteger.Pow(2, 128) - 1;
    private readonly CliSandbox _sandbox = new(fixture);

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Create_list_describe_scale_delete()
    {
        var name = EmulatorFixture.UniqueName("cli-life");

        var created = await _sandbox.OnEmulatorsAsync("streams", "create", name, "--shards", "2", "--json");
        CliAssert.Succeeded(created);
        var summary = created.Json();
        Assert.Equal(name, summary.GetProperty("streamName").GetString());
        Assert.EndsWith(":stream/" + name, summary.GetProperty("streamArn").GetString());
        Assert.Equal("ACTIVE", summary.GetProperty("status").GetString());
        Assert.Equal("PROVISIONED", summary.GetProperty("mode").GetString());
        Assert.Equal(2, summary.GetProperty("openShards").GetInt32());
        Assert.Equal(24, summary.GetProperty("retentionHours").GetInt32());
        Assert.Equal("NONE", summary.GetProperty("encryption").GetString());

        var listed = await _sandbox.OnEmulatorsAsync("streams", "list", "--json");
        CliAssert.Succeeded(listed);
        Assert.Contains(name, listed.Json().GetProperty("streams").EnumerateArray().Select(s => s.GetString()));
        var listedHuman = await _sandbox.OnEmulatorsAsync("streams", "list");
        Assert.Contains(name, listedHuman.StdoutLines);

        var described = await _sandbox.OnEmulatorsAsync("streams", "describe", name, "--json");
        CliAssert.Succeeded(described);
        var before = described.Json();
        Assert.Equal(summary.GetProperty("streamArn").GetString(), before.GetProperty("streamArn").GetString());
        var shards = before.GetProperty("shards").EnumerateArray().ToList();
        Assert.Equal(2, shards.Count);
        Assert.All(shards, s => Assert.True(s.GetProperty("open").GetBoolean()));
        Assert.All(shards, s => Assert.StartsWith("shardId-", s.GetProperty("shardId").GetString()));
        AssertCoversKeySpace(shards);

        var scaled = await _sandbox.OnEmulatorsAsync("streams", "scale", name, "--shards", "4", "--json");
        CliAssert.Succeeded(scaled);
        Assert.Equal(4, scaled.Json().GetProperty("openShards").GetInt32());
        Assert.Equal("ACTIVE", scaled.Json().GetProperty("status").GetString());

        var after = (await _sandbox.OnEmulatorsAsync("streams", "describe", name, "--json")).Json();
        var afterShards = after.GetProperty("shards").EnumerateArray().ToList();
        var open = afterShards.Where(s => s.GetProperty("open").GetBoolean()).ToList();
        Assert.Equal(4, open.Count);
        AssertCoversKeySpace(open);
        var parents = shards.Select(s => s.GetProperty("shardId").GetString()).ToHashSet();
        Assert.All(open, s => Assert.Contains(s.GetProperty("parentShardId").GetString(), parents));
        Assert.Equal(2, afterShards.Count(s => !s.GetProperty("open").GetBoolean()));

        var deleted = await _sandbox.OnEmulatorsAsync("streams", "delete", name, "--json");
        CliAssert.Succeeded(deleted);
        Assert.Equal(name, deleted.Json().GetProperty("streamName").GetString());
        Assert.Equal("DELETING", deleted.Json().GetProperty("status").GetString());

        // Deletion is asynchronous in AWS; the emulator finishes at once or soon.
        CliResult gone = described;
        for (var attempt = 0; attempt < 40; attempt++)
        {
            gone = await _sandbox.OnEmulatorsAsync("streams", "describe", name, "--json");
            if (gone.ExitCode != ExitCodes.Success)
            {
                break;
            }

            await Task.Delay(250);
        }

        CliAssert.Failed(gone, ExitCodes.NotFound, name);
        Assert.DoesNotContain(name, (await _sandbox.OnEmulatorsAsync("streams", "list", "--json")).Json().GetProperty("streams").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task Describe_for_humans_shows_whole_shard_ids_even_when_piped()
    {
        var name = await _sandbox.CreateStreamAsync("cli-human", 2);

        var result = await _sandbox.OnEmulatorsAsync("streams", "describe", name);

        CliAssert.Succeeded(result);
        Assert.Contains(name, result.Stdout);
        Assert.Contains("ACTIVE", result.Stdout);
        // A table wrapped at 80 columns splits "shardId-000000000000" over two lines and breaks grep.
        Assert.Contains("shardId-000000000000", result.Stdout);
        Assert.Contains("shardId-000000000001", result.Stdout);
        Assert.Contains("340282366920938463463374607431768211455", result.Stdout);
    }

    [Fact]
    public async Task Creating_a_stream_that_exists_fails_with_a_clear_message()
    {
        var name = await _sandbox.CreateStreamAsync("cli-dup", 1);

        var result = await _sandbox.OnEmulatorsAsync("streams", "create", name, "--shards", "1");

        CliAssert.Failed(result, ExitCodes.Failure, name, "already exists");
    }

    [Fact]
    public async Task Scaling_beyond_what_the_service_allows_is_invalid_input()
    {
        var name = await _sandbox.CreateStreamAsync("cli-scale", 1);

        var result = await _sandbox.OnEmulatorsAsync("streams", "scale", name, "--shards", "5");

        CliAssert.Failed(result, ExitCodes.InvalidInput, "InvalidArgumentException");
        Assert.Equal(1, (await _sandbox.OnEmulatorsAsync("streams", "describe", name, "--json")).Json().GetProperty("openShards").GetInt32());
    }

    [Theory]
    [InlineData("describe")]
    [InlineData("delete")]
    [InlineData("scale")]
    public async Task An_unknown_stream_is_not_found(string verb)
    {
        var name = EmulatorFixture.UniqueName("cli-missing");
        string[] args = verb == "scale" ? ["streams", verb, name, "--shards", "2"] : ["streams", verb, name];

        var result = await _sandbox.OnEmulatorsAsync(args);

        CliAssert.Failed(result, ExitCodes.NotFound, name);
        Assert.Empty(result.Stdout);
    }

    [Theory]
    [InlineData("streams", "list")]
    [InlineData("streams", "create", "x", "--shards", "1")]
    [InlineData("streams", "describe", "x")]
    public async Task A_bad_endpoint_is_unreachable(params string[] args)
    {
        var result = await _sandbox.RunAsync([.. args, "--endpoint", "http://127.0.0.1:1", "--dynamodb-endpoint", "http://127.0.0.1:1"]);

        CliAssert.Failed(result, ExitCodes.Unreachable, "127.0.0.1:1");
        Assert.Empty(result.Stdout);
    }

    private static void AssertCoversKeySpace(IEnumerable<JsonElement> shards)
    {
        var ranges = shards
            .Select(s => (Start: BigInteger.Parse(s.GetProperty("startingHashKey").GetString()!), End: BigInteger.Parse(s.GetProperty("endingHashKey").GetString()!)))
            .OrderBy(r => r.Start)
            .ToList();
        Assert.Equal(BigInteger.Zero, ranges[0].Start);
        Assert.Equal(MaxHashKey, ranges[^1].End);
        for (var i = 1; i < ranges.Count; i++)
        {
            Assert.Equal(ranges[i - 1].End + 1, ranges[i].Start);
        }
    }
}
