using System.Text;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Emulators.Faults;
using Cloud.Kinesis;
using Cloud.Testing;
using static Cloud.IntegrationTests.Kinesis.KinesisTestSupport;

namespace Cloud.IntegrationTests.Harness;

/// <summary>
/// The fault-injecting proxy in front of kinesis-local with AWS's own client: each fault reaches the SDK as what real
/// Kinesis would send, and the SDK's exception or result entry classifies as the project's vocabulary says.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class FaultProxySdkTests(EmulatorFixture fixture) : IAsyncLifetime
{
    private readonly AmazonKinesisClient _direct = CreateClient(fixture);
    private readonly string _stream = EmulatorFixture.UniqueName("proxy");

    public async Task InitializeAsync() => await CreateActiveStreamAsync(_direct, _stream, shards: 2);

    public async Task DisposeAsync()
    {
        await DeleteQuietlyAsync(_direct, _stream);
        _direct.Dispose();
    }

    [Fact]
    public async Task Without_faults_the_proxy_is_transparent()
    {
        await using var proxy = FaultInjectingProxy.Start(fixture.KinesisEndpoint, new FaultOptions());
        using var client = ThroughProxy(proxy);

        var put = await client.PutRecordsAsync(Batch(20));
        var shards = await client.ListAllShardsAsync(_stream);
        var summary = await client.WaitForStreamActiveAsync(_stream);

        Assert.Equal(0, put.FailedRecordCount);
        Assert.Equal(2, shards.Count);
        Assert.Equal(StreamStatus.ACTIVE, summary.StreamStatus);
        Assert.Equal(3, proxy.Counters.Requests);
    }

    [Fact]
    public async Task Failed_entries_carry_throttling_and_internal_failure_codes()
    {
        await using var proxy = FaultInjectingProxy.Start(fixture.KinesisEndpoint, new FaultOptions { Seed = 7, ThrottleRecordRate = 0.3, InternalFailureRecordRate = 0.2 });
        using var client = ThroughProxy(proxy);

        var put = await client.PutRecordsAsync(Batch(200));

        var failed = put.Records.Where(r => r.ErrorCode is not null).ToList();
        Assert.Equal(failed.Count, put.FailedRecordCount);
        Assert.Equal(proxy.Counters.ThrottledRecords + proxy.Counters.InternalFailureRecords, failed.Count);
        Assert.Contains(failed, r => KinesisErrors.Classify(r.ErrorCode).IsThrottling);
        Assert.Contains(failed, r => KinesisErrors.Classify(r.ErrorCode) is { Kind: KinesisErrorKind.Retryable, Cause: KinesisErrorCause.ServiceFault });
        Assert.All(put.Records.Where(r => r.ErrorCode is null), r => Assert.StartsWith("shardId-", r.ShardId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_500_is_a_retryable_service_fault_and_the_sdk_retries_it_when_allowed()
    {
        await using var proxy = FaultInjectingProxy.Start(fixture.KinesisEndpoint, new FaultOptions { ServerErrorRate = 1.0 });
        using (var noRetries = ThroughProxy(proxy))
        {
            var ex = await Assert.ThrowsAnyAsync<AmazonKinesisException>(() => noRetries.PutRecordsAsync(Batch(1)));
            Assert.Equal((KinesisErrorKind.Retryable, KinesisErrorCause.ServiceFault), (KinesisErrors.Classify(ex).Kind, KinesisErrors.Classify(ex).Cause));
            Assert.Equal(1, proxy.Counters.ServerErrors);
        }

        using var twoRetries = ThroughProxy(proxy, retries: 2);
        await Assert.ThrowsAnyAsync<AmazonKinesisException>(() => twoRetries.PutRecordsAsync(Batch(1)));
        Assert.Equal(4, proxy.Counters.ServerErrors); // 1 + (1 attempt + 2 SDK retries)
    }

    [Fact]
    public async Task A_dropped_connection_breaks_the_answer_and_is_retryable()
    {
        await using var proxy = FaultInjectingProxy.Start(fixture.KinesisEndpoint, new FaultOptions { DropBeforeForwardRate = 1.0 });
        using var client = ThroughProxy(proxy);

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => client.PutRecordsAsync(Batch(1)));

        // The connection really broke mid-answer (not an empty 200), and the project's vocabulary retries it.
        Assert.Contains(Chain(ex), e => e is IOException or HttpRequestException);
        Assert.Equal(KinesisErrorKind.Retryable, KinesisErrors.Classify(ex).Kind);
        // One call, one request: MaxErrorRetry = 0 alone let the SDK's retry handler send 11 (SingleAttemptKinesisClient).
        Assert.Equal(1, proxy.Counters.Requests);
        Assert.Equal(1, proxy.Counters.DroppedBeforeForward);
    }

    [Fact]
    public async Task A_connection_dropped_after_the_write_records_what_was_stored_but_not_answered()
    {
        await using var proxy = FaultInjectingProxy.Start(fixture.KinesisEndpoint, new FaultOptions { DropAfterForwardRate = 1.0 });
        using var client = ThroughProxy(proxy);

        await Assert.ThrowsAnyAsync<Exception>(() => client.PutRecordsAsync(Batch(5)));

        Assert.Equal(1, proxy.Counters.AnswersLost);
        Assert.Equal(5, proxy.Counters.LostAnswerRecords);
        var lost = proxy.LostAnswerRecords.ToList();
        Assert.Equal(5, lost.Select(l => l.SequenceNumber).Distinct().Count());
        // The writes really happened: each recorded sequence number is in the stream.
        foreach (var record in lost)
        {
            var iterator = (await _direct.GetShardIteratorAsync(new GetShardIteratorRequest
            {
                StreamName = _stream, ShardId = record.ShardId, ShardIteratorType = ShardIteratorType.AT_SEQUENCE_NUMBER, StartingSequenceNumber = record.SequenceNumber,
            })).ShardIterator;
            var page = await _direct.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 1 });
            Assert.Equal(record.SequenceNumber, Assert.Single(page.Records).SequenceNumber);
        }
    }

    [Fact]
    public async Task A_slow_answer_past_the_http_timeout_is_a_retryable_timeout()
    {
        await using var proxy = FaultInjectingProxy.Start(fixture.KinesisEndpoint, new FaultOptions { SlowRate = 1.0, SlowDelay = TimeSpan.FromSeconds(3) });
        using var client = ThroughProxy(proxy, timeout: TimeSpan.FromMilliseconds(500));

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => client.PutRecordsAsync(Batch(1)));

        var error = KinesisErrors.Classify(ex);
        Assert.True((KinesisErrorKind.Retryable, KinesisErrorCause.Timeout) == (error.Kind, error.Cause), $"{error} from {ex}");
    }

    private static IEnumerable<Exception> Chain(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }

    private AmazonKinesisClient ThroughProxy(FaultInjectingProxy proxy, int retries = 0, TimeSpan? timeout = null) => KinesisClientFactory.Create(new KinesisConnectionOptions
    {
        ServiceUrl = proxy.Endpoint,
        Region = fixture.Region,
        Credentials = fixture.Credentials,
        MaxErrorRetry = retries,
        Timeout = timeout,
    });

    private PutRecordsRequest Batch(int count) => new()
    {
        StreamName = _stream,
        Records = [.. Enumerable.Range(0, count).Select(i => new PutRecordsRequestEntry { PartitionKey = $"k-{i}", Data = Bytes(Encoding.UTF8.GetBytes($"r{i}")) })],
    };
}
