using System.Text;
using System.Text.Json;
using Cloud.Cli.Infrastructure;
using Cloud.Cli.Tests.Infrastructure;

namespace Cloud.Cli.Tests;

/// <summary>
/// <c>cloud records encode|decode</c>. Contract: encode reads JSON lines <c>{"partitionKey","explicitHashKey"?,"data":base64}</c>
/// and writes Kinesis records in the same shape (data = a KPL aggregate, optionally in a compressed frame);
/// decode reverses it.
/// </summary>
public sealed class RecordsTests : IDisposable
{
    // docs/records.md: KPL aggregate magic, and this project's compressed-frame magic + codec id at byte 5.
    private static readonly byte[] KplMagic = [0xF3, 0x89, 0x9A, 0xC2];
    private static readonly byte[] FrameMagic = [0xC1, 0x4B, 0x43, 0x46];

    private readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    public sealed record Input(string PartitionKey, string? ExplicitHashKey, byte[] Data);

    [Fact]
    public async Task Encode_then_decode_round_trips_keys_hash_keys_and_bytes_in_order()
    {
        var inputs = Inputs(40);

        var encoded = await _sandbox.RunWithInputAsync(ToLines(inputs), "records", "encode");

        CliAssert.Succeeded(encoded);
        var records = encoded.JsonLines();
        Assert.NotEmpty(records);
        Assert.True(records.Count < inputs.Count, "small records are aggregated");
        foreach (var record in records)
        {
            // Same shape as the input: partitionKey, optional explicitHashKey, base64 data; nothing else.
            Assert.All(record.EnumerateObject(), p => Assert.Contains(p.Name, new[] { "partitionKey", "explicitHashKey", "data" }));
            Assert.Equal(KplMagic, Convert.FromBase64String(record.GetProperty("data").GetString()!)[..4]);
        }

        var decoded = await _sandbox.RunWithInputAsync(encoded.Stdout, "records", "decode");

        CliAssert.Succeeded(decoded);
        AssertSameRecords(inputs, decoded.JsonLines());
    }

    [Theory]
    [InlineData("gzip", 0x01)]
    [InlineData("zstd", 0x02)]
    [InlineData("lz4", 0x03)]
    [InlineData("snappy", 0x04)]
    public async Task Encode_with_compression_writes_compressed_frames_that_decode_back(string codec, byte codecId)
    {
        var inputs = Inputs(30);

        var encoded = await _sandbox.RunWithInputAsync(ToLines(inputs), "records", "encode", "--compress", codec);

        CliAssert.Succeeded(encoded);
        foreach (var record in encoded.JsonLines())
        {
            var data = Convert.FromBase64String(record.GetProperty("data").GetString()!);
            Assert.Equal(FrameMagic, data[..4]);
            Assert.Equal(codecId, data[5]);
        }

        var decoded = await _sandbox.RunWithInputAsync(encoded.Stdout, "records", "decode");

        CliAssert.Succeeded(decoded);
        AssertSameRecords(inputs, decoded.JsonLines());
    }

    [Fact]
    public async Task A_small_max_size_splits_into_several_aggregates_without_losing_records()
    {
        var inputs = Inputs(60);

        var encoded = await _sandbox.RunWithInputAsync(ToLines(inputs), "records", "encode", "--max-size", "600");
        var decoded = await _sandbox.RunWithInputAsync(encoded.Stdout, "records", "decode");

        CliAssert.Succeeded(encoded);
        Assert.True(encoded.StdoutLines.Count > 3, $"expected several aggregates of at most 600 bytes, got {encoded.StdoutLines.Count}");
        Assert.All(encoded.JsonLines(), r => Assert.True(Convert.FromBase64String(r.GetProperty("data").GetString()!).Length <= 600));
        CliAssert.Succeeded(decoded);
        AssertSameRecords(inputs, decoded.JsonLines());
    }

    [Fact]
    public async Task Decode_passes_a_plain_record_through_unchanged()
    {
        var plain = "{\"partitionKey\":\"k\",\"data\":\"" + Convert.ToBase64String("not an aggregate"u8.ToArray()) + "\",\"sequenceNumber\":\"123\"}\n";

        var result = await _sandbox.RunWithInputAsync(plain, "records", "decode");

        CliAssert.Succeeded(result);
        var record = result.Json();
        Assert.Equal("k", record.GetProperty("partitionKey").GetString());
        Assert.Equal("not an aggregate", Encoding.UTF8.GetString(record.GetProperty("data").GetBytesFromBase64()));
        Assert.Equal("123", record.GetProperty("sequenceNumber").GetString());
        Assert.Equal(0, record.GetProperty("subSequenceNumber").GetInt64());
    }

