using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using Cloud.Consumer;
using Cloud.Consumer.Events;
using Cloud.Functions.Forget;
using Microsoft.Extensions.Logging;
using Cloud.Privacy.Streaming;

namespace Cloud.Privacy.Tests;

/// <summary>
/// Issue 11, gap 1: a run with personal data — encryption, the consumer with its decrypting transform (including failing
/// records), a forget through the Forget function, writes and reads after the forget — while every metric of every meter
/// and every log line (message, structured values, exceptions) is captured. Nothing captured may hold a user id or a
/// personal value; the same scan over the input finds all of them (positive control).
/// </summary>
public class TelemetryScanTests
{
    private const string Stream = "clicks";
    private static readonly string[] UserIds = ["alice-7731", "bob-5512", "carol-0042"];

    private static string Event(string user, int n) =>
        $$"""{"userId":"{{user}}","n":{{n}},"page":"/p/{{n}}","email":"{{user}}.mail{{n}}@example.org","name":"Name of {{user}}","ip":"172.16.{{n}}.9"}""";

    private static IEnumerable<string> PersonalValues(string user, int n) =>
        [user, $"{user}.mail{n}@example.org", $"Name of {user}", $"172.16.{n}.9"];

    [Fact]
    public async Task No_metric_tag_log_line_or_exception_message_carries_a_user_id_or_personal_value()
    {
        var captured = new ConcurrentQueue<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) => l.EnableMeasurementEvents(instrument);
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => captured.Enqueue(Describe(i, v, tags)));
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => captured.Enqueue(Describe(i, v, tags)));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => captured.Enqueue(Describe(i, v, tags)));
        listener.Start();
        var logs = new CapturingLoggerFactory(captured);

        using var producerSide = PrivacyRuntime.Create(new PrivacyOptions(), new InMemoryKeyStore(), new LocalMasterKeyProvider(RandomNumberGenerator.GetBytes(32)), loggerFactory: logs);
        var sharedStore = (InMemoryKeyStore)producerSide.KeyStore;
        using var consumerSide = PrivacyRuntime.Create(new PrivacyOptions(), sharedStore, producerSide.MasterKey, loggerFactory: logs);

        var input = new StringBuilder();
        var values = new HashSet<string>(StringComparer.Ordinal);
        void Input(string user, int n)
        {
            input.AppendLine(Event(user, n));
            values.UnionWith(PersonalValues(user, n));
        }

        var records = new List<KinesisEventRecord>();
        for (int n = 0; n < 4; n++)
        {
            foreach (var user in UserIds)
            {
                var json = Event(user, n);
                Input(user, n);
                var enc = await producerSide.Protector.EncryptAsync(Encoding.UTF8.GetBytes(json), Stream);
                records.Add(Record(records.Count, user, enc.Json.ToArray()));
            }
        }

        // Failing records: a ciphertext moved to another user (tampered) and one of a user without any key.
        var moved = Encoding.UTF8.GetString(Convert.FromBase64String(records[0].Kinesis.Data)).Replace("alice-7731", "bob-5512", StringComparison.Ordinal);
        records.Add(Record(records.Count, "bob-5512", Encoding.UTF8.GetBytes(moved)));
        var stranger = Encoding.UTF8.GetString(Convert.FromBase64String(records[0].Kinesis.Data)).Replace("alice-7731", "dave-9090", StringComparison.Ordinal);
        records.Add(Record(records.Count, "dave-9090", Encoding.UTF8.GetBytes(stranger)));
        Input("dave-9090", 0);

        var processor = new KinesisBatchProcessor(new KinesisBatchProcessorOptions { Transforms = [new DecryptingTransform(consumerSide.Protector)] },
            logs.CreateLogger<KinesisBatchProcessor>());
        var first = await processor.ProcessAsync(new KinesisEvent { Records = records }, (_, _) => ValueTask.CompletedTask);
        Assert.Equal(2, first.Failures.Count(f => f.Stage == RecordFailureStage.Transform));

        // Forget through the Forget function (logs one JSON line per request), then read again and try to write.
        var forgetLog = new StringWriter();
        var function = new ForgetFunction(consumerSide.Shredder, forgetLog);
        var request = Encoding.UTF8.GetBytes("""{"userId":"alice-7731"}""");
        var evt = $$"""{"Records":[{"kinesis":{"sequenceNumber":"1","partitionKey":"p","data":"{{Convert.ToBase64String(request)}}"},"eventID":"e"}]}""";
        await function.HandleAsync(new MemoryStream(Encoding.UTF8.GetBytes(evt)), default);
        producerSide.Cache.Clear();
        var second = await processor.ProcessAsync(new KinesisEvent { Records = records }, (_, _) => ValueTask.CompletedTask);
        Assert.Equal(2, second.Failures.Count(f => f.Stage == RecordFailureStage.Transform));
        var refused = await Assert.ThrowsAsync<UserForgottenException>(() => producerSide.Protector.EncryptAsync(Encoding.UTF8.GetBytes(Event("alice-7731", 9)), Stream).AsTask());
        captured.Enqueue(refused.ToString());
        Input("alice-7731", 9);

        listener.RecordObservableInstruments();
        captured.Enqueue(forgetLog.ToString());
        var telemetry = string.Join("\n", captured);
        Assert.Contains("KeyDestroyed", telemetry, StringComparison.Ordinal);
        Assert.Contains("tamper", telemetry, StringComparison.OrdinalIgnoreCase);

        // Positive control: the scan finds every user id and personal value in the input.
        Assert.Equal(values.Count, Leaks(input.ToString(), values).Count);
        Assert.Contains("carol-0042.mail3@example.org", values);
        Assert.Empty(Leaks(telemetry, values));
    }

    private static List<string> Leaks(string text, IEnumerable<string> values) =>
        values.Where(v => text.Contains(v, StringComparison.Ordinal)).ToList();

    private static string Describe<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var sb = new StringBuilder().Append(instrument.Meter.Name).Append('/').Append(instrument.Name).Append('=').Append(value);
        foreach (var tag in tags)
        {
            sb.Append(' ').Append(tag.Key).Append('=').Append(tag.Value);
        }

        return sb.ToString();
    }

    private static KinesisEventRecord Record(int i, string partitionKey, byte[] data) => new()
    {
        Kinesis = new KinesisRecordData
        {
            PartitionKey = partitionKey,
            SequenceNumber = "4959033827149025660855969253836157109592157598913658" + i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture),
            Data = Convert.ToBase64String(data),
            KinesisSchemaVersion = "1.0",
        },
        EventSource = "aws:kinesis",
        EventSourceArn = "arn:aws:kinesis:us-east-1:000000000000:stream/" + Stream,
        EventId = "shardId-000000000000:" + i,
    };

    /// <summary>Captures every log line: the formatted message, each structured value, and the exception with its stack.</summary>
    private sealed class CapturingLoggerFactory(ConcurrentQueue<string> sink) : ILoggerFactory
    {
        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => new Logger(sink, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> sink, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
                sink.Enqueue($"{category} {logLevel}: {formatter(state, exception)} [{values}] {exception}");
            }
        }
    }
}
