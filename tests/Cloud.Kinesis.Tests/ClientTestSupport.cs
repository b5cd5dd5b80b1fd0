using Amazon.Runtime;
using Microsoft.Extensions.Time.Testing;

namespace Cloud.Kinesis.Tests;

internal static class ClientTestSupport
{
    public static readonly Uri Endpoint = new("http://127.0.0.1:4567/");

    public static KinesisClient Client(HttpMessageHandler handler, Action<KinesisClientOptions>? configure = null)
    {
        var options = new KinesisClientOptions
        {
            ServiceUrl = Endpoint,
            Region = "us-east-1",
            Credentials = new BasicAWSCredentials("test", "test"),
            HttpMessageHandler = handler,
            BaseDelay = TimeSpan.Zero,
            MaxDelay = TimeSpan.Zero,
        };
        configure?.Invoke(options);
        return new KinesisClient(options);
    }

    /// <summary>Advances a fake clock in small steps until the task finishes (each step lets continuations run).</summary>
    public static async Task<T> DriveAsync<T>(FakeTimeProvider time, Task<T> task, TimeSpan step, TimeSpan limit)
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
}
