using System.Security.Cryptography;
using System.Text;
using Cloud.Consumer;
using Cloud.Consumer.Events;
using Cloud.Privacy.Streaming;

namespace Cloud.Privacy.Tests;

/// <summary>Issue 11, gap 5: the bound context is an explicit data-set name (default: the stream).</summary>
public class DataSetContextTests
{
    private const string Json = """{"userId":"u-1","email":"ada@example.com","page":"/"}""";

    private static PrivacyRuntime Runtime(string? dataSet, IKeyStore? store = null, IMasterKeyProvider? master = null) =>
        PrivacyRuntime.Create(new PrivacyOptions { PersonalData = new PersonalDataOptions { DataSet = dataSet } },
            store ?? new InMemoryKeyStore(), master ?? new LocalMasterKeyProvider(RandomNumberGenerator.GetBytes(32)));

    [Fact]
    public async Task By_default_the_stream_is_the_context_and_a_copy_on_another_stream_reads_as_tampered()
    {
        using var rt = Runtime(null);
        var enc = await rt.Protector.EncryptAsync(Encoding.UTF8.GetBytes(Json), "clicks");
        Assert.Equal(Json, Encoding.UTF8.GetString((await rt.Protector.DecryptAsync(enc.Json, "clicks")).Json.Span));
        await Assert.ThrowsAsync<CiphertextTamperedException>(() => rt.Protector.DecryptAsync(enc.Json, "clicks-replay").AsTask());
        Assert.Equal("clicks", rt.Protector.ContextFor("clicks"));
    }

    [Fact]
    public async Task A_configured_data_set_survives_replay_and_copy_to_another_stream_but_not_to_another_data_set()
    {
        var store = new InMemoryKeyStore();
        using var master = new LocalMasterKeyProvider(RandomNumberGenerator.GetBytes(32));
        using var writer = Runtime("clickstream", store, master);
        using var reader = Runtime("clickstream", store, master);
        using var other = Runtime("billing", store, master);
        var enc = await writer.Protector.EncryptAsync(Encoding.UTF8.GetBytes(Json), "clicks");

        Assert.Equal(Json, Encoding.UTF8.GetString((await reader.Protector.DecryptAsync(enc.Json, "clicks-restored-from-backup")).Json.Span));
        var ex = await Assert.ThrowsAsync<CiphertextTamperedException>(() => other.Protector.DecryptAsync(enc.Json, "clicks").AsTask());
        Assert.Contains("data set 'billing'", ex.Message, StringComparison.Ordinal);

        // The consumer transform: a record whose ARN names the copy stream decrypts.
        var processor = new KinesisBatchProcessor(new KinesisBatchProcessorOptions { Transforms = [new DecryptingTransform(reader.Protector)] });
        string? seen = null;
        var result = await processor.ProcessAsync(new KinesisEvent
        {
            Records =
            [
                new KinesisEventRecord
                {
                    Kinesis = new KinesisRecordData { PartitionKey = "p", SequenceNumber = "1", Data = Convert.ToBase64String(enc.Json.Span), KinesisSchemaVersion = "1.0" },
                    EventSource = "aws:kinesis",
                    EventSourceArn = "arn:aws:kinesis:us-east-1:000000000000:stream/clicks-copy",
                    EventId = "shardId-000000000000:1",
                },
            ],
        }, (r, _) =>
        {
            seen = Encoding.UTF8.GetString(r.Data.Span);
            return ValueTask.CompletedTask;
        });
        Assert.True(result.IsSuccess);
        Assert.Equal(Json, seen);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void A_blank_data_set_is_rejected(string dataSet)
    {
        var ex = Assert.Throws<ArgumentException>(() => new PersonalDataOptions { DataSet = dataSet }.Validate());
        Assert.Contains("DataSet", ex.Message, StringComparison.Ordinal);
    }
}

/// <summary>Issue 11, gap 6: personal values inside JSON arrays, addressed by <c>[*]</c> paths.</summary>
public class ArrayFieldTests
{
    private const string Json = """{"userId":"u-1","emails":["ada@example.com","lovelace@example.org"],"contacts":[{"phone":"+33 1 23","kind":"home"},{"kind":"none"},{"phone":42}],"grid":[["cell-x1","cell-x2"],["cell-x3"]],"tags":["public"],"page":"/"}""";
    private static readonly string[] Secrets = ["ada@example.com", "lovelace@example.org", "+33 1 23", "cell-x1", "cell-x2", "cell-x3"];

