using Microsoft.Extensions.Time.Testing;
using static Cloud.Kinesis.Tests.ClientTestSupport;

namespace Cloud.Kinesis.Tests;

public sealed class HelperTests
{
    private static string Summary(string status) => $$$"""
        {"StreamDescriptionSummary":{"StreamName":"s","StreamARN":"arn:aws:kinesis:us-east-1:111122223333:stream/s","StreamStatus":"{{{status}}}","RetentionPeriodHours":24,"OpenShardCount":1}}
        """;

    [Fact]
    public async Task WaitForStreamActive_polls_through_not_found_and_creating()
    {
        var time = new FakeTimeProvider();
        var handler = new FakeKinesisHandler((_, i, _) => Task.FromResult(i switch
        {
            0 => FakeKinesisHandler.Error("ResourceNotFoundException"),
            1 or 2 => FakeKinesisHandler.Ok(Summary("CREATING")),
            _ => FakeKinesisHandler.Ok(Summary("ACTIVE")),
        }));
        using var client = Client(handler);

        var summary = await DriveAsync(time, client.WaitForStreamActiveAsync("s", TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1), time), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));

        Assert.Equal("ACTIVE", summary.StreamStatus);
        Assert.Equal(4, handler.Calls);
    }

    [Fact]
    public async Task WaitForStreamActive_times_out_naming_the_last_status()
    {
        var time = new FakeTimeProvider();
        var handler = new FakeKinesisHandler((_, _, _) => Task.FromResult(FakeKinesisHandler.Ok(Summary("UPDATING"))));
        using var client = Client(handler);

        var ex = await Assert.ThrowsAsync<TimeoutException>(() =>
            DriveAsync(time, client.WaitForStreamActiveAsync("s", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), time), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1)));
        Assert.Contains("UPDATING", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'s'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitForStreamActive_does_not_swallow_other_errors()
    {
        var handler = new FakeKinesisHandler((_, _, _) => Task.FromResult(FakeKinesisHandler.Error("AccessDeniedException")));
        using var client = Client(handler);
        await Assert.ThrowsAsync<AccessDeniedException>(() => client.WaitForStreamActiveAsync("s"));
    }
}
