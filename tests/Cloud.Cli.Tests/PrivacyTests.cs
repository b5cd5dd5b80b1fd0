using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cloud.Cli.Infrastructure;
using Cloud.Cli.Tests.Infrastructure;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Privacy;
using Cloud.Testing;

namespace Cloud.Cli.Tests;

/// <summary>
/// <c>produce --user-field --encrypt-fields</c>, <c>consume</c> (decrypts), and <c>forget USER</c>: after it, only that
/// user's personal fields read as redacted. Keys are wrapped by a local master key file (<c>--master-key-file</c>).
/// </summary>
[Collection(CliCollection.Name)]
public sealed class PrivacyTests(EmulatorFixture fixture) : IDisposable
{
    private readonly CliSandbox _sandbox = new(fixture);

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Encrypted_fields_round_trip_and_forget_redacts_only_that_user()
    {
        var stream = await _sandbox.CreateStreamAsync("cli-gdpr", 2);
        // The key table is shared by the whole run: user ids are unique to this test.
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var alice = "alice-" + suffix;
        var bob = "bob-" + suffix;
        var masterKey = Path.Combine(_sandbox.Directory, "keys", "master.key");
        var lines = Enumerable.Range(0, 8).Select(i =>
        {
            var user = i % 2 == 0 ? alice : bob;
            return JsonSerializer.Serialize(new { userId = user, email = $"{user}-{i}@example.com", name = $"Name {user}", n = i, page = "/checkout" });
        }).ToList();
        string[] keyOptions = ["--master-key-file", masterKey];

        var produced = await _sandbox.OnEmulatorsWithInputAsync(string.Join('\n', lines) + "\n", ["produce", stream, "--key-field", "userId", "--user-field", "userId", "--encrypt-fields", "email,name", "--json", .. keyOptions]);

        CliAssert.Succeeded(produced);
        Assert.Equal(8, produced.Json().GetProperty("durable").GetInt64());
        Assert.True(File.Exists(masterKey), "local mode creates the master key file where --master-key-file says");

        // On the stream itself no personal value appears in clear.
        var raw = await RawBytesAsync(stream);
        Assert.DoesNotContain("@example.com", raw);
        Assert.DoesNotContain("Name alice", raw);

        var decrypted = await _sandbox.OnEmulatorsAsync(["consume", stream, "--max", "8", .. keyOptions]);
        CliAssert.Succeeded(decrypted);
        Assert.Equal(lines.Order(StringComparer.Ordinal), Data(decrypted).Order(StringComparer.Ordinal));

        var encrypted = await _sandbox.OnEmulatorsAsync("consume", stream, "--max", "8", "--no-decrypt");
        CliAssert.Succeeded(encrypted);
        foreach (var record in Data(encrypted).Select(d => JsonNode.Parse(d)!.AsObject()))
        {
            Assert.StartsWith("pdenc1:", record["email"]!.GetValue<string>());
            Assert.StartsWith("pdenc1:", record["name"]!.GetValue<string>());
            Assert.Equal("/checkout", record["page"]!.GetValue<string>());
        }

        var forgotten = await _sandbox.OnEmulatorsAsync(["forget", alice, "--json", .. keyOptions]);
        CliAssert.Succeeded(forgotten);
        Assert.Equal(alice, forgotten.Json().GetProperty("userId").GetString());
        Assert.Equal("KeyDestroyed", forgotten.Json().GetProperty("outcome").GetString());

        var after = await _sandbox.OnEmulatorsAsync(["consume", stream, "--max", "8", .. keyOptions]);
        CliAssert.Succeeded(after);
        var byOriginal = lines.ToDictionary(l => JsonNode.Parse(l)!["n"]!.GetValue<int>(), l => JsonNode.Parse(l)!.AsObject());
        var records = Data(after).Select(d => JsonNode.Parse(d)!.AsObject()).ToList();
        Assert.Equal(8, records.Count);
        foreach (var record in records)
        {
            var original = byOriginal[record["n"]!.GetValue<int>()];
            Assert.Equal(original["userId"]!.GetValue<string>(), record["userId"]!.GetValue<string>());
            Assert.Equal("/checkout", record["page"]!.GetValue<string>());
            if (record["userId"]!.GetValue<string>() == alice)
            {
                Assert.Equal(PersonalDataOptions.DefaultRedactedMarker, record["email"]!.GetValue<string>());
                Assert.Equal(PersonalDataOptions.DefaultRedactedMarker, record["name"]!.GetValue<string>());
            }
            else
            {
                Assert.Equal(original["email"]!.GetValue<string>(), record["email"]!.GetValue<string>());
                Assert.Equal(original["name"]!.GetValue<string>(), record["name"]!.GetValue<string>());
            }
        }
    }

