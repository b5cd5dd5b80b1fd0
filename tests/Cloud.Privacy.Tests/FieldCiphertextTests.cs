using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text;

namespace Cloud.Privacy.Tests;

public class FieldCiphertextTests
{
    private static readonly FieldBinding Binding = new("u-42", "email", "clicks");
    private static readonly byte[] Plain = "\"ada@example.com\""u8.ToArray();

    [Fact]
    public void Layout_is_prefix_then_base64url_of_version_keyversion_nonce_ciphertext_tag()
    {
        var key = TestKeys.Random("u-42", version: 7);
        var text = FieldCiphertext.Encrypt(key, Binding, Plain);

        Assert.StartsWith("pdenc1:", text, StringComparison.Ordinal);
        Assert.Equal(FieldCiphertext.GetEncryptedLength(Plain.Length), text.Length);
        var raw = Base64Url.DecodeFromChars(text.AsSpan("pdenc1:".Length));
        Assert.Equal(1 + 4 + 12 + Plain.Length + 16, raw.Length);
        Assert.Equal(FieldCiphertext.FormatVersion, raw[0]);
        Assert.Equal(7, BinaryPrimitives.ReadInt32BigEndian(raw.AsSpan(1, 4)));
        Assert.DoesNotContain("ada", text, StringComparison.Ordinal);
        Assert.Equal(Plain, FieldCiphertext.Decrypt(key, Binding, text));
        var header = FieldCiphertext.ReadHeader(Encoding.ASCII.GetBytes(text), Binding);
        Assert.Equal(new CiphertextHeader(1, 7), header);
    }

    [Fact]
    public void Every_encryption_uses_a_fresh_nonce()
    {
        var key = TestKeys.Random("u-42");
        var nonces = new HashSet<string>();
        for (int i = 0; i < 1000; i++)
        {
            var raw = Base64Url.DecodeFromChars(FieldCiphertext.Encrypt(key, Binding, Plain).AsSpan(7));
            Assert.True(nonces.Add(Convert.ToHexString(raw, 5, 12)));
        }
    }

    [Fact]
    public void Every_single_bit_flip_of_the_binary_form_is_rejected()
    {
        var key = TestKeys.Random("u-42");
        var raw = Base64Url.DecodeFromChars(FieldCiphertext.Encrypt(key, Binding, Plain).AsSpan(7));
        for (int bit = 0; bit < raw.Length * 8; bit++)
        {
            var copy = (byte[])raw.Clone();
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            var tampered = "pdenc1:" + Base64Url.EncodeToString(copy);
            var ex = Assert.ThrowsAny<PrivacyException>(() => FieldCiphertext.Decrypt(key, Binding, tampered));
            // Header bits: format version → tampered; key version → unknown version; anything else → tag mismatch.
            Assert.True(ex is CiphertextTamperedException or UnknownKeyVersionException, $"bit {bit}: {ex.GetType().Name}");
            Assert.Equal("u-42", ex.UserId);
            Assert.Equal("email", ex.Field);
        }
    }

    [Fact]
    public void Every_character_substitution_of_the_string_form_is_rejected()
    {
        var key = TestKeys.Random("u-42");
        var text = FieldCiphertext.Encrypt(key, Binding, Plain);
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/:. ";
        for (int i = 0; i < text.Length; i++)
        {
            foreach (var c in alphabet)
            {
                if (c == text[i])
                {
                    continue;
                }

                var tampered = string.Concat(text.AsSpan(0, i), c.ToString(), text.AsSpan(i + 1));
                Assert.ThrowsAny<PrivacyException>(() => FieldCiphertext.Decrypt(key, Binding, tampered));
            }
        }
    }

    [Fact]
    public void Truncation_and_extension_are_rejected()
    {
        var key = TestKeys.Random("u-42");
        var text = FieldCiphertext.Encrypt(key, Binding, Plain);
        for (int len = 0; len < text.Length; len++)
        {
            Assert.ThrowsAny<PrivacyException>(() => FieldCiphertext.Decrypt(key, Binding, text[..len]));
        }

        Assert.Throws<CiphertextTamperedException>(() => FieldCiphertext.Decrypt(key, Binding, text + "A"));
        Assert.Throws<CiphertextTamperedException>(() => FieldCiphertext.Decrypt(key, Binding, text + "AA"));
    }

