using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Cloud.Producer.Tests;

/// <summary>
/// Pins the exact Kinesis records (aggregate bytes, partition key, explicit hash key) the producer writes for a
/// fixed mix of records in every sizing mode. The digests were taken from the producer's original aggregate encoder
/// before it moved onto <c>Cloud.Records.AggregateBuilder</c>: a change here means the wire bytes changed.
/// Re-pinned once when the tests moved to the shared FakeKinesis, whose even shards split the hash space at
/// multiples of 2^128/N as Kinesis does (the old fake used (2^128-1)/N, which moves the keyless hash keys); with the
/// old boundaries the new producer reproduced the old digests exactly.
/// </summary>
public class AggregateBytesGoldenTests
{
    [Theory]
    [InlineData(AggregationSizeMode.MaxSize, 51_200, "76/65/CAE62FFCA3B019CFC3E212C3092E01D5")]
    [InlineData(AggregationSizeMode.MaxSize, 512, "1333/148/147DF2304686A33842F04ECB43DAEBBB")]
    [InlineData(AggregationSizeMode.FillPayloadUnits, 60_000, "76/65/A4A47BF31A1E2BB26A01030A2567E596")]
    [InlineData(AggregationSizeMode.FillPayloadUnits, 10_000, "142/94/1CB5675D6083AE9D862A594C4966274A")]
    public async Task Aggregate_bytes_are_unchanged(AggregationSizeMode mode, int maxSize, string expected)
    {
        await using var h = new ProducerHarness(4, o =>
        {
            o.AggregationMode = mode;
            o.AggregationMaxSize = maxSize;
        });
        var rng = new Random(7);
        var sends = new List<Task<SendResult>>();
        for (int i = 0; i < 1500; i++)
        {
            int roll = rng.Next(100);
            int length = rng.Next(100) switch
            {
                < 80 => rng.Next(1, 600),
                < 97 => rng.Next(600, 8_000),
                < 99 => 30_000,
                _ => 60_000,
            };
            var data = new byte[length];
            rng.NextBytes(data);
            string ehk = ((UInt128)(ulong)rng.NextInt64() << 64 | (ulong)rng.NextInt64()).ToString(CultureInfo.InvariantCulture);
            (string? pk, string? hk) = roll switch
            {
                < 40 => ($"user-{rng.Next(97)}", null),
                < 50 => ($"ключ-{rng.Next(13)}-键", null),
                < 53 => (string.Concat(Enumerable.Repeat("😀", 130 + rng.Next(3))), null), // 260+ UTF-16 units, 130+ characters
                < 63 => ($"k-{rng.Next(5)}", rng.Next(4) == 0 ? "0" : ehk),
                < 68 => (null, ehk),
                _ => (null, null),
            };
            sends.Add(h.Producer.SendAsync(data, pk, hk).AsTask());
        }
        var flush = h.Producer.FlushAsync();
        await h.DriveAsync(flush, TimeSpan.FromMilliseconds(50));
        await Task.WhenAll(sends).WaitAsync(TimeSpan.FromSeconds(10));

        var stored = h.Client.Snapshot();
        var digests = stored.Select(s =>
        {
            var bytes = Encoding.UTF8.GetBytes($"{s.PartitionKey}\0{s.ExplicitHashKey ?? "-"}\0").Concat(s.Data).ToArray();
            return Convert.ToHexString(SHA256.HashData(bytes));
        }).Order(StringComparer.Ordinal);
        string actual = Convert.ToHexString(SHA256.HashData(Encoding.ASCII.GetBytes(string.Join('\n', digests))))[..32];
        int aggregated = stored.Count(s => s.Data.Length > 4 && s.Data[0] == 0xF3);
        Assert.True(aggregated > 10, $"expected aggregates, got {aggregated} of {stored.Count} Kinesis records");
        Assert.Equal(expected, $"{stored.Count}/{aggregated}/{actual}");
    }
}
