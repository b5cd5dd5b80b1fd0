using System.Text;
using System.Text.Json;

namespace Cloud.Privacy.Tests;

public class PersonalDataProtectorTests
{
    private const string Stream = "clicks";

    private static PersonalDataProtector Protector(out UserKeyRing ring, ForgottenUserPolicy policy = ForgottenUserPolicy.Reject)
    {
        ring = TestKeys.Ring().Ring;
        return new PersonalDataProtector(ring, new PersonalDataOptions
        {
            UserIdField = "userId",
            Fields = ["email", "name", "device.ip", "address"],
            ForgottenUserPolicy = policy,
        });
    }

    private static byte[] U(string s) => Encoding.UTF8.GetBytes(s);

    private static string S(ReadOnlyMemory<byte> b) => Encoding.UTF8.GetString(b.Span);

    private const string Record =
        """{"userId":"u-7","email":"ada@example.com","name":"Ada Lovelace","page":"/home","device":{"ip":"10.1.2.3","os":"linux"},"address":{"street":"1 Main St","zip":12345},"n":1.5e3,"tags":["a","b"]}""";

    [Fact]
    public async Task Encrypts_top_level_and_nested_fields_and_keeps_the_rest_verbatim()
    {
        var p = Protector(out _);
        var result = await p.EncryptAsync(U(Record), Stream);

        Assert.Equal(ProtectStatus.Encrypted, result.Status);
        Assert.Equal("u-7", result.UserId);
        Assert.Equal(4, result.FieldCount);
        var text = S(result.Json);
        foreach (var secret in new[] { "ada@example.com", "Ada Lovelace", "10.1.2.3", "1 Main St", "12345" })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }

