using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cloud.Functions.Forget;
using Cloud.Privacy;

namespace Cloud.Functions.Tests.Forget;

public class ForgetFunctionTests
{
    private static (ForgetFunction Function, UserKeyRing Ring, StringWriter Log) Create(IKeyStore? store = null)
    {
        var master = new LocalMasterKeyProvider(RandomNumberGenerator.GetBytes(32));
        var ring = new UserKeyRing(store ?? new InMemoryKeyStore(), master, new DataKeyCache(TimeProvider.System, TimeSpan.FromMinutes(1), 100));
        var log = new StringWriter();
        return (new ForgetFunction(new CryptoShredder(ring), log), ring, log);
    }

    private static MemoryStream Event(params (string Seq, string Data)[] records)
    {
        var items = records.Select(r => $$"""
            {"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"pk","sequenceNumber":"{{r.Seq}}","data":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes(r.Data))}}","approximateArrivalTimestamp":1545084650.987},
             "eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"shardId-000000000000:{{r.Seq}}","eventName":"aws:kinesis:record",
             "invokeIdentityArn":"arn:aws:iam::123456789012:role/r","awsRegion":"us-east-1","eventSourceARN":"arn:aws:kinesis:us-east-1:123456789012:stream/control"}
            """);
        return new MemoryStream(Encoding.UTF8.GetBytes("{\"Records\":[" + string.Join(",", items) + "]}"));
    }

    private static async Task<string[]> Failures(Stream response)
    {
        using var doc = await JsonDocument.ParseAsync(response);
        return doc.RootElement.GetProperty("batchItemFailures").EnumerateArray().Select(e => e.GetProperty("itemIdentifier").GetString()!).ToArray();
    }

    [Fact]
    public async Task Forgets_every_requested_user_and_reports_no_failures()
    {
        var (fn, ring, log) = Create();
        await ring.GetOrCreateKeyAsync("u-1", default);
        var response = await fn.HandleAsync(Event(
            ("1", """{"userId":"u-1","requestedAt":"2026-11-23T10:00:00Z"}"""),
            ("2", """{"userId":"u-2","requestedAt":1763892000.5}"""),
            ("3", """{"userId":"u-1"}""")), default);

        Assert.Empty(await Failures(response));
        Assert.True((await ring.FindKeyAsync("u-1", default)).IsForgotten);
        Assert.True((await ring.Store.GetAsync("u-2", default))!.Status == KeyStatus.Forgotten);
        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Contains("KeyDestroyed", lines[0], StringComparison.Ordinal);
        Assert.Contains("TombstoneCreated", lines[1], StringComparison.Ordinal);
        Assert.Contains("AlreadyForgotten", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_lines_never_carry_the_user_id_in_clear()
    {
        var (fn, ring, log) = Create();
        await ring.GetOrCreateKeyAsync("alice-7731", default);
        await fn.HandleAsync(Event(("1", """{"userId":"alice-7731"}"""), ("2", """{"userId":"bob-5512"}""")), default);
        var (failing, _, failLog) = Create(new FailingStore());
        await failing.HandleAsync(Event(("3", """{"userId":"carol-0042"}""")), default);

        var text = log.ToString() + failLog.ToString();
        Assert.Equal(3, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        foreach (var id in new[] { "alice-7731", "bob-5512", "carol-0042" })
        {
            Assert.DoesNotContain(id, text, StringComparison.Ordinal);
        }

        // The lines still let an operator correlate them: a per-process reference, the same for the same user.
        Assert.Contains($"\"userRef\":\"{UserReference.For("alice-7731")}\"", text, StringComparison.Ordinal);
        Assert.Contains(UserReference.For("carol-0042"), text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"user":"u-1"}""")]
    [InlineData("""{"userId":""}""")]
    [InlineData("""{"userId":42}""")]
    [InlineData("""{"userId":"u-1","requestedAt":"yesterday"}""")]
    [InlineData("not json at all")]
    [InlineData("""["u-1"]""")]
    public async Task Malformed_requests_are_reported_and_do_not_stop_the_batch(string bad)
    {
        var (fn, ring, log) = Create();
        var response = await fn.HandleAsync(Event(("10", bad), ("11", """{"userId":"u-9"}""")), default);
        Assert.Equal(["10"], await Failures(response));
        Assert.True((await ring.FindKeyAsync("u-9", default)).IsForgotten);
        Assert.Contains("invalid forget request", log.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("yesterday", log.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("u-9", log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_store_failures_are_reported_per_record()
    {
        var (fn, _, _) = Create(new FailingStore());
        var response = await fn.HandleAsync(Event(("5", """{"userId":"u-1"}"""), ("6", """{"userId":"u-2"}""")), default);
        Assert.Equal(["5", "6"], await Failures(response));
    }

    [Fact]
    public async Task Empty_event_returns_an_empty_failure_list()
    {
        var (fn, _, _) = Create();
        var response = await fn.HandleAsync(new MemoryStream("{\"Records\":[]}"u8.ToArray()), default);
        Assert.Empty(await Failures(response));
    }

    [Fact]
    public async Task Non_event_input_fails_the_invocation()
    {
        var (fn, _, _) = Create();
        await Assert.ThrowsAsync<InvalidDataException>(() => fn.HandleAsync(new MemoryStream("{\"Records\":5}"u8.ToArray()), default));
    }

    private sealed class FailingStore : IKeyStore
    {
        public Task<KeyRecord?> GetAsync(string userId, CancellationToken cancellationToken) => throw new KeyStoreException("GetKey", userId, "throttled");

        public Task<KeyRecord> TryCreateAsync(KeyRecord record, CancellationToken cancellationToken) => throw new KeyStoreException("CreateKey", record.UserId, "throttled");

        public Task<(ForgetOutcome Outcome, DateTimeOffset ForgottenAt)> ForgetAsync(string userId, DateTimeOffset at, CancellationToken cancellationToken) =>
            throw new KeyStoreException("Forget", userId, "throttled");
    }
}