    private static PrivacyRuntime Runtime() =>
        PrivacyRuntime.Create(new PrivacyOptions { PersonalData = new PersonalDataOptions { Fields = ["emails[*]", "contacts[*].phone", "grid[*][*]"] } },
            new InMemoryKeyStore(), new LocalMasterKeyProvider(RandomNumberGenerator.GetBytes(32)));

    [Fact]
    public async Task Each_array_element_is_encrypted_on_its_own_and_restored_byte_for_byte()
    {
        using var rt = Runtime();
        var enc = await rt.Protector.EncryptAsync(Encoding.UTF8.GetBytes(Json), "s");
        var text = Encoding.UTF8.GetString(enc.Json.Span);
        Assert.Equal(ProtectStatus.Encrypted, enc.Status);
        Assert.Equal(7, enc.FieldCount); // 2 emails, 2 phones (one a number), 3 grid cells
        foreach (var secret in Secrets)
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }

        Assert.Contains("\"kind\":\"home\"", text, StringComparison.Ordinal);
        Assert.Contains("\"tags\":[\"public\"]", text, StringComparison.Ordinal);
        using (var doc = System.Text.Json.JsonDocument.Parse(enc.Json))
        {
            Assert.Equal(2, doc.RootElement.GetProperty("emails").GetArrayLength());
            Assert.All(doc.RootElement.GetProperty("emails").EnumerateArray(), e => Assert.StartsWith(FieldCiphertext.Prefix, e.GetString(), StringComparison.Ordinal));
        }

        var dec = await rt.Protector.DecryptAsync(enc.Json, "s");
        Assert.Equal((RevealStatus.Decrypted, 7), (dec.Status, dec.FieldCount));
        Assert.Equal(Json, Encoding.UTF8.GetString(dec.Json.Span));
    }

    [Fact]
    public async Task A_forgotten_users_array_elements_each_read_as_the_marker()
    {
        using var rt = Runtime();
        var enc = await rt.Protector.EncryptAsync(Encoding.UTF8.GetBytes(Json), "s");
        await rt.Shredder.ForgetAsync("u-1");
        var dec = await rt.Protector.DecryptAsync(enc.Json, "s");
        Assert.Equal(RevealStatus.Redacted, dec.Status);
        using var doc = System.Text.Json.JsonDocument.Parse(dec.Json);
        Assert.All(doc.RootElement.GetProperty("emails").EnumerateArray(), e => Assert.Equal(PersonalDataOptions.DefaultRedactedMarker, e.GetString()));
        Assert.Equal(PersonalDataOptions.DefaultRedactedMarker, doc.RootElement.GetProperty("contacts")[0].GetProperty("phone").GetString());
    }

    [Fact]
    public async Task An_element_moved_to_another_field_reads_as_tampered()
    {
        using var rt = Runtime();
        var enc = Encoding.UTF8.GetString((await rt.Protector.EncryptAsync(Encoding.UTF8.GetBytes(Json), "s")).Json.Span);
        using var doc = System.Text.Json.JsonDocument.Parse(enc);
        var email = doc.RootElement.GetProperty("emails")[0].GetString()!;
        var phone = doc.RootElement.GetProperty("contacts")[0].GetProperty("phone").GetString()!;
        var swapped = enc.Replace(phone, "TMP", StringComparison.Ordinal).Replace(email, phone, StringComparison.Ordinal).Replace("TMP", email, StringComparison.Ordinal);
        var ex = await Assert.ThrowsAsync<CiphertextTamperedException>(() => rt.Protector.DecryptAsync(Encoding.UTF8.GetBytes(swapped), "s").AsTask());
        Assert.True(ex.Field is "emails[*]" or "contacts[*].phone", ex.Field);
    }

    [Theory]
    [InlineData("emails[]", "not a dot-separated path")]
    [InlineData("emails[0]", "not a dot-separated path")]
    [InlineData("[*]", "not a dot-separated path")]
    public void Malformed_array_paths_are_rejected(string field, string expected)
    {
        var ex = Assert.Throws<ArgumentException>(() => new PersonalDataOptions { Fields = [field] }.Validate());
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Overlapping_array_paths_and_an_array_user_id_are_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new PersonalDataOptions { Fields = ["emails", "emails[*]", "c[*].x", "c[*]"] }.Validate());
        Assert.Contains("field 'emails[*]' is inside field 'emails'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("field 'c[*].x' is inside field 'c[*]'", ex.Message, StringComparison.Ordinal);
        var id = Assert.Throws<ArgumentException>(() => new PersonalDataOptions { UserIdField = "ids[*]" }.Validate());
        Assert.Contains("UserIdField 'ids[*]'", id.Message, StringComparison.Ordinal);
    }
}