    [Fact]
    public async Task A_decompression_bomb_fails_its_line_under_a_512_MiB_heap_and_the_lines_after_it_still_decode()
    {
        // Issue 12: one ~36 KB aggregate of 100 zstd frames, each declaring 10 MiB (each under the per-frame limit).
        // Before the per-record bound the tool allocated ~1 GB for it and died with "Out of memory" (exit 134).
        byte[] frame = Cloud.Records.CompressedFrame.Encode(new byte[Cloud.Records.CompressedFrame.DefaultMaxDecompressedSize], Cloud.Records.CompressionCodec.Zstd);
        using var builder = new Cloud.Records.AggregateBuilder(new Cloud.Records.AggregateBuilderOptions { MaxAggregateSize = Cloud.Records.KplFormat.MaxKinesisRecordSize });
        for (int i = 0; i < 100; i++)
        {
            Assert.True(builder.TryAdd("bomb", null, frame));
        }

        var good = Inputs(2);
        var lines = new[]
        {
            Line(good[0]),
            Line(new Input("bomb", null, builder.ToArray())),
            Line(good[1]),
        };
        _sandbox.Cli.SetEnvironment("DOTNET_GCHeapHardLimit", "0x20000000"); // 512 MiB

        var result = await _sandbox.RunWithInputAsync(string.Join('\n', lines) + "\n", "records", "decode");

        CliAssert.Failed(result, ExitCodes.InvalidInput, "line 2", "per Kinesis record", "1 input line(s) rejected");
        AssertSameRecords(good, result.JsonLines());
    }

    [Theory]
    [InlineData("encode")]
    [InlineData("decode")]
    public async Task Malformed_lines_are_rejected_by_line_number_and_the_others_still_processed(string verb)
    {
        var good = Inputs(3);
        var lines = new[]
        {
            Line(good[0]),
            "{\"partitionKey\":\"a\",\"data\":\"%%%not-base64\"}",
            "this is not json",
            Line(good[1]),
            "{\"data\":\"aGk=\"}",
            "{\"partitionKey\":\"b\",\"explicitHashKey\":\"-1\",\"data\":\"aGk=\"}",
            Line(good[2]),
        };

        var result = await _sandbox.RunWithInputAsync(string.Join('\n', lines) + "\n", "records", verb);

        CliAssert.Failed(result, ExitCodes.InvalidInput, "line 2", "line 3", "line 5", "line 6", "4 input line(s) rejected");
        Assert.DoesNotContain("line 1:", result.Stderr);
        Assert.DoesNotContain("line 4:", result.Stderr);
        Assert.DoesNotContain("line 7:", result.Stderr);
        // The JSON parser's own position ("LineNumber: 0") contradicts the real line number: it is not shown.
        Assert.DoesNotContain("LineNumber", result.Stderr);

        var survivors = verb == "encode"
            ? (await _sandbox.RunWithInputAsync(result.Stdout, "records", "decode")).JsonLines()
            : result.JsonLines();
        AssertSameRecords(good, survivors);
    }

    private static List<Input> Inputs(int count) => Enumerable.Range(0, count).Select(i => new Input(
        $"key-{i % 7}",
        i % 5 == 0 ? (BigIntegerPow2(127) + i).ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
        Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { i, text = $"record {i} ✓ ünïcødé", pad = new string('x', i % 13) })))).ToList();

    private static System.Numerics.BigInteger BigIntegerPow2(int exponent) => System.Numerics.BigInteger.Pow(2, exponent);

    private static string Line(Input input) => JsonSerializer.Serialize(new Dictionary<string, string?>
    {
        ["partitionKey"] = input.PartitionKey,
        ["explicitHashKey"] = input.ExplicitHashKey,
        ["data"] = Convert.ToBase64String(input.Data),
    });

    private static string ToLines(IEnumerable<Input> inputs) => string.Join('\n', inputs.Select(Line)) + "\n";

    private static void AssertSameRecords(IReadOnlyList<Input> expected, IReadOnlyList<JsonElement> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].PartitionKey, actual[i].GetProperty("partitionKey").GetString());
            Assert.Equal(expected[i].ExplicitHashKey, actual[i].TryGetProperty("explicitHashKey", out var h) ? h.GetString() : null);
            Assert.Equal(expected[i].Data, actual[i].GetProperty("data").GetBytesFromBase64());
        }
    }
}
