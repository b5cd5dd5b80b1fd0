using Cloud.Telemetry;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cloud.Privacy;

/// <summary>Outcome of <see cref="PersonalDataProtector.EncryptAsync"/>.</summary>
public enum ProtectStatus
{
    /// <summary>Personal fields were encrypted.</summary>
    Encrypted,

    /// <summary>The record has none of the configured fields (or is not a JSON object); returned unchanged.</summary>
    NoPersonalData,

    /// <summary>The user is forgotten and the policy is <see cref="ForgottenUserPolicy.Drop"/>: do not write the record.</summary>
    Dropped,
}

/// <summary>Outcome of <see cref="PersonalDataProtector.DecryptAsync"/>.</summary>
public enum RevealStatus
{
    /// <summary>Ciphertexts were decrypted; the original field values are restored.</summary>
    Decrypted,

    /// <summary>The record holds no field ciphertext; returned unchanged.</summary>
    NoCiphertext,

    /// <summary>The user is forgotten: each encrypted field now holds the redaction marker.</summary>
    Redacted,
}

/// <summary>An encrypted record.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Json">The UTF-8 JSON to write (empty when dropped).</param>
/// <param name="UserId">The record's user id, when found.</param>
/// <param name="FieldCount">Number of fields encrypted.</param>
public readonly record struct ProtectResult(ProtectStatus Status, ReadOnlyMemory<byte> Json, string? UserId, int FieldCount);

/// <summary>A decrypted (or redacted) record.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Json">The UTF-8 JSON with fields restored or redacted.</param>
/// <param name="UserId">The record's user id, when found.</param>
/// <param name="FieldCount">Number of fields decrypted or redacted.</param>
public readonly record struct RevealResult(RevealStatus Status, ReadOnlyMemory<byte> Json, string? UserId, int FieldCount);

