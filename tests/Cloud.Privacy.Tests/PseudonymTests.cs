using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cloud.Privacy.Streaming;
using Cloud.Producer;

namespace Cloud.Privacy.Tests;

/// <summary>Issue 11, gap 2: pseudonymous identifiers that die with the user's key.</summary>
public class PseudonymTests
{
    private static string Event(string user, int n) => $$"""{"userId":"{{user}}","n":{{n}},"page":"/p","email":"{{user}}@example.com"}""";

    private sealed class World : IDisposable
    {
        public InMemoryKeyStore Keys { get; } = new();
        public InMemoryBranchKeyStore Branches { get; } = new();
        public InMemoryPseudonymStore Pseudonyms { get; } = new();
        public LocalMasterKeyProvider Master { get; } = new(RandomNumberGenerator.GetBytes(32));

        public PrivacyRuntime Process(KeyWrapping wrapping = KeyWrapping.Direct) => PrivacyRuntime.Create(
            new PrivacyOptions { KeyWrapping = wrapping, PersonalData = new PersonalDataOptions { Fields = ["email"], Pseudonymize = true } },
            Keys, Master, branchKeys: Branches, pseudonyms: Pseudonyms);

        /// <summary>Every string the key table holds: item keys, key ids, master key ids.</summary>
        public async Task<string> KeyTableTextAsync()
        {
            var text = new StringBuilder();
            foreach (var p in Pseudonyms.Entries)
            {
                text.Append(p.Key).Append(' ').Append(p.Value.KeyId).Append('\n');
            }

            foreach (var b in new[] { "default", PseudonymousIdentity.IndexKeyId })
            {
                text.Append(await Branches.GetActiveAsync(b, default)).Append('\n');
            }

            return text.ToString();
        }

        public void Dispose() => Master.Dispose();
    }

    [Fact]
    public async Task Records_carry_a_pseudonym_and_the_clear_id_only_encrypted_and_a_reader_restores_it()
    {
        using var world = new World();
        using var writer = world.Process();
        var enc = await writer.Protector.EncryptAsync(Encoding.UTF8.GetBytes(Event("alice-1", 1)), "s");
        var text = Encoding.UTF8.GetString(enc.Json.Span);

        Assert.DoesNotContain("alice-1", text, StringComparison.Ordinal);
        Assert.True(PseudonymousIdentity.IsPseudonym(enc.UserId), enc.UserId);
        using (var doc = JsonDocument.Parse(enc.Json))
        {
            Assert.Equal(enc.UserId, doc.RootElement.GetProperty("userId").GetString());
            Assert.StartsWith(FieldCiphertext.Prefix, doc.RootElement.GetProperty("sealedUserId").GetString(), StringComparison.Ordinal);
            Assert.Equal("/p", doc.RootElement.GetProperty("page").GetString());
        }

        // The same user always gets the same pseudonym (per-key order and per-user aggregates hold); another user another.
        var again = await writer.Protector.EncryptAsync(Encoding.UTF8.GetBytes(Event("alice-1", 2)), "s");
        var bob = await writer.Protector.EncryptAsync(Encoding.UTF8.GetBytes(Event("bob-2", 1)), "s");
        Assert.Equal(enc.UserId, again.UserId);
        Assert.NotEqual(enc.UserId, bob.UserId);

        // Another process reads it back: the pseudonym stays, the sealed field holds the clear id.
        using var reader = world.Process();
        var dec = await reader.Protector.DecryptAsync(enc.Json, "s");
        Assert.Equal(RevealStatus.Decrypted, dec.Status);
        using var back = JsonDocument.Parse(dec.Json);
        Assert.Equal("alice-1", back.RootElement.GetProperty("sealedUserId").GetString());
        Assert.Equal("alice-1@example.com", back.RootElement.GetProperty("email").GetString());
        Assert.Equal(enc.UserId, back.RootElement.GetProperty("userId").GetString());

        // The key table never held the clear id: user rows are keyed by a keyed hash.
        Assert.DoesNotContain("alice-1", await world.KeyTableTextAsync(), StringComparison.Ordinal);
        Assert.Null(await world.Keys.GetAsync("alice-1", default));
    }

    [Fact]
    public async Task The_producer_transform_partitions_by_the_pseudonym()
    {
        using var world = new World();
        using var rt = world.Process();
        var sent = new List<string?>();
        await using var producer = new TransformingProducer(new RecordingProducer(sent), [new EncryptingTransform(rt.Protector, "s")]);
        await producer.SendAsync(Encoding.UTF8.GetBytes(Event("carol-3", 1)));
        Assert.True(PseudonymousIdentity.IsPseudonym(Assert.Single(sent)));
        Assert.Equal(await rt.Identity!.FindPseudonymAsync("carol-3", default), sent[0]);
    }

