using System.Diagnostics;
using Cloud.DataGenerator;
using Cloud.Privacy;
using Cloud.Producer;

namespace Cloud.Cli.Commands.Pipeline;

/// <summary>Generator → field encryption → producer, at the chosen rate, until cancelled.</summary>
internal static class LoadGenerator
{
    /// <summary>Produces until <paramref name="ct"/> is cancelled, then waits for every send it started.</summary>
    public static async Task ProduceAsync(KinesisProducer producer, PrivacyRuntime privacy, GeneratorOptions options, PipelineSettings settings, PipelineCounters state, string demoUser, CancellationToken ct)
    {
        await Task.Yield();
        var generator = new EventGenerator(options);
        var clock = Stopwatch.StartNew();
        var pending = new List<Task>();
        long i = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var due = TimeSpan.FromSeconds(i / settings.Rate);
                if (due > clock.Elapsed)
                {
                    await Task.Delay(due - clock.Elapsed, ct).ConfigureAwait(false);
                }

                var e = generator.Next();
                i++;
                ProtectResult protectedData;
                try
                {
                    protectedData = await privacy.Protector.EncryptAsync(e.Json, settings.Stream, ct).ConfigureAwait(false);
                }
                catch (UserForgottenException)
                {
                    Interlocked.Increment(ref state.Refused);
                    continue;
                }

                // The pseudonym is the partition key: each user's records stay in order on one shard while their key lives.
                var send = producer.SendAsync(state.Schema is null ? protectedData.Json : state.Schema.Encode(protectedData.Json), partitionKey: protectedData.UserId, cancellationToken: CancellationToken.None);
                Interlocked.Increment(ref state.Sent);
                pending.Add(Track(send, state, e.UserId == demoUser));
                if (pending.Count > 10_000)
                {
                    pending.RemoveAll(t => t.IsCompleted);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
    }

    private static async Task Track(ValueTask<SendResult> send, PipelineCounters state, bool isDemoUser)
    {
        try
        {
            var result = await send.ConfigureAwait(false);
            Interlocked.Increment(ref state.Durable);
            state.PerShard.AddOrUpdate(result.ShardId, 1, (_, n) => n + 1);
            if (isDemoUser)
            {
                state.DemoPosition = (result.ShardId, result.SequenceNumber, result.SubSequenceNumber ?? 0);
            }
        }
        catch (RecordDeliveryException)
        {
            // Counted by the producer's failure handler.
        }
    }
}
