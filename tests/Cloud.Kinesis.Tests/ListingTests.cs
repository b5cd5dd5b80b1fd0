using System.Globalization;
using System.Net;
using System.Text.Json;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Amazon.Runtime;
using Cloud.Testing.Kinesis;

namespace Cloud.Kinesis.Tests;

/// <summary>ListAllShardsAsync and ListAllStreamsAsync: every page, the request shapes the API requires.</summary>
public sealed class ListingTests
{
    [Fact]
    public async Task ListAllShards_follows_NextToken_and_sends_only_the_token_on_later_pages()
    {
        // Three pages over real HTTP; a later page with StreamName as well is an InvalidArgumentException on AWS.
        await using var server = new LoopbackKinesisServer(request =>
        {
            var body = request.Body;
            var page = body.TryGetProperty("NextToken", out var token) ? int.Parse(token.GetString()!, CultureInfo.InvariantCulture) : 0;
            if (page > 0 && body.TryGetProperty("StreamName", out _))
            {
                return LoopbackResponse.Error(HttpStatusCode.BadRequest, "InvalidArgumentException", "NextToken and StreamName cannot be provided together.");
            }

            if (page == 0)
            {
                Assert.Equal("s", body.GetProperty("StreamName").GetString());
                Assert.Equal("AT_LATEST", body.GetProperty("ShardFilter").GetProperty("Type").GetString());
            }

            var shards = Enumerable.Range(page * 2, 2).Select(i => new
            {
                ShardId = $"shardId-{i:D12}",
                HashKeyRange = new { StartingHashKey = (i * 10).ToString(CultureInfo.InvariantCulture), EndingHashKey = ((i * 10) + 9).ToString(CultureInfo.InvariantCulture) },
                SequenceNumberRange = new { StartingSequenceNumber = "1" },
            });
            return LoopbackResponse.Ok(JsonSerializer.Serialize(new { Shards = shards, NextToken = page < 2 ? (page + 1).ToString(CultureInfo.InvariantCulture) : null }));
        });
        using var client = LoopbackClient(server.Endpoint);

        var all = await client.ListAllShardsAsync("s", new ShardFilter { Type = ShardFilterType.AT_LATEST });

        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"shardId-{i:D12}"), all.Select(s => s.ShardId));
        Assert.Equal(3, server.RequestsOf("ListShards").Count);
    }

    [Fact]
    public async Task ListAllShards_of_the_fake_lists_open_and_closed_shards()
    {
        using var fake = new FakeKinesis(2, "s");
        fake.Split("s", "shardId-000000000000");

        var all = await fake.ListAllShardsAsync("s", CancellationToken.None);
        var map = await fake.GetShardMapAsync("s");

        Assert.Equal(4, all.Count);
        Assert.Equal(3, map.Count); // the split parent is closed
        Assert.DoesNotContain(map.Ranges, r => r.ShardId == "shardId-000000000000");
    }

    [Fact]
    public async Task ListAllShards_propagates_errors()
    {
        using var fake = new FakeKinesis(1, "s");
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => fake.ListAllShardsAsync("missing"));
        await Assert.ThrowsAsync<ArgumentException>(() => fake.ListAllShardsAsync(""));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ListAllStreams_returns_all_31_streams_with_or_without_NextToken(bool withoutNextToken)
    {
        using var fake = new FakeKinesis { ListStreamsPageSize = 10, ListStreamsWithoutNextToken = withoutNextToken };
        var names = Enumerable.Range(0, 31).Select(i => $"stream-{i:D2}").ToList();
        foreach (var name in names)
        {
            fake.CreateStream(name, 1);
        }

        var listed = await fake.ListAllStreamsAsync();

        Assert.Equal(names, listed);
    }

    [Fact]
    public async Task ListAllStreams_over_http_without_NextToken_uses_ExclusiveStartStreamName()
    {
        var all = Enumerable.Range(0, 31).Select(i => $"stream-{i:D2}").ToList();
        await using var server = new LoopbackKinesisServer(request =>
        {
            var after = request.Body.TryGetProperty("ExclusiveStartStreamName", out var start) ? start.GetString() : null;
            var rest = all.Where(n => after is null || string.CompareOrdinal(n, after) > 0).ToList();
            var page = rest.Take(10).ToList();
            return LoopbackResponse.Ok(JsonSerializer.Serialize(new { StreamNames = page, HasMoreStreams = rest.Count > page.Count }));
        });
        using var client = LoopbackClient(server.Endpoint);

        var listed = await client.ListAllStreamsAsync();

        Assert.Equal(all, listed);
        var starts = server.RequestsOf("ListStreams").Select(r => r.Body.TryGetProperty("ExclusiveStartStreamName", out var s) ? s.GetString() : null).ToList();
        Assert.Equal([null, "stream-09", "stream-19", "stream-29"], starts);
    }

    [Fact]
    public async Task ListAllStreams_reads_StreamSummaries_and_stops_when_the_service_repeats_itself()
    {
        // A page with summaries only; then a service that answers the same page forever with HasMoreStreams.
        await using var server = new LoopbackKinesisServer(_ => LoopbackResponse.Ok(
            """{"StreamNames":[],"StreamSummaries":[{"StreamName":"a","StreamARN":"arn:aws:kinesis:us-east-1:0:stream/a","StreamStatus":"ACTIVE"}],"HasMoreStreams":true}"""));
        using var client = LoopbackClient(server.Endpoint);

        var listed = await client.ListAllStreamsAsync();

        Assert.Equal(["a"], listed);
        Assert.Equal(2, server.RequestsOf("ListStreams").Count);
    }

    private static AmazonKinesisClient LoopbackClient(Uri endpoint) => KinesisClientFactory.Create(new KinesisConnectionOptions
    {
        ServiceUrl = endpoint,
        Region = "us-east-1",
        Credentials = new BasicAWSCredentials("test", "test"),
        MaxErrorRetry = 0,
    });
}
