using System.Globalization;
using System.Text.Json;
using Cloud.DataGenerator;
using Cloud.Records;

namespace Cloud.Benchmarks.Records;

/// <summary>Deterministic inputs shared by the records benchmarks and the Node comparison script.</summary>
internal static class RecordsBenchData
{
    public const int RecordCount = 20_000;
    public const int RecordSize = 200;

    /// <summary>20,000 user records of 200 random bytes, each with a random UUID partition key (seeded).</summary>
    public static (string[] Keys, byte[][] Data) UserRecords(int count = RecordCount, int size = RecordSize, int seed = 42)
    {
        var random = new Random(seed);
        var keys = new string[count];
        var data = new byte[count][];
        Span<byte> guid = stackalloc byte[16];
        for (int i = 0; i < count; i++)
        {
            random.NextBytes(guid);
            keys[i] = new Guid(guid).ToString();
            data[i] = new byte[size];
            random.NextBytes(data[i]);
        }
        return (keys, data);
    }

    /// <summary>Aggregates records with the given options; returns each aggregate with its outer partition key.</summary>
    public static List<(string Key, byte[] Aggregate, int Count)> Aggregate(string[] keys, byte[][] data, AggregateBuilderOptions options)
    {
        var result = new List<(string, byte[], int)>();
        using var builder = new AggregateBuilder(options);
        for (int i = 0; i < keys.Length; i++)
        {
            if (!builder.TryAdd(keys[i], null, data[i]))
            {
                result.Add((builder.PartitionKey!, builder.ToArray(), builder.Count));
                builder.Reset();
                builder.TryAdd(keys[i], null, data[i]);
            }
        }
        if (builder.Count > 0)
        {
            result.Add((builder.PartitionKey!, builder.ToArray(), builder.Count));
        }
        return result;
    }

    /// <summary>Realistic clickstream JSON events from Cloud.DataGenerator (seeded).</summary>
    public static List<GeneratedEvent> JsonEvents(int count, int seed = 7) =>
        new EventGenerator(new GeneratorOptions { Seed = seed }).Take(count).ToList();

    /// <summary>Writes the user records as JSON (key + base64 data) for bench/node/records/kinesis-agg-bench.js.</summary>
    public static void WriteForNode(string path, string[] keys, byte[][] data)
    {
        using var stream = File.Create(path);
        using var writer = new Utf8JsonWriter(stream);
        writer.WriteStartArray();
        for (int i = 0; i < keys.Length; i++)
        {
            writer.WriteStartObject();
            writer.WriteString("partitionKey", keys[i]);
            writer.WriteBase64String("data", data[i]);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    public static string Format(double value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
