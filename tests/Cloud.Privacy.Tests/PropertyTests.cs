using System.Text;
using System.Text.Json;
using CsCheck;

namespace Cloud.Privacy.Tests;

public class PropertyTests
{
    [Fact]
    public void Ciphertext_round_trips_for_any_plaintext_and_binding()
    {
        var key = TestKeys.Random("k", 3);
        Gen.Select(Gen.Byte.Array[0, 2000], Gen.String[1, 40], Gen.String[1, 40], Gen.String[1, 40])
            .Sample((plain, user, field, stream) =>
            {
                var b = new FieldBinding(user, field, stream);
                var text = FieldCiphertext.Encrypt(key, b, plain);
                return text.Length == FieldCiphertext.GetEncryptedLength(plain.Length)
                    && FieldCiphertext.Decrypt(key, b, text).AsSpan().SequenceEqual(plain);
            }, iter: 5_000);
    }

    [Fact]
    public void Ciphertext_never_decrypts_under_a_different_binding()
    {
        var key = TestKeys.Random("k", 1);
        Gen.Select(Gen.Byte.Array[0, 64], Gen.String[1, 10], Gen.String[1, 10], Gen.String[1, 10], Gen.String[1, 10])
            .Where((_, u, f, _, u2) => u != u2)
            .Sample((plain, user, field, stream, otherUser) =>
            {
                var text = FieldCiphertext.Encrypt(key, new FieldBinding(user, field, stream), plain);
                try
                {
                    FieldCiphertext.Decrypt(key, new FieldBinding(otherUser, field, stream), text);
                    return false;
                }
                catch (CiphertextTamperedException)
                {
                    return true;
                }
            }, iter: 2_000);
    }

    [Fact]
    public void Protector_round_trips_arbitrary_records_and_hides_every_personal_value()
    {
        var ring = TestKeys.Ring().Ring;
        var protector = new PersonalDataProtector(ring, new PersonalDataOptions { Fields = ["email", "name", "geo.ip", "address"] });
        var value = Gen.OneOf(
            Gen.String[0, 30].Select(s => JsonSerializer.Serialize(s, TestJson.Default.String)),
            Gen.Long.Select(l => l.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Gen.Bool.Select(b => b ? "true" : "false"),
            Gen.String[0, 10].Select(s => "{\"street\":" + JsonSerializer.Serialize(s, TestJson.Default.String) + ",\"n\":[1,2]}"));
        Gen.Select(Gen.Int[0, 50], value, value, value, Gen.String[0, 20])
            .Sample((user, email, address, ip, page) =>
            {
                var json = $"{{\"userId\":\"user-{user}\",\"email\":{email},\"page\":{JsonSerializer.Serialize(page, TestJson.Default.String)},\"geo\":{{\"ip\":{ip},\"c\":1}},\"address\":{address}}}";
                var enc = protector.EncryptAsync(Encoding.UTF8.GetBytes(json), "s").AsTask().GetAwaiter().GetResult();
                using var doc = JsonDocument.Parse(enc.Json);
                bool hidden = doc.RootElement.GetProperty("email").GetString()!.StartsWith(FieldCiphertext.Prefix, StringComparison.Ordinal)
                    && doc.RootElement.GetProperty("address").GetString()!.StartsWith(FieldCiphertext.Prefix, StringComparison.Ordinal)
                    && doc.RootElement.GetProperty("geo").GetProperty("ip").GetString()!.StartsWith(FieldCiphertext.Prefix, StringComparison.Ordinal);
                var dec = protector.DecryptAsync(enc.Json, "s").AsTask().GetAwaiter().GetResult();
                return hidden && Encoding.UTF8.GetString(dec.Json.Span) == json;
            }, iter: 2_000);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class TestJson : System.Text.Json.Serialization.JsonSerializerContext;
