using System.CommandLine;
using Amazon.Kinesis;
using Cloud.Cli.Infrastructure;
using Cloud.EventSourceMapping;
using Cloud.Privacy;
using Cloud.Records;

namespace Cloud.Cli.Commands;

/// <summary>
/// <c>cloud consume STREAM --efo CONSUMER</c>: the same output as <see cref="ConsumeCommand"/>, read through an
/// enhanced fan-out consumer (registered when missing) with SubscribeToShard, resubscribing every 5 minutes and
/// following child shards after their parents (<see cref="EnhancedFanOutStreamReader"/>).
/// </summary>
internal static class ConsumeEfo
{
    /// <summary>What the consume verb passes on.</summary>
    internal sealed record Request(string Stream, string Consumer, StartingPosition Start, DateTimeOffset? Timestamp, long Limit, bool Follow, TimeSpan Idle, string UserField, bool NoDecrypt);

    public static async Task<(long Emitted, int Bad)> RunAsync(CliConsole console, ParseResult parse, CloudConnection connection, IAmazonKinesis kinesis, Request request, CancellationToken ct)
    {
        var reader = new EnhancedFanOutStreamReader(kinesis, new EnhancedFanOutStreamReaderOptions
        {
            StreamName = request.Stream,
            ConsumerName = request.Consumer,
            StartingPosition = request.Start,
            StartingPositionTimestamp = request.Timestamp,
        });
        // Without --follow, stop once nothing arrived for the idle timeout (registering a consumer takes a moment).
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (!request.Follow)
        {
            idle.CancelAfter(request.Idle + TimeSpan.FromSeconds(5));
        }

        PrivacyRuntime? privacy = null;
        long emitted = 0;
        var bad = 0;
        var decoded = new List<UserRecord>();
        try
        {
            await foreach (var e in reader.ReadAsync(idle.Token).ConfigureAwait(false))
            {
                if (e.Records.Count > 0 && !request.Follow)
                {
                    idle.CancelAfter(request.Idle);
                }

                foreach (var record in e.Records)
                {
                    decoded.Clear();
                    try
                    {
                        RecordDecoder.Default.Decode(record.Data, record.PartitionKey, record.SequenceNumber, null, decoded);
                    }
                    catch (RecordFormatException ex)
                    {
                        bad++;
                        console.WriteError($"{e.ShardId} record {record.SequenceNumber}: {ex.Message}");
                        continue;
                    }

                    foreach (var user in decoded)
                    {
                        var data = user.Data;
                        if (!request.NoDecrypt && FieldCiphertext.ContainsCiphertext(data.Span))
                        {
                            privacy ??= await PrivacyFactory.CreateAsync(parse, connection, request.UserField, null, ct).ConfigureAwait(false);
                            try
                            {
                                data = (await privacy.Protector.DecryptAsync(data, request.Stream, ct).ConfigureAwait(false)).Json;
                            }
                            catch (PrivacyException ex)
                            {
                                bad++;
                                console.WriteError($"{e.ShardId} record {user.SequenceNumber}/{user.SubSequenceNumber}: {ex.Message}; printed encrypted.");
                            }
                        }

                        RecordsCommand.WriteUserRecord(console, new UserRecord(user.PartitionKey, user.ExplicitHashKey, data, user.SequenceNumber, user.SubSequenceNumber, user.IsAggregated), e.ShardId);
                        if (++emitted >= request.Limit)
                        {
                            return (emitted, bad);
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            // Idle for the timeout: done.
        }
        finally
        {
            privacy?.Dispose();
        }

        return (emitted, bad);
    }
}