        using var doc = JsonDocument.Parse(result.Json);
        var root = doc.RootElement;
        Assert.Equal("u-7", root.GetProperty("userId").GetString());
        Assert.Equal("/home", root.GetProperty("page").GetString());
        Assert.Equal("linux", root.GetProperty("device").GetProperty("os").GetString());
        Assert.StartsWith(FieldCiphertext.Prefix, root.GetProperty("email").GetString(), StringComparison.Ordinal);
        Assert.StartsWith(FieldCiphertext.Prefix, root.GetProperty("device").GetProperty("ip").GetString(), StringComparison.Ordinal);
        Assert.StartsWith(FieldCiphertext.Prefix, root.GetProperty("address").GetString(), StringComparison.Ordinal);
        Assert.Contains("\"n\":1.5e3,\"tags\":[\"a\",\"b\"]", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decrypt_restores_the_record_byte_for_byte()
    {
        var p = Protector(out _);
        var encrypted = await p.EncryptAsync(U(Record), Stream);
        var revealed = await p.DecryptAsync(encrypted.Json, Stream);
        Assert.Equal(RevealStatus.Decrypted, revealed.Status);
        Assert.Equal(4, revealed.FieldCount);
        Assert.Equal(Record, S(revealed.Json));
    }

    [Fact]
    public async Task Whitespace_escapes_and_numeric_user_ids_are_handled()
    {
        var p = Protector(out _);
        const string json = "{ \"email\" : \"a\\u0040b.c\" ,\n \"userId\" : 9001 , \"name\":null, \"address\": [1, {\"x\": true}] }";
        var enc = await p.EncryptAsync(U(json), Stream);
        Assert.Equal("9001", enc.UserId);
        Assert.Equal(2, enc.FieldCount); // null name is left alone
        Assert.DoesNotContain("\\u0040", S(enc.Json), StringComparison.Ordinal);
        Assert.Equal(json, S((await p.DecryptAsync(enc.Json, Stream)).Json));
    }

    [Fact]
    public async Task Record_without_personal_fields_is_returned_unchanged()
    {
        var p = Protector(out _);
        var json = U("""{"userId":"u-1","page":"/"}""");
        var r = await p.EncryptAsync(json, Stream);
        Assert.Equal(ProtectStatus.NoPersonalData, r.Status);
        Assert.Equal(json, r.Json.ToArray());
        Assert.Equal(RevealStatus.NoCiphertext, (await p.DecryptAsync(json, Stream)).Status);
        Assert.Equal(ProtectStatus.NoPersonalData, (await p.EncryptAsync(U("[1,2]"), Stream)).Status);
    }

    [Fact]
    public async Task Forgotten_user_reads_as_redacted_never_an_exception()
    {
        var p = Protector(out var ring);
        var enc = await p.EncryptAsync(U(Record), Stream);
        var other = await p.EncryptAsync(U(Record.Replace("u-7", "u-8", StringComparison.Ordinal)), Stream);
        await new CryptoShredder(ring).ForgetAsync("u-7");

        var revealed = await p.DecryptAsync(enc.Json, Stream);
        Assert.Equal(RevealStatus.Redacted, revealed.Status);
        using var doc = JsonDocument.Parse(revealed.Json);
        Assert.Equal("[redacted: user forgotten]", doc.RootElement.GetProperty("email").GetString());
        Assert.Equal("[redacted: user forgotten]", doc.RootElement.GetProperty("device").GetProperty("ip").GetString());
        Assert.Equal("[redacted: user forgotten]", doc.RootElement.GetProperty("address").GetString());
        Assert.Equal("/home", doc.RootElement.GetProperty("page").GetString());
        Assert.DoesNotContain("pdenc1:", S(revealed.Json), StringComparison.Ordinal);

        Assert.Equal(Record.Replace("u-7", "u-8", StringComparison.Ordinal), S((await p.DecryptAsync(other.Json, Stream)).Json));
    }

    [Fact]
    public async Task Write_for_forgotten_user_is_rejected_or_dropped_and_never_creates_a_key()
    {
        var reject = Protector(out var ring);
        await new CryptoShredder(ring).ForgetAsync("u-7");
        var ex = await Assert.ThrowsAsync<UserForgottenException>(() => reject.EncryptAsync(U(Record), Stream).AsTask());
        Assert.Equal("u-7", ex.UserId);
        Assert.NotNull(ex.ForgottenAt);
        Assert.Equal(KeyStatus.Forgotten, (await ring.Store.GetAsync("u-7", default))!.Status);

        var drop = Protector(out var ring2, ForgottenUserPolicy.Drop);
        await new CryptoShredder(ring2).ForgetAsync("u-7");
        var r = await drop.EncryptAsync(U(Record), Stream);
        Assert.Equal(ProtectStatus.Dropped, r.Status);
        Assert.True(r.Json.IsEmpty);
        Assert.True((await ring2.Store.GetAsync("u-7", default))!.WrappedKey.IsEmpty);
    }

    [Fact]
    public async Task Tampered_field_is_a_typed_error_naming_user_and_field()
    {
        var p = Protector(out _);
        var enc = S((await p.EncryptAsync(U(Record), Stream)).Json);
        using var doc = JsonDocument.Parse(enc);
        var ip = doc.RootElement.GetProperty("device").GetProperty("ip").GetString()!;
        var flipped = ip[..20] + (ip[20] == 'A' ? 'B' : 'A') + ip[21..];
        var ex = await Assert.ThrowsAsync<CiphertextTamperedException>(() => p.DecryptAsync(U(enc.Replace(ip, flipped, StringComparison.Ordinal)), Stream).AsTask());
        Assert.Equal("u-7", ex.UserId);
        Assert.Equal("device.ip", ex.Field);
    }

    [Fact]
    public async Task Ciphertext_moved_between_fields_users_or_streams_fails()
    {
        var p = Protector(out _);
        using var a = JsonDocument.Parse((await p.EncryptAsync(U(Record), Stream)).Json);
        var email = a.RootElement.GetProperty("email").GetString()!;

        // Into another field of the same record.
        var moved = $$"""{"userId":"u-7","name":"{{email}}"}""";
        var ex = await Assert.ThrowsAsync<CiphertextTamperedException>(() => p.DecryptAsync(U(moved), Stream).AsTask());
        Assert.Equal("name", ex.Field);

        // Into another user's record (that user has a key).
        await p.EncryptAsync(U("""{"userId":"u-8","email":"x@y.z"}"""), Stream);
        await Assert.ThrowsAsync<CiphertextTamperedException>(() => p.DecryptAsync(U($$"""{"userId":"u-8","email":"{{email}}"}"""), Stream).AsTask());

        // Read back on another stream.
        await Assert.ThrowsAsync<CiphertextTamperedException>(() => p.DecryptAsync(U($$"""{"userId":"u-7","email":"{{email}}"}"""), "other-stream").AsTask());

        // Into a user with no key record at all.
        var missing = await Assert.ThrowsAsync<DataKeyNotFoundException>(() => p.DecryptAsync(U($$"""{"userId":"nobody","email":"{{email}}"}"""), Stream).AsTask());
        Assert.Equal("nobody", missing.UserId);
    }

    [Theory]
    [InlineData("""{"email":"a@b.c"}""", "no user id field")]
    [InlineData("""{"userId":"","email":"a@b.c"}""", "empty user id field")]
    [InlineData("""{"userId":"u","email":"a@b.c" """, "malformed JSON")]
    [InlineData("""{"userId":"u","email":"a@b.c"} {}""", "malformed JSON")]
    [InlineData("", "empty")]
    public async Task Bad_records_are_typed_errors(string json, string expected)
    {
        var p = Protector(out _);
        var ex = await Assert.ThrowsAsync<InvalidPersonalDataException>(() => p.EncryptAsync(U(json), Stream).AsTask());
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("a@b.c", ex.Message, StringComparison.Ordinal);
    }

    [Theory] // found by the report's fuzzing: a byte that is not UTF-8 inside a name or a string value
    [InlineData(true, 2)]   // in a property name: {"u\xFFserId":...}
    [InlineData(false, 12)] // in the user id value: {"userId":"u\xFF-7",...}
    public async Task A_record_that_is_not_utf8_is_a_typed_error_on_both_paths(bool inName, int at)
    {
        var p = Protector(out _);
        var encrypted = (await p.EncryptAsync(U(Record), Stream)).Json.ToArray();
        foreach (var record in new[] { U(Record), encrypted })
        {
            var bad = (byte[])record.Clone();
            bad[inName ? at + 1 : at] = 0xFF;

            var onEncrypt = await Assert.ThrowsAsync<InvalidPersonalDataException>(() => p.EncryptAsync(bad, Stream).AsTask());
            var onDecrypt = await Assert.ThrowsAsync<InvalidPersonalDataException>(() => p.DecryptAsync(bad, Stream).AsTask());

            Assert.Contains("UTF-8", onEncrypt.Message, StringComparison.Ordinal);
            Assert.Contains("UTF-8", onDecrypt.Message, StringComparison.Ordinal);
            Assert.NotNull(onDecrypt.ByteOffset);
        }
    }

    [Fact] // found by the report's fuzzing: a ciphertext copied under an empty property name
    public async Task A_ciphertext_under_an_empty_property_name_is_a_tampered_ciphertext()
    {
        var p = Protector(out _);
        var encrypted = S((await p.EncryptAsync(U(Record), Stream)).Json);
        int start = encrypted.IndexOf("\"pdenc1:", StringComparison.Ordinal);
        string ciphertext = encrypted[start..(encrypted.IndexOf('"', start + 1) + 1)];
        string moved = encrypted.Replace("\"page\":", "\"\":" + ciphertext + ",\"page\":", StringComparison.Ordinal);

        var ex = await Assert.ThrowsAsync<CiphertextTamperedException>(() => p.DecryptAsync(U(moved), Stream).AsTask());

        Assert.Equal("", ex.Field);
    }

    [Fact]
    public async Task Already_encrypted_fields_are_not_encrypted_twice()
    {
        var p = Protector(out _);
        var once = await p.EncryptAsync(U(Record), Stream);
        var twice = await p.EncryptAsync(once.Json, Stream);
        Assert.Equal(ProtectStatus.NoPersonalData, twice.Status);
        Assert.Equal(Record, S((await p.DecryptAsync(twice.Json, Stream)).Json));
    }

    [Fact]
    public void Invalid_options_list_every_problem()
    {
        var ring = TestKeys.Ring().Ring;
        var ex = Assert.Throws<ArgumentException>(() => new PersonalDataProtector(ring, new PersonalDataOptions
        {
            UserIdField = "user.id",
            Fields = ["user", "a..b", "address", "address.city"],
            RedactedMarker = "",
        }));
        Assert.Contains("would encrypt the user id field", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'a..b'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'address.city' is inside field 'address'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("RedactedMarker", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nested_user_id_path_is_supported()
    {
        var ring = TestKeys.Ring().Ring;
        var p = new PersonalDataProtector(ring, new PersonalDataOptions { UserIdField = "user.id", Fields = ["user.email"] });
        const string json = """{"user":{"email":"e@x.io","id":"p-1"}}""";
        var enc = await p.EncryptAsync(U(json), Stream);
        Assert.Equal("p-1", enc.UserId);
        Assert.DoesNotContain("e@x.io", S(enc.Json), StringComparison.Ordinal);
        Assert.Equal(json, S((await p.DecryptAsync(enc.Json, Stream)).Json));
    }
}
