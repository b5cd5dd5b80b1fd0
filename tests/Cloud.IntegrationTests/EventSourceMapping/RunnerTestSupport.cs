using System.Collections.Concurrent;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.EventSourceMapping;
using Cloud.Kinesis;
using Cloud.Testing;

namespace Cloud.IntegrationTests.EventSourceMapping;

/// <summary>A record as a handler saw it.</summary>
public sealed record HandledRecord(string ShardId, string SequenceNumber, string PartitionKey, string Data, int Run);

/// <summary>Streams, clients and a recording handler for runner tests against kinesis-local + dynalite.</summary>
public sealed class RunnerTestSupport : IDisposable
{
    private readonly EmulatorFixture _fixture;

    public RunnerTestSupport(EmulatorFixture fixture)
    {
        _fixture = fixture;
        Kinesis = fixture.CreateKinesisClient();
        Dynamo = fixture.CreateDynamoDbClient();
    }

    public AmazonKinesisClient Kinesis { get; }

    public Amazon.DynamoDBv2.IAmazonDynamoDB Dynamo { get; }

    public ConcurrentQueue<HandledRecord> Handled { get; } = new();

    /// <summary>Which runner (1st, 2nd, ...) is handling; tagged onto each handled record.</summary>
    public int Run { get; set; } = 1;

    public async Task<string> CreateStreamAsync(string prefix, int shards)
    {
        var name = EmulatorFixture.UniqueName(prefix);
        await Kinesis.CreateStreamAsync(new CreateStreamRequest { StreamName = name, ShardCount = shards });
        await Kinesis.WaitForStreamActiveAsync(name);
        return name;
    }

    public EventSourceMappingOptions Options(string stream, Action<EventSourceMappingOptions>? configure = null)
    {
        var options = new EventSourceMappingOptions
        {
            StreamName = stream,
            PollInterval = TimeSpan.FromMilliseconds(200),
            RetryDelay = TimeSpan.FromMilliseconds(50),
            ShardDiscoveryInterval = TimeSpan.FromSeconds(1),
            CheckpointTableName = EmulatorFixture.UniqueName("esm-cp"),
        };
        configure?.Invoke(options);
        return options;
    }

    public DynamoDbCheckpointStore Store(EventSourceMappingOptions options) => new(Dynamo, options.CheckpointTableName);

    /// <summary>Records every record of each event, then answers with <paramref name="respond"/> (null = empty body).</summary>
    public Func<Stream, CancellationToken, Task<Stream>> Recorder(Func<JsonElement, string?>? respond = null) => async (input, ct) =>
    {
        using var doc = await JsonDocument.ParseAsync(input, cancellationToken: ct);
        var response = respond?.Invoke(doc.RootElement);
        foreach (var r in doc.RootElement.GetProperty("Records").EnumerateArray())
        {
            var k = r.GetProperty("kinesis");
            var eventId = r.GetProperty("eventID").GetString()!;
            Handled.Enqueue(new HandledRecord(eventId[..eventId.IndexOf(':', StringComparison.Ordinal)], k.GetProperty("sequenceNumber").GetString()!,
                k.GetProperty("partitionKey").GetString()!, Encoding.UTF8.GetString(k.GetProperty("data").GetBytesFromBase64()), Run));
        }
        return response is null ? new MemoryStream() : new MemoryStream(Encoding.UTF8.GetBytes(response));
    };

    /// <summary>Records written so far: key, counter, PutRecords call number, sequence number.</summary>
    public List<(string Key, int N, int Call, BigInteger Seq)> Written { get; } = [];

    private int _calls;

