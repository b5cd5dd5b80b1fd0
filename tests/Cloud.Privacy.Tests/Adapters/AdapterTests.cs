using System.Security.Cryptography;
using System.Text;
using Cloud.Consumer;
using Cloud.Consumer.Events;
using Cloud.Producer;
using Cloud.Privacy.Streaming;

namespace Cloud.Privacy.Tests.Adapters;

public class EncryptingProducerTests
{
    private const string Json = """{"userId":"u-1","email":"ada@example.com","page":"/"}""";

    [Fact]
    public async Task Encrypts_before_the_producer_sees_the_record_and_keys_by_user_id()
    {
        using var rt = Runtime(ForgottenUserPolicy.Reject);
        var inner = new CapturingProducer();
        await using var producer = new EncryptingProducer(inner, rt.Protector, "clicks");
        var result = await producer.SendAsync(Encoding.UTF8.GetBytes(Json));

        Assert.Equal(ProtectStatus.Encrypted, result.Protection);
        Assert.Equal("shardId-000000000000", result.Send!.Value.ShardId);
        var (data, key) = Assert.Single(inner.Sent);
        Assert.Equal("u-1", key);
        Assert.DoesNotContain("ada@example.com", Encoding.UTF8.GetString(data), StringComparison.Ordinal);
        Assert.Equal(Json, Encoding.UTF8.GetString((await rt.Protector.DecryptAsync(data, "clicks")).Json.Span));

        await producer.SendAsync(Encoding.UTF8.GetBytes(Json), partitionKey: "explicit");
        Assert.Equal("explicit", inner.Sent[1].Key);
    }

    [Fact]
    public async Task Forgotten_user_is_rejected_or_dropped_and_nothing_reaches_the_stream()
    {
        using var reject = Runtime(ForgottenUserPolicy.Reject);
        await reject.Shredder.ForgetAsync("u-1");
        var inner = new CapturingProducer();
        await using var p1 = new EncryptingProducer(inner, reject.Protector, "clicks");
        await Assert.ThrowsAsync<UserForgottenException>(() => p1.SendAsync(Encoding.UTF8.GetBytes(Json)).AsTask());

        using var drop = Runtime(ForgottenUserPolicy.Drop);
        await drop.Shredder.ForgetAsync("u-1");
        await using var p2 = new EncryptingProducer(inner, drop.Protector, "clicks", ownsInner: false);
        var r = await p2.SendAsync(Encoding.UTF8.GetBytes(Json));
        Assert.Equal(ProtectStatus.Dropped, r.Protection);
        Assert.Null(r.Send);
        Assert.Null(await p2.EnqueueAsync(Encoding.UTF8.GetBytes(Json)));
        Assert.Empty(inner.Sent);
    }

    [Fact]
    public async Task As_a_producer_transform_it_encrypts_and_a_dropped_forgotten_user_reaches_nothing()
    {
        using var rt = Runtime(ForgottenUserPolicy.Drop);
        var inner = new CapturingProducer();
        await using var producer = new TransformingProducer(inner, [new EncryptingTransform(rt.Protector, "clicks")]);
        await producer.SendAsync(Encoding.UTF8.GetBytes(Json));
        var (data, key) = Assert.Single(inner.Sent);
        Assert.Equal("u-1", key);
        Assert.Equal(Json, Encoding.UTF8.GetString((await rt.Protector.DecryptAsync(data, "clicks")).Json.Span));

        await rt.Shredder.ForgetAsync("u-1");
        Assert.Null(await producer.TrySendAsync(Encoding.UTF8.GetBytes(Json)));
        var ex = await Assert.ThrowsAsync<RecordDroppedException>(() => producer.SendAsync(Encoding.UTF8.GetBytes(Json)).AsTask());
        Assert.Equal(nameof(EncryptingTransform), ex.Transform);
        Assert.Single(inner.Sent);
    }

    internal static PrivacyRuntime Runtime(ForgottenUserPolicy policy) =>
        PrivacyRuntime.Create(new PrivacyOptions { PersonalData = new PersonalDataOptions { ForgottenUserPolicy = policy } },
            new InMemoryKeyStore(), new LocalMasterKeyProvider(RandomNumberGenerator.GetBytes(32)));

