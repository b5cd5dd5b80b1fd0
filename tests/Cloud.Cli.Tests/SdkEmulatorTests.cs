using System.Net;
using System.Text;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Cli.Tests.Infrastructure;
using Cloud.Kinesis;
using Cloud.Testing;
using Cloud.Testing.Kinesis;

namespace Cloud.Cli.Tests;

/// <summary>Behaviour of the SDK port against kinesis-local + dynalite: <c>consume --latest</c> across a reshard, KMS routing.</summary>
[Collection(CliCollection.Name)]
public sealed class SdkEmulatorTests(EmulatorFixture fixture) : IDisposable
{
    private readonly CliSandbox _sandbox = new(fixture);

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Consume_latest_starts_the_children_of_an_earlier_reshard_at_LATEST()
    {
        // Before: only shards without a parent started at LATEST; the open children of a split started at
        // TRIM_HORIZON and '--latest' printed their whole history first.
        var stream = await _sandbox.CreateStreamAsync("cli-latest", 1);
        using var kinesis = fixture.CreateKinesisClient();
        await PutAsync(kinesis, stream, "old-parent", 3);
        var parent = Assert.Single(await kinesis.ListAllShardsAsync(stream));
        var middle = (UInt128.Parse(parent.HashKeyRange.EndingHashKey) / 2).ToString();
        await kinesis.SplitShardAsync(new SplitShardRequest { StreamName = stream, ShardToSplit = parent.ShardId, NewStartingHashKey = middle });
        await kinesis.WaitForStreamActiveAsync(stream, TimeSpan.FromMinutes(1));
        await PutAsync(kinesis, stream, "old-child", 6);

        var consuming = _sandbox.OnEmulatorsAsync("consume", stream, "--latest", "--max", "3", "--json");
        // The consumer takes its LATEST iterators at some point after start-up: keep writing new records until it has three.
        for (var i = 0; !consuming.IsCompleted && i < 120; i++)
        {
            await PutAsync(kinesis, stream, $"new-{i:D3}", 1);
            await Task.WhenAny(consuming, Task.Delay(500));
        }

        var consumed = await consuming;
        CliAssert.Succeeded(consumed);
        var data = consumed.JsonLines().Select(r => Encoding.UTF8.GetString(r.GetProperty("data").GetBytesFromBase64())).ToList();
        Assert.Equal(3, data.Count);
        Assert.All(data, d => Assert.StartsWith("new-", d, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Kms_endpoint_routes_the_kms_calls_of_explicit_endpoint_mode()
    {
        var stream = await _sandbox.CreateStreamAsync("cli-kms", 1);
        await using var kms = new LoopbackKinesisServer(_ => LoopbackResponse.Error(HttpStatusCode.BadRequest, "AccessDeniedException", "loopback KMS refuses"));

        var produced = await _sandbox.OnEmulatorsWithInputAsync("{\"userId\":\"u1\",\"email\":\"a@example.com\"}\n",
            "produce", stream, "--encrypt-fields", "email", "--user-field", "userId", "--kms-key-id", "alias/cloud", "--kms-endpoint", kms.Endpoint.ToString(), "--json");

        Assert.NotEqual(0, produced.ExitCode);
        Assert.NotEmpty(kms.Requests);
        Assert.All(kms.Requests, r => Assert.Equal("GenerateDataKey", r.Operation));
    }

    private static async Task PutAsync(IAmazonKinesis kinesis, string stream, string prefix, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var text = count == 1 ? prefix : $"{prefix}-{i}";
            await kinesis.PutRecordAsync(new PutRecordRequest { StreamName = stream, PartitionKey = text, Data = new MemoryStream(Encoding.UTF8.GetBytes(text)) });
        }
    }
}
