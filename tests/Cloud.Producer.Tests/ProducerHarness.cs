using System.Text;
using Cloud.Testing.Kinesis;
using Microsoft.Extensions.Time.Testing;

namespace Cloud.Producer.Tests;

/// <summary>A producer wired to a fake client and a fake clock, with helpers that drive time.</summary>
public sealed class ProducerHarness : IAsyncDisposable
{
    public ProducerHarness(int shards = 4, Action<KinesisProducerOptions>? configure = null)
    {
        Client = new FakeKinesis(shards, time: Time);
        Options = new KinesisProducerOptions { StreamName = Client.StreamName, RandomSeed = 42 };
        configure?.Invoke(Options);
        Producer = new KinesisProducer(Client, Options, Time, Meters);
    }

    /// <summary>This harness's own meter scope, so metric assertions never see other tests' producers.</summary>
    public ScopedMeterFactory Meters { get; } = new();

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public FakeKinesis Client { get; }

    public KinesisProducerOptions Options { get; }

    public KinesisProducer Producer { get; }

    public static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>Lets the loop and in-flight requests settle (real time, bounded), without moving the fake clock.</summary>
    public async Task SettleAsync()
    {
        for (int i = 0; i < 3; i++)
        {
            await Producer.QuiesceAsync().WaitAsync(TimeSpan.FromSeconds(10));
            for (int spin = 0; spin < 2000 && (Producer.InFlightRequests > 0 || Producer.RefreshingMap); spin++)
            {
                await Task.Delay(1);
            }
        }
        await Producer.QuiesceAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>Advances the fake clock in steps until <paramref name="task"/> completes (hang guard: max steps).</summary>
    public async Task DriveAsync(Task task, TimeSpan step, int maxSteps = 100_000)
    {
        for (int i = 0; i < maxSteps && !task.IsCompleted; i++)
        {
            await SettleAsync();
            if (task.IsCompleted)
            {
                break;
            }
            Time.Advance(step);
        }
        await task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public async ValueTask DisposeAsync()
    {
        var dispose = Producer.DisposeAsync().AsTask();
        await DriveAsync(dispose, TimeSpan.FromMilliseconds(100));
        Meters.Dispose();
    }
}