/// <summary>
/// Field-level encryption of JSON records with per-user keys. <see cref="EncryptAsync"/> replaces each configured
/// field's value by a <see cref="FieldCiphertext"/> string bound to (user id, field path, stream); the user id field stays
/// in the clear. <see cref="DecryptAsync"/> restores every ciphertext found in the record (byte-exact original value), or
/// replaces it with <see cref="PersonalDataOptions.RedactedMarker"/> when the user is forgotten. Everything else in
/// the record is copied untouched. Never logs field values.
/// </summary>
public sealed class PersonalDataProtector
{
    private static readonly JsonReaderOptions ReaderOptions = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 };
    private readonly UserKeyRing _keyRing;
    private readonly PersonalDataOptions _options;
    private readonly FieldNode _fields;
    private readonly FieldNode _userIdOnly;
    private readonly byte[] _redacted;
    private readonly ILogger _logger;
    private readonly PseudonymousIdentity? _identity;

    /// <summary>Creates the protector; validates <paramref name="options"/>.</summary>
    /// <param name="keyRing">Per-user keys.</param>
    /// <param name="options">Fields and policies.</param>
    /// <param name="logger">Logs (never ids or values).</param>
    /// <param name="identity">Required when <see cref="PersonalDataOptions.Pseudonymize"/> is set.</param>
    public PersonalDataProtector(UserKeyRing keyRing, PersonalDataOptions options, ILogger<PersonalDataProtector>? logger = null, PseudonymousIdentity? identity = null)
    {
        ArgumentNullException.ThrowIfNull(keyRing);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Pseudonymize && identity is null)
        {
            throw new ArgumentException("PersonalDataOptions.Pseudonymize needs a PseudonymousIdentity.", nameof(identity));
        }

        _identity = options.Pseudonymize ? identity : null;
        _keyRing = keyRing;
        _options = options;
        _fields = FieldNode.Build(options.UserIdField, options.Fields);
        _userIdOnly = FieldNode.Build(options.UserIdField, []);
        _redacted = Encoding.UTF8.GetBytes("\"" + JsonEncodedText.Encode(options.RedactedMarker).ToString() + "\"");
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The options in use.</summary>
    public PersonalDataOptions Options => _options;

    /// <summary>The key ring in use.</summary>
    public UserKeyRing KeyRing => _keyRing;

    /// <summary>
    /// The context bound into ciphertexts of records written to or read from <paramref name="streamName"/>:
    /// <see cref="PersonalDataOptions.DataSet"/> when configured, otherwise the stream name itself.
    /// </summary>
    public string ContextFor(string streamName) => _options.DataSet ?? streamName;

    /// <summary>Encrypts the configured personal fields of one UTF-8 JSON record for <paramref name="streamName"/>.</summary>
    /// <exception cref="UserForgottenException">The user is forgotten and the policy is Reject.</exception>
    /// <exception cref="InvalidPersonalDataException">Malformed JSON, or personal fields without a user id.</exception>
    /// <exception cref="KeyStoreException">The key store failed.</exception>
    /// <exception cref="MasterKeyException">The master key provider failed.</exception>
    public async ValueTask<ProtectResult> EncryptAsync(ReadOnlyMemory<byte> json, string streamName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamName);
        using var activity = PrivacyTelemetry.Source.StartActivity(ActivityNames.Encrypt);
        var hits = new List<Hit>();
        if (_identity is not null)
        {
            return await PseudonymizeAsync(json, streamName, hits, cancellationToken).ConfigureAwait(false);
        }

        var userId = Scan(json.Span, _fields, encrypt: true, hits);
        if (hits.Count == 0)
        {
            return new ProtectResult(ProtectStatus.NoPersonalData, json, userId, 0);
        }

        if (string.IsNullOrEmpty(userId))
        {
            // An empty id would reach the key ring's argument check and escape as an ArgumentException.
            throw new InvalidPersonalDataException(userId is null
                ? $"the record has personal field '{hits[0].Path}' but no user id field '{_options.UserIdField}' (string or number)"
                : $"the record has personal field '{hits[0].Path}' but an empty user id field '{_options.UserIdField}'", hits[0].Path);
        }

        UserDataKey key;
        try
        {
            key = await _keyRing.GetOrCreateKeyAsync(userId, cancellationToken).ConfigureAwait(false);
        }
        catch (UserForgottenException) when (_options.ForgottenUserPolicy == ForgottenUserPolicy.Drop)
        {
            _logger.LogInformation("Dropped a record for forgotten {UserRef}", UserReference.For(userId));
            return new ProtectResult(ProtectStatus.Dropped, ReadOnlyMemory<byte>.Empty, userId, 0);
        }

        return new ProtectResult(ProtectStatus.Encrypted, BuildEncrypted(json.Span, hits, key, ContextFor(streamName)), userId, hits.Count);
    }

    /// <summary>
    /// Decrypts every field ciphertext of one UTF-8 JSON record read from <paramref name="streamName"/>; a forgotten
    /// user's fields become the redaction marker (no exception).
    /// </summary>
    /// <exception cref="CiphertextTamperedException">A ciphertext was altered or moved (names user and field); report the record.</exception>
    /// <exception cref="UnknownKeyVersionException">A ciphertext names a key version the store does not hold.</exception>
    /// <exception cref="DataKeyNotFoundException">The user has no key record at all.</exception>
    /// <exception cref="InvalidPersonalDataException">Malformed JSON, or ciphertexts without a user id.</exception>
    /// <exception cref="KeyStoreException">The key store failed.</exception>
    /// <exception cref="MasterKeyException">The master key provider failed.</exception>
    public async ValueTask<RevealResult> DecryptAsync(ReadOnlyMemory<byte> json, string streamName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamName);
        using var activity = PrivacyTelemetry.Source.StartActivity(ActivityNames.Decrypt);
        var hits = new List<Hit>();
        var userId = Scan(json.Span, _userIdOnly, encrypt: false, hits);
        if (hits.Count == 0)
        {
            return new RevealResult(RevealStatus.NoCiphertext, json, userId, 0);
        }

        if (string.IsNullOrEmpty(userId))
        {
            throw new InvalidPersonalDataException($"the record has an encrypted field '{hits[0].Path}' but {(userId is null ? "no" : "an empty")} user id field '{_options.UserIdField}'", hits[0].Path);
        }

        var lookup = _identity is not null && PseudonymousIdentity.IsPseudonym(userId)
            ? await _identity.FindByPseudonymAsync(userId, cancellationToken).ConfigureAwait(false)
            : await _keyRing.FindKeyAsync(userId, cancellationToken).ConfigureAwait(false);
        if (lookup.IsForgotten)
        {
            return new RevealResult(RevealStatus.Redacted, Splice(json.Span, hits, _ => _redacted), userId, hits.Count);
        }

        if (lookup.Key is not { } key)
        {
            throw new DataKeyNotFoundException(userId, hits[0].Path);
        }

        var source = json;
        var context = ContextFor(streamName);
        var output = Splice(json.Span, hits, hit =>
        {
            if (string.IsNullOrEmpty(hit.Path))
            {
                // Encryption never writes a ciphertext under an empty name: this one was copied or altered.
                throw new CiphertextTamperedException(userId, hit.Path, context, "a ciphertext under an empty property name (moved or altered)");
            }

            var binding = new FieldBinding(userId, hit.Path, context);
            return FieldCiphertext.Decrypt(key, binding, source.Span[(hit.Start + 1)..(hit.End - 1)]);
        });
        return new RevealResult(RevealStatus.Decrypted, output, userId, hits.Count);
    }

    // Pseudonymous mode: the user id field gets the pseudonym, the clear id moves into the sealed field (encrypted and
    // bound to the pseudonym like every other field), and the personal fields are encrypted as usual.
    private async ValueTask<ProtectResult> PseudonymizeAsync(ReadOnlyMemory<byte> json, string streamName, List<Hit> hits, CancellationToken cancellationToken)
    {
        var state = new ScanState();
        var userId = Scan(json.Span, _fields, encrypt: true, hits, state);
        if (state.RootEnd < 0 || (hits.Count == 0 && userId is null) || (hits.Count == 0 && PseudonymousIdentity.IsPseudonym(userId)))
        {
            return new ProtectResult(ProtectStatus.NoPersonalData, json, userId, 0);
        }

        if (string.IsNullOrEmpty(userId) || PseudonymousIdentity.IsPseudonym(userId))
        {
            throw new InvalidPersonalDataException(userId is null
                ? $"the record has personal field '{hits[0].Path}' but no user id field '{_options.UserIdField}' (string or number)"
                : $"the record has {(userId.Length == 0 ? "an empty" : "an already pseudonymous")} user id field '{_options.UserIdField}'", hits.Count > 0 ? hits[0].Path : _options.UserIdField);
        }

        UserDataKey key;
        string pseudonym;
        try
        {
            (key, pseudonym) = await _identity!.OpenAsync(userId, cancellationToken).ConfigureAwait(false);
        }
        catch (UserForgottenException) when (_options.ForgottenUserPolicy == ForgottenUserPolicy.Drop)
        {
            _logger.LogInformation("Dropped a record for a forgotten user");
            return new ProtectResult(ProtectStatus.Dropped, ReadOnlyMemory<byte>.Empty, null, 0);
        }
        catch (UserForgottenException ex)
        {
            // The key ring names the key id; the caller gets the user id it asked about.
            throw new UserForgottenException(userId, ex.ForgottenAt);
        }

        var context = ContextFor(streamName);
        var source = json;
        int uidStart = state.UserIdStart, uidEnd = state.UserIdEnd;
        hits.Add(new Hit(uidStart, uidEnd, "\0uid"));
        hits.Add(new Hit(state.RootEnd, state.RootEnd, "\0seal"));
        hits.Sort((a, b) => a.Start.CompareTo(b.Start));
        var output = Splice(json.Span, hits, hit => hit.Path switch
        {
            "\0uid" => Encoding.UTF8.GetBytes("\"" + pseudonym + "\""),
            "\0seal" => Encoding.UTF8.GetBytes(",\"" + JsonEncodedText.Encode(_options.SealedUserIdField) + "\":\""
                + FieldCiphertext.Encrypt(key, new FieldBinding(pseudonym, _options.SealedUserIdField, context), source.Span[uidStart..uidEnd]) + "\""),
            _ => Encoding.UTF8.GetBytes("\"" + FieldCiphertext.Encrypt(key, new FieldBinding(pseudonym, hit.Path, context), source.Span[hit.Start..hit.End]) + "\""),
        });
        return new ProtectResult(ProtectStatus.Encrypted, output, pseudonym, hits.Count - 1);
    }

    private static byte[] BuildEncrypted(ReadOnlySpan<byte> json, List<Hit> hits, UserDataKey key, string stream)
    {
        int size = json.Length;
        foreach (var h in hits)
        {
            size += FieldCiphertext.GetEncryptedLength(h.End - h.Start) + 2 - (h.End - h.Start);
        }

        var output = new byte[size];
        var dest = output.AsSpan();
        int pos = 0, last = 0;
        foreach (var h in hits)
        {
            json[last..h.Start].CopyTo(dest[pos..]);
            pos += h.Start - last;
            dest[pos++] = (byte)'"';
            pos += FieldCiphertext.Encrypt(key, new FieldBinding(key.UserId, h.Path, stream), json[h.Start..h.End], dest[pos..]);
            dest[pos++] = (byte)'"';
            last = h.End;
        }

        json[last..].CopyTo(dest[pos..]);
        return output;
    }

    private static byte[] Splice(ReadOnlySpan<byte> json, List<Hit> hits, Func<Hit, byte[]> replacement)
    {
        var parts = new byte[hits.Count][];
        int size = json.Length;
        for (int i = 0; i < hits.Count; i++)
        {
            parts[i] = replacement(hits[i]);
            size += parts[i].Length - (hits[i].End - hits[i].Start);
        }

        var output = new byte[size];
        int pos = 0, last = 0;
        for (int i = 0; i < hits.Count; i++)
        {
            json[last..hits[i].Start].CopyTo(output.AsSpan(pos));
            pos += hits[i].Start - last;
            parts[i].CopyTo(output, pos);
            pos += parts[i].Length;
            last = hits[i].End;
        }

        json[last..].CopyTo(output.AsSpan(pos));
        return output;
    }

    // One pass over the record: finds the user id and either the configured fields' values (encrypt) or every
    // string value that is a field ciphertext, with its path (decrypt). Arrays are descended into when a [*] path names
    // them (encrypt) and always when decrypting (an element's path is its array's path + "[*]").
    private static string? Scan(ReadOnlySpan<byte> json, FieldNode root, bool encrypt, List<Hit> hits) => Scan(json, root, encrypt, hits, new ScanState());

    private static string? Scan(ReadOnlySpan<byte> json, FieldNode root, bool encrypt, List<Hit> hits, ScanState state)
    {
        if (json.IsEmpty)
        {
            throw new InvalidPersonalDataException("the record is empty, not JSON", null, 0);
        }

        // Utf8JsonReader checks UTF-8 only when a string is transcoded, and then throws InvalidOperationException.
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            long at = FirstInvalidUtf8(json);
            throw new InvalidPersonalDataException($"the record is not UTF-8 JSON: invalid UTF-8 at byte {at}", null, at);
        }

        var reader = new Utf8JsonReader(json, ReaderOptions);
        try
        {
            if (!reader.Read())
            {
                throw new InvalidPersonalDataException("the record is empty, not JSON", null, 0);
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                EnsureEnd(ref reader);
                return null;
            }

            WalkObject(ref reader, root, "", encrypt, hits, state);
            state.RootEnd = (int)reader.TokenStartIndex;
            EnsureEnd(ref reader);
        }
        catch (JsonException ex)
        {
            throw new InvalidPersonalDataException($"malformed JSON: {ex.Message}", null, ex.BytePositionInLine, ex);
        }

        return state.UserId;
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> text)
    {
        int at = 0;
        while (at < text.Length && System.Text.Rune.DecodeFromUtf8(text[at..], out _, out int consumed) == System.Buffers.OperationStatus.Done)
        {
            at += consumed;
        }

        return at;
    }

    private static void EnsureEnd(ref Utf8JsonReader reader)
    {
        if (reader.Read())
        {
            throw new InvalidPersonalDataException("unexpected data after the JSON value", null, reader.TokenStartIndex);
        }
    }

    private static void WalkObject(ref Utf8JsonReader r, FieldNode? node, string prefix, bool encrypt, List<Hit> hits, ScanState state)
    {
        while (r.Read() && r.TokenType != JsonTokenType.EndObject)
        {
            var child = node?.Find(ref r);
            string? path = null;
            if (!encrypt)
            {
                var name = r.GetString();
                path = prefix.Length == 0 ? name : prefix + "." + name;
            }

            r.Read();
            if (child is { IsUserId: true } && r.TokenType is JsonTokenType.String or JsonTokenType.Number)
            {
                state.UserIdStart = (int)r.TokenStartIndex;
                state.UserIdEnd = state.UserIdStart + r.ValueSpan.Length + (r.TokenType == JsonTokenType.String ? 2 : 0);
                state.UserId = r.TokenType == JsonTokenType.String ? r.GetString() : Encoding.UTF8.GetString(r.ValueSpan);
                continue;
            }

            WalkValue(ref r, child, path, encrypt, hits, state);
        }
    }

    // The reader is on a value (start token included); on return it is on the value's last token.
    private static void WalkValue(ref Utf8JsonReader r, FieldNode? node, string? path, bool encrypt, List<Hit> hits, ScanState state)
    {
        int start = (int)r.TokenStartIndex;
        switch (r.TokenType)
        {
            case JsonTokenType.StartObject or JsonTokenType.StartArray when encrypt && node is { IsTarget: true }:
                r.Skip();
                hits.Add(new Hit(start, (int)r.TokenStartIndex + 1, node.Path));
                break;
            case JsonTokenType.StartObject when encrypt ? node is not null : path is not null:
                WalkObject(ref r, node, path ?? "", encrypt, hits, state);
                break;
            case JsonTokenType.StartArray when encrypt ? node?.Elements is not null : path is not null:
                while (r.Read() && r.TokenType != JsonTokenType.EndArray)
                {
                    WalkValue(ref r, node?.Elements, path is null ? null : path + "[*]", encrypt, hits, state);
                }

                break;
            case JsonTokenType.StartObject:
            case JsonTokenType.StartArray:
                r.Skip();
                break;
            case JsonTokenType.String:
                int end = start + r.ValueSpan.Length + 2;
                bool isCipher = !r.ValueIsEscaped && FieldCiphertext.IsCiphertext(r.ValueSpan);
                if (encrypt && node is { IsTarget: true } && !isCipher)
                {
                    hits.Add(new Hit(start, end, node.Path));
                }
                else if (!encrypt && isCipher)
                {
                    hits.Add(new Hit(start, end, path!));
                }

                break;
            case JsonTokenType.Number:
            case JsonTokenType.True:
            case JsonTokenType.False:
                if (encrypt && node is { IsTarget: true })
                {
                    hits.Add(new Hit(start, start + r.ValueSpan.Length, node.Path));
                }

                break;
        }
    }

    private readonly record struct Hit(int Start, int End, string Path);

    private sealed class ScanState
    {
        public string? UserId;
        public int UserIdStart = -1;
        public int UserIdEnd = -1;
        public int RootEnd = -1;
    }

    private sealed class FieldNode
    {
        private readonly List<(byte[] Name, FieldNode Node)> _children = [];

        private FieldNode(string path) => Path = path;

        public string Path { get; }

        /// <summary>The node of this array's elements, when a <c>[*]</c> path descends into it.</summary>
        public FieldNode? Elements { get; private set; }

        public bool IsTarget { get; private set; }

        public bool IsUserId { get; private set; }

        public static FieldNode Build(string userIdField, IEnumerable<string> fields)
        {
            var root = new FieldNode("");
            root.Add(userIdField).IsUserId = true;
            foreach (var f in fields)
            {
                root.Add(f).IsTarget = true;
            }

            return root;
        }

        public FieldNode? Find(ref Utf8JsonReader r)
        {
            foreach (var (name, node) in _children)
            {
                if (r.ValueTextEquals(name))
                {
                    return node;
                }
            }

            return null;
        }

        private FieldNode Add(string path)
        {
            var node = this;
            foreach (var segment in path.Split('.'))
            {
                var (name, arrayDepth) = PersonalDataOptions.ParseSegment(segment);
                var bytes = Encoding.UTF8.GetBytes(name);
                var next = node._children.FirstOrDefault(c => c.Name.AsSpan().SequenceEqual(bytes)).Node;
                if (next is null)
                {
                    next = new FieldNode(node.Path.Length == 0 ? name : node.Path + "." + name);
                    node._children.Add((bytes, next));
                }

                for (int i = 0; i < arrayDepth; i++)
                {
                    next = next.Elements ??= new FieldNode(next.Path + "[*]");
                }

                node = next;
            }

            return node;
        }
    }
}