    [Theory] // found by the report's fuzzing: base64url decoding skips whitespace, so these decoded to the same bytes
    [InlineData(" ")]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\t")]
    public void Whitespace_inside_the_string_form_is_rejected(string whitespace)
    {
        var key = TestKeys.Random("u-42");
        var text = FieldCiphertext.Encrypt(key, Binding, Plain);
        foreach (int at in new[] { "pdenc1:".Length, "pdenc1:".Length + 5, text.Length - 1, text.Length })
        {
            var altered = text.Insert(at, whitespace);
            var ex = Assert.Throws<CiphertextTamperedException>(() => FieldCiphertext.Decrypt(key, Binding, altered));
            Assert.Contains("base64url", ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("u-43", "email", "clicks")]
    [InlineData("u-42", "name", "clicks")]
    [InlineData("u-42", "email", "orders")]
    [InlineData("u-4", "2email", "clicks")]
    public void Ciphertext_moved_to_another_user_field_or_stream_fails(string user, string field, string stream)
    {
        var key = TestKeys.Random("u-42");
        var text = FieldCiphertext.Encrypt(key, Binding, Plain);
        var ex = Assert.Throws<CiphertextTamperedException>(() => FieldCiphertext.Decrypt(key, new FieldBinding(user, field, stream), text));
        Assert.Equal(user, ex.UserId);
        Assert.Equal(field, ex.Field);
        Assert.Equal(stream, ex.Stream);
        Assert.Contains("authentication tag mismatch", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("ada", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Another_users_key_with_the_same_version_fails()
    {
        var text = FieldCiphertext.Encrypt(TestKeys.Random("u-42"), Binding, Plain);
        Assert.Throws<CiphertextTamperedException>(() => FieldCiphertext.Decrypt(TestKeys.Random("u-42"), Binding, text));
    }

    [Fact]
    public void Unknown_key_version_is_a_typed_error()
    {
        var v2 = TestKeys.Random("u-42", version: 2);
        var text = FieldCiphertext.Encrypt(v2, Binding, Plain);
        var ex = Assert.Throws<UnknownKeyVersionException>(() => FieldCiphertext.Decrypt(TestKeys.Random("u-42", version: 1), Binding, text));
        Assert.Equal(2, ex.KeyVersion);
        Assert.Equal(1, ex.CurrentVersion);
        Assert.Equal("email", ex.Field);
    }

    [Fact]
    public void Unsupported_format_version_is_reported()
    {
        var key = TestKeys.Random("u-42");
        var raw = Base64Url.DecodeFromChars(FieldCiphertext.Encrypt(key, Binding, Plain).AsSpan(7));
        raw[0] = 2;
        var text = "pdenc1:" + Base64Url.EncodeToString(raw);
        var ex = Assert.Throws<CiphertextTamperedException>(() => FieldCiphertext.Decrypt(key, Binding, text));
        Assert.Contains("unsupported format version 2", ex.Reason, StringComparison.Ordinal);
        Assert.Throws<CiphertextTamperedException>(() => FieldCiphertext.ReadHeader(Encoding.ASCII.GetBytes(text), Binding));
    }

    [Fact]
    public void Large_values_round_trip_through_pooled_buffers()
    {
        var key = TestKeys.Random("u-42");
        var big = Encoding.UTF8.GetBytes("\"" + new string('x', 100_000) + "\"");
        Assert.Equal(big, FieldCiphertext.Decrypt(key, Binding, FieldCiphertext.Encrypt(key, Binding, big)));
        var longBinding = new FieldBinding(new string('u', 1000), new string('f', 1000), "s");
        Assert.Equal(big, FieldCiphertext.Decrypt(key, longBinding, FieldCiphertext.Encrypt(key, longBinding, big)));
    }

    [Fact]
    public void Empty_binding_parts_are_refused()
    {
        var key = TestKeys.Random();
        Assert.Throws<ArgumentException>(() => FieldCiphertext.Encrypt(key, new FieldBinding("u", "", "s"), Plain));
        Assert.Throws<ArgumentException>(() => FieldCiphertext.Encrypt(key, new FieldBinding("u", "f", ""), Plain));
    }
}