    [Fact]
    public async Task Records_that_cannot_be_decrypted_are_printed_encrypted_and_reported()
    {
        var stream = await _sandbox.CreateStreamAsync("cli-wrongkey", 1);
        var user = "carol-" + Guid.NewGuid().ToString("N")[..8];
        var line = JsonSerializer.Serialize(new { userId = user, email = "carol@example.com", n = 1 });
        var produced = await _sandbox.OnEmulatorsWithInputAsync(line + "\n", "produce", stream, "--user-field", "userId", "--encrypt-fields", "email", "--master-key-file", Path.Combine(_sandbox.Directory, "right.key"));
        CliAssert.Succeeded(produced);

        // Another master key cannot unwrap the user's data key.
        var result = await _sandbox.OnEmulatorsAsync("consume", stream, "--max", "1", "--master-key-file", Path.Combine(_sandbox.Directory, "wrong.key"));

        CliAssert.Failed(result, ExitCodes.InvalidInput, "printed encrypted");
        var record = JsonNode.Parse(Data(result).Single())!.AsObject();
        Assert.StartsWith("pdenc1:", record["email"]!.GetValue<string>());
        Assert.Equal(user, record["userId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Encrypting_a_line_without_a_user_id_rejects_that_line_only()
    {
        var stream = await _sandbox.CreateStreamAsync("cli-nouser", 1);
        var user = "dave-" + Guid.NewGuid().ToString("N")[..8];
        var good = JsonSerializer.Serialize(new { userId = user, email = "dave@example.com" });
        var input = string.Join('\n', good, "{\"email\":\"anon@example.com\"}", good, "{\"userId\":\"\",\"email\":\"empty@example.com\"}", good) + "\n";

        var produced = await _sandbox.OnEmulatorsWithInputAsync(input, "produce", stream, "--user-field", "userId", "--encrypt-fields", "email", "--json");

        CliAssert.Failed(produced, ExitCodes.InvalidInput, "record 2", "no user id", "record 4", "empty user id");
        Assert.Equal(3, produced.Json().GetProperty("durable").GetInt64());
        Assert.Equal(2, produced.Json().GetProperty("rejected").GetInt64());
        Assert.DoesNotContain("anon@example.com", produced.Stderr);
        Assert.DoesNotContain("empty@example.com", produced.Stderr);
        var consumed = await _sandbox.OnEmulatorsAsync("consume", stream, "--idle-timeout", "1");
        Assert.Equal(3, consumed.StdoutLines.Count);
    }

    private static List<string> Data(CliResult result) =>
        result.JsonLines().Select(r => Encoding.UTF8.GetString(r.GetProperty("data").GetBytesFromBase64())).ToList();

    private async Task<string> RawBytesAsync(string stream)
    {
        using var kinesis = fixture.CreateKinesisClient();
        var text = new StringBuilder();
        foreach (var shard in (await kinesis.ListShardsAsync(new ListShardsRequest { StreamName = stream })).Shards)
        {
            var iterator = (await kinesis.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = stream, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.TRIM_HORIZON })).ShardIterator;
            var page = await kinesis.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator!, Limit = 1000 });
            foreach (var record in page.Records)
            {
                text.Append(Encoding.Latin1.GetString(record.Data.ToArray())).Append('\n');
            }
        }

        return text.ToString();
    }
}
