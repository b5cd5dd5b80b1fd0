using Cloud.Testing.Kinesis;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Cloud.EventSourceMapping.Tests;

/// <summary>One record as the function saw it in the event.</summary>
public sealed record SeenRecord(string ShardId, string SequenceNumber, string PartitionKey, string Data, decimal ArrivalSeconds);

/// <summary>One invoke as the function saw it.</summary>
public sealed record Invocation(int Number, IReadOnlyList<SeenRecord> Records, string? WindowStart, string? WindowEnd, string? State,
    bool IsFinal, bool TerminatedEarly, string? ShardId, string Json);

/// <summary>A function that parses each event, records it, and answers with what the test's behaviour returns.</summary>
public sealed class TestFunction
{
    private readonly ConcurrentQueue<Invocation> _invocations = new();
    private int _count;

    /// <summary>Returns the response JSON (null = empty body) or throws to fail the invoke.</summary>
    public Func<Invocation, string?> Behaviour { get; set; } = _ => null;

    public IReadOnlyList<Invocation> Invocations => [.. _invocations];

    /// <summary>Records of successful-looking invokes are not tracked here: tests decide from Behaviour.</summary>
    public IReadOnlyList<SeenRecord> AllSeen => [.. _invocations.SelectMany(i => i.Records)];

    public async Task<Stream> InvokeAsync(Stream input, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(input, Encoding.UTF8);
        var json = await reader.ReadToEndAsync(cancellationToken);
        var invocation = Parse(Interlocked.Increment(ref _count), json);
        _invocations.Enqueue(invocation);
        var response = Behaviour(invocation);
        return response is null ? new MemoryStream() : new MemoryStream(Encoding.UTF8.GetBytes(response));
    }

    public static Invocation Parse(int number, string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var records = new List<SeenRecord>();
        foreach (var r in root.GetProperty("Records").EnumerateArray())
        {
            var k = r.GetProperty("kinesis");
            var eventId = r.GetProperty("eventID").GetString()!;
            records.Add(new SeenRecord(eventId[..eventId.IndexOf(':', StringComparison.Ordinal)], k.GetProperty("sequenceNumber").GetString()!,
                k.GetProperty("partitionKey").GetString()!, Encoding.UTF8.GetString(k.GetProperty("data").GetBytesFromBase64()),
                k.GetProperty("approximateArrivalTimestamp").GetDecimal()));
        }
        string? start = null, end = null, state = null, shard = null;
        bool final = false, early = false;
        if (root.TryGetProperty("window", out var w))
        {
            start = w.GetProperty("start").GetString();
            end = w.GetProperty("end").GetString();
            state = root.GetProperty("state").GetRawText();
            shard = root.GetProperty("shardId").GetString();
            final = root.GetProperty("isFinalInvokeForWindow").GetBoolean();
            early = root.GetProperty("isWindowTerminatedEarly").GetBoolean();
        }
        return new Invocation(number, records, start, end, state, final, early, shard, json);
    }
}

/// <summary>Runs a mapping against fake time: advances the clock in small steps until a condition holds.</summary>
public sealed class Harness : IAsyncDisposable
{
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    public FakeKinesis Kinesis { get; }
    public TestFunction Function { get; } = new();
    public InMemoryCheckpointStore Checkpoints { get; } = new();
    public InMemoryOnFailureDestination Failures { get; } = new();
    public LocalEventSourceMapping? Mapping { get; private set; }
    public const string Stream = "orders";

    public Harness(int shards = 1)
    {
        Kinesis = new FakeKinesis(Time);
        Kinesis.CreateStream(Stream, shards);
    }

    public EventSourceMappingOptions Options(Action<EventSourceMappingOptions>? configure = null)
    {
        var options = new EventSourceMappingOptions
        {
            StreamName = Stream,
            OnFailureDestination = Failures,
            RetryDelay = TimeSpan.FromMilliseconds(100),
            ShardDiscoveryInterval = TimeSpan.FromSeconds(5),
        };
        configure?.Invoke(options);
        return options;
    }

    public async Task StartAsync(EventSourceMappingOptions options)
    {
        Mapping = new LocalEventSourceMapping(options, Kinesis, Function.InvokeAsync, Checkpoints, Time);
        await Mapping.StartAsync();
    }

    public async Task StopAsync()
    {
        if (Mapping is not null)
        {
            await Mapping.StopAsync();
            await Mapping.DisposeAsync();
            Mapping = null;
        }
    }

    /// <summary>Advances fake time by <paramref name="step"/> until <paramref name="condition"/> holds (fails after 20 s of real time).</summary>
    public async Task RunUntilAsync(Func<bool> condition, TimeSpan? step = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            if (Mapping?.Completion is { IsFaulted: true } faulted)
            {
                await faulted; // surface the runner's error
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Condition not reached: " + (what ?? "(unnamed)") + $"; invocations: {Function.Invocations.Count}");
            }
            Time.Advance(step ?? TimeSpan.FromMilliseconds(100));
            await Task.Delay(2);
        }
    }

    /// <summary>Lets the runner go on for a while of fake time (to show that nothing more happens).</summary>
    public async Task IdleAsync(TimeSpan fakeTime)
    {
        var end = Time.GetUtcNow() + fakeTime;
        while (Time.GetUtcNow() < end)
        {
            Time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(2);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