    private sealed class CapturingProducer : IKinesisProducer
    {
        public List<(byte[] Data, string? Key)> Sent { get; } = [];

        public int BufferedRecords => 0;

        public ValueTask<SendResult> SendAsync(ReadOnlyMemory<byte> data, string? partitionKey = null, string? explicitHashKey = null, CancellationToken cancellationToken = default)
        {
            Sent.Add((data.ToArray(), partitionKey));
            return ValueTask.FromResult(new SendResult("shardId-000000000000", Sent.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), null, 1));
        }

        public async ValueTask<Task<SendResult>> EnqueueAsync(ReadOnlyMemory<byte> data, string? partitionKey = null, string? explicitHashKey = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(await SendAsync(data, partitionKey, explicitHashKey, cancellationToken));

        public Task FlushAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

public class DecryptingTransformTests
{
    private const string Arn = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks";

    private static KinesisEventRecord Parent(string seq, string partitionKey, byte[] data) => new()
    {
        Kinesis = new KinesisRecordData { PartitionKey = partitionKey, SequenceNumber = seq, Data = Convert.ToBase64String(data), KinesisSchemaVersion = "1.0" },
        EventSource = "aws:kinesis",
        EventSourceArn = Arn,
        EventId = "shardId-000000000000:" + seq,
    };

    [Theory]
    [InlineData("arn:aws:kinesis:us-east-1:123456789012:stream/clicks", "clicks")]
    [InlineData("arn:aws:kinesis:us-east-1:123456789012:stream/clicks/consumer/c1:1", "clicks")]
    [InlineData("arn:aws:sqs:us-east-1:1:q", null)]
    [InlineData(null, null)]
    public void Stream_name_comes_from_the_event_source_arn(string? arn, string? expected) =>
        Assert.Equal(expected, DecryptingTransform.StreamNameFromArn(arn));

    [Fact]
    public async Task Batch_decrypts_redacts_forgotten_users_and_reports_only_the_tampered_record()
    {
        using var rt = EncryptingProducerTests.Runtime(ForgottenUserPolicy.Reject);
        async Task<byte[]> Enc(string user, string email) =>
            (await rt.Protector.EncryptAsync(Encoding.UTF8.GetBytes($$"""{"userId":"{{user}}","email":"{{email}}"}"""), "clicks")).Json.ToArray();

        var good = await Enc("u-1", "one@example.com");
        var forgotten = await Enc("u-2", "two@example.com");
        var tampered = await Enc("u-3", "three@example.com");
        tampered[45] = (byte)(tampered[45] == (byte)'A' ? 'B' : 'A');
        var plain = Encoding.UTF8.GetBytes("not json, no ciphertext");
        await rt.Shredder.ForgetAsync("u-2");

        var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        var failures = new System.Collections.Concurrent.ConcurrentBag<RecordFailure>();
        var processor = new KinesisBatchProcessor(new KinesisBatchProcessorOptions
        {
            Transforms = [new DecryptingTransform(rt.Protector)],
            OnRecordFailure = failures.Add,
            MaxDegreeOfParallelism = 1,
        });
        var result = await processor.ProcessAsync(
            [Parent("100", "u-1", good), Parent("101", "u-2", forgotten), Parent("102", "u-3", tampered), Parent("103", "u-4", plain)],
            (record, _) =>
            {
                seen[record.SequenceNumber] = Encoding.UTF8.GetString(record.Data.Span);
                return ValueTask.CompletedTask;
            });

        Assert.Equal("""{"userId":"u-1","email":"one@example.com"}""", seen["100"]);
        Assert.Equal("""{"userId":"u-2","email":"[redacted: user forgotten]"}""", seen["101"]);
        Assert.False(seen.ContainsKey("102"));
        Assert.Equal("not json, no ciphertext", seen["103"]);
        Assert.Equal("102", result.LowestFailedSequenceNumber);
        var failure = Assert.Single(failures);
        var ex = Assert.IsType<CiphertextTamperedException>(failure.Exception);
        Assert.Equal("u-3", ex.UserId);
        Assert.Equal("email", ex.Field);
        Assert.DoesNotContain("three@example.com", failure.Message, StringComparison.Ordinal);
    }
}