    [Theory]
    [InlineData(KeyWrapping.Direct)]
    [InlineData(KeyWrapping.Hierarchical)]
    public async Task After_a_forget_nothing_stored_links_to_the_user_and_old_records_read_redacted(KeyWrapping wrapping)
    {
        using var world = new World();
        using var writer = world.Process(wrapping);
        var records = new List<ProtectResult>();
        foreach (var user in new[] { "alice-1", "bob-2" })
        {
            for (int n = 0; n < 3; n++)
            {
                records.Add(await writer.Protector.EncryptAsync(Encoding.UTF8.GetBytes(Event(user, n)), "s"));
            }
        }

        var alicePseudonym = records[0].UserId!;
        var keyId = await writer.Identity!.KeyIdOfAsync("alice-1", default);
        var result = await writer.Shredder.ForgetAsync("alice-1");
        Assert.Equal(("alice-1", ForgetOutcome.KeyDestroyed), (result.UserId, result.Outcome));

        // The pseudonym entry is a tombstone without the key id; the key row is a tombstone keyed by the keyed hash.
        var entry = await world.Pseudonyms.GetAsync(alicePseudonym, default);
        Assert.Equal(new PseudonymRecord(null, true), entry);
        var tomb = await world.Keys.GetAsync(keyId, default);
        Assert.Equal(KeyStatus.Forgotten, tomb!.Status);
        Assert.True(tomb.WrappedKey.IsEmpty);
        Assert.DoesNotContain("alice-1", await world.KeyTableTextAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(keyId, string.Join("\n", world.Pseudonyms.Entries.Select(e => e.Key + " " + e.Value.KeyId)), StringComparison.Ordinal);

        // Nobody can compute the pseudonym from the user id any more — not even the processes that wrote it.
        using var fresh = world.Process(wrapping);
        Assert.Null(await fresh.Identity!.FindPseudonymAsync("alice-1", default));
        Assert.Null(await writer.Identity.FindPseudonymAsync("alice-1", default));

        // Old records: alice's read redacted (sealed id included), bob's still decrypt.
        foreach (var r in records)
        {
            var dec = await fresh.Protector.DecryptAsync(r.Json, "s");
            var text = Encoding.UTF8.GetString(dec.Json.Span);
            if (r.UserId == alicePseudonym)
            {
                Assert.Equal(RevealStatus.Redacted, dec.Status);
                Assert.DoesNotContain("alice", text, StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(RevealStatus.Decrypted, dec.Status);
                Assert.Contains("\"sealedUserId\":\"bob-2\"", text, StringComparison.Ordinal);
            }
        }

        // A new write is refused (naming the user asked about) and creates nothing.
        var ex = await Assert.ThrowsAsync<UserForgottenException>(() => fresh.Protector.EncryptAsync(Encoding.UTF8.GetBytes(Event("alice-1", 9)), "s").AsTask());
        Assert.Equal("alice-1", ex.UserId);
        Assert.DoesNotContain("alice-1", ex.Message, StringComparison.Ordinal);
        Assert.Equal(ForgetOutcome.AlreadyForgotten, (await fresh.Shredder.ForgetAsync("alice-1")).Outcome);
    }

    [Fact]
    public void Pseudonymous_options_are_validated()
    {
        var ex = Assert.Throws<ArgumentException>(() => new PersonalDataOptions { Pseudonymize = true, UserIdField = "user.id", SealedUserIdField = "email" }.Validate());
        Assert.Contains("top-level field when Pseudonymize", ex.Message, StringComparison.Ordinal);
        Assert.Contains("SealedUserIdField 'email'", ex.Message, StringComparison.Ordinal);
        var env = new Dictionary<string, string> { [PrivacyOptions.PseudonymizeVariable] = "true" };
        Assert.True(PrivacyOptions.FromEnvironment(n => env.GetValueOrDefault(n)).PersonalData.Pseudonymize);
    }

    private sealed class RecordingProducer(List<string?> keys) : IKinesisProducer
    {
        public int BufferedRecords => 0;

        public ValueTask<SendResult> SendAsync(ReadOnlyMemory<byte> data, string? partitionKey = null, string? explicitHashKey = null, CancellationToken cancellationToken = default)
        {
            keys.Add(partitionKey);
            return ValueTask.FromResult(new SendResult("shard", "1", null, 1));
        }

        public async ValueTask<Task<SendResult>> EnqueueAsync(ReadOnlyMemory<byte> data, string? partitionKey = null, string? explicitHashKey = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(await SendAsync(data, partitionKey, explicitHashKey, cancellationToken));

        public Task FlushAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
