using System.Net;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Amazon.Runtime;
using Microsoft.Extensions.Time.Testing;

namespace Cloud.Kinesis.Tests;

/// <summary>WaitForStreamActiveAsync on a fake clock: polls through "not found" and CREATING, times out naming the last status.</summary>
public sealed class WaitForStreamActiveTests
{
    [Fact]
    public async Task Polls_through_not_found_and_creating()
    {
        var time = new FakeTimeProvider();
        using var client = new ScriptedSummaries(i => i switch
        {
            0 => throw new ResourceNotFoundException("not yet") { ErrorCode = "ResourceNotFoundException", StatusCode = HttpStatusCode.BadRequest },
            1 or 2 => StreamStatus.CREATING,
            _ => StreamStatus.ACTIVE,
        });

        var summary = await DriveAsync(time, client.WaitForStreamActiveAsync("s", TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1), time), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));

        Assert.Equal(StreamStatus.ACTIVE, summary.StreamStatus);
        Assert.Equal(4, client.Calls);
    }

    [Fact]
    public async Task Times_out_naming_the_stream_and_the_last_status()
    {
        var time = new FakeTimeProvider();
        using var client = new ScriptedSummaries(_ => StreamStatus.UPDATING);

        var ex = await Assert.ThrowsAsync<TimeoutException>(() =>
            DriveAsync(time, client.WaitForStreamActiveAsync("s", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), time), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1)));

        Assert.Contains("UPDATING", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'s'", ex.Message, StringComparison.Ordinal);
        Assert.InRange(client.Calls, 4, 6);
    }

    [Fact]
    public async Task Does_not_swallow_other_errors()
    {
        using var client = new ScriptedSummaries(_ => throw new AmazonKinesisException("no") { ErrorCode = "AccessDeniedException", StatusCode = HttpStatusCode.BadRequest });

        var ex = await Assert.ThrowsAsync<AmazonKinesisException>(() => client.WaitForStreamActiveAsync("s"));

        Assert.True(KinesisErrors.Classify(ex).IsPermanent);
        Assert.Equal(1, client.Calls);
    }

    [Fact]
    public async Task Honours_cancellation()
    {
        var time = new FakeTimeProvider();
        using var client = new ScriptedSummaries(_ => StreamStatus.CREATING);
        using var cts = new CancellationTokenSource();

        var waiting = client.WaitForStreamActiveAsync("s", TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1), time, cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    /// <summary>Advances a fake clock in small steps until the task finishes (each step lets continuations run).</summary>
    private static async Task<T> DriveAsync<T>(FakeTimeProvider time, Task<T> task, TimeSpan step, TimeSpan limit)
    {
        var advanced = TimeSpan.Zero;
        while (!task.IsCompleted && advanced < limit)
        {
            await Task.Delay(5);
            time.Advance(step);
            advanced += step;
        }

        return await task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>AWS's client with DescribeStreamSummary answered by a script (call index → status, or a throw).</summary>
    private sealed class ScriptedSummaries(Func<int, StreamStatus> script)
        : AmazonKinesisClient(new BasicAWSCredentials("test", "test"), new AmazonKinesisConfig { ServiceURL = "http://127.0.0.1:9", AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 })
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public override Task<DescribeStreamSummaryResponse> DescribeStreamSummaryAsync(DescribeStreamSummaryRequest request, CancellationToken cancellationToken = default)
        {
            var status = script(Interlocked.Increment(ref _calls) - 1);
            return Task.FromResult(new DescribeStreamSummaryResponse
            {
                StreamDescriptionSummary = new StreamDescriptionSummary { StreamName = request.StreamName, StreamStatus = status, OpenShardCount = 1 },
            });
        }
    }
}