    /// <summary>Writes records "key:n" (n counting up per key, keys interleaved) in PutRecords calls of up to 500.</summary>
    public async Task PutCountersAsync(string stream, int keys, int perKey, int startAt = 0)
    {
        var all = new List<(string Key, int N)>();
        for (var n = startAt; n < startAt + perKey; n++)
        {
            all.AddRange(Enumerable.Range(0, keys).Select(k => ($"key-{k}", n)));
        }
        foreach (var chunk in all.Chunk(500))
        {
            var response = await Kinesis.PutRecordsAsync(new PutRecordsRequest
            {
                StreamName = stream,
                Records = [.. chunk.Select(c => new PutRecordsRequestEntry { PartitionKey = c.Key, Data = new MemoryStream(Encoding.UTF8.GetBytes($"{c.Key}:{c.N}")) })],
            });
            Assert.Equal(0, response.FailedRecordCount);
            var call = ++_calls;
            Written.AddRange(chunk.Select((c, i) => (c.Key, c.N, call, BigInteger.Parse(response.Records[i].SequenceNumber!, System.Globalization.CultureInfo.InvariantCulture))));
        }
    }

    /// <summary>Per key, the counters in the order Kinesis stored them (call order, then sequence number).</summary>
    public Dictionary<string, List<int>> ExpectedOrderByKey() =>
        Written.GroupBy(w => w.Key).ToDictionary(g => g.Key, g => g.OrderBy(w => w.Call).ThenBy(w => w.Seq).Select(w => w.N).ToList());

    /// <summary>Splits the stream's first open shard in the middle of its hash range.</summary>
    public async Task<string> SplitFirstOpenShardAsync(string stream)
    {
        var shards = await Kinesis.ListAllShardsAsync(stream);
        var open = shards.First(s => s.SequenceNumberRange.EndingSequenceNumber is null);
        var start = BigInteger.Parse(open.HashKeyRange.StartingHashKey, System.Globalization.CultureInfo.InvariantCulture);
        var end = BigInteger.Parse(open.HashKeyRange.EndingHashKey, System.Globalization.CultureInfo.InvariantCulture);
        await Kinesis.SplitShardAsync(new SplitShardRequest { StreamName = stream, ShardToSplit = open.ShardId, NewStartingHashKey = ((start + end) / 2).ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await Kinesis.WaitForStreamActiveAsync(stream);
        return open.ShardId;
    }

    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what, LocalEventSourceMapping? mapping = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (mapping?.Completion is { IsFaulted: true } faulted)
            {
                await faulted;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not reached within {timeout}: {what}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Polls an asynchronous condition (e.g. a table read) until it holds; fails early when the mapping faulted.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<LocalEventSourceMapping?>? mapping = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (mapping?.Invoke()?.Completion is { IsFaulted: true } faulted)
            {
                await faulted;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not reached within {timeout}: {what}");
            }
            await Task.Delay(250);
        }
    }

    /// <summary>Every record of every shard from TRIM_HORIZON to the current tip, read directly (independently of any runner).</summary>
    public async Task<List<(string ShardId, StreamRecord Record)>> ReadAllAsync(string stream)
    {
        var result = new List<(string, StreamRecord)>();
        foreach (var shard in await Kinesis.ListAllShardsAsync(stream))
        {
            var iterator = (await Kinesis.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = stream, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.TRIM_HORIZON })).ShardIterator;
            while (iterator is not null)
            {
                var page = await Kinesis.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 1000 });
                var records = page.Records ?? [];
                result.AddRange(records.Select(r => (shard.ShardId, StreamRecord.From(r))));
                if (records.Count == 0 && page.MillisBehindLatest is 0 or null)
                {
                    break;
                }
                iterator = page.NextShardIterator;
            }
        }
        return result;
    }

    /// <summary>Per key, the counters in the order they were handled.</summary>
    public Dictionary<string, List<int>> CountersByKey(int? run = null) =>
        Handled.Where(h => run is null || h.Run == run)
            .GroupBy(h => h.PartitionKey)
            .ToDictionary(g => g.Key, g => g.Select(h => int.Parse(h.Data[(h.Data.IndexOf(':', StringComparison.Ordinal) + 1)..], System.Globalization.CultureInfo.InvariantCulture)).ToList());

    public void Dispose()
    {
        Kinesis.Dispose();
        Dynamo.Dispose();
    }
}
