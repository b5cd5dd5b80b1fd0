using System.Security.Cryptography;
using System.Text;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Kinesis;
using Cloud.Testing;
using Record = Amazon.Kinesis.Model.Record;

namespace Cloud.IntegrationTests.Kinesis;

/// <summary>Client and stream helpers for the Kinesis integration tests (AWS's own client against the emulator).</summary>
internal static class KinesisTestSupport
{
    /// <summary>AWS's client for the fixture; more SDK retries: kinesis-local answers LimitExceededException to bursts of control-plane calls.</summary>
    public static AmazonKinesisClient CreateClient(EmulatorFixture fixture) => fixture.CreateKinesisClient(o => o.MaxErrorRetry = 8);

    /// <summary>The bytes as the SDK's record data.</summary>
    public static MemoryStream Bytes(byte[] data) => new(data, writable: false);

    /// <summary>The bytes of UTF-8 text as the SDK's record data.</summary>
    public static MemoryStream Bytes(string text) => new(Encoding.UTF8.GetBytes(text), writable: false);

    /// <summary>The UTF-8 text of a record's data.</summary>
    public static string Text(Record record) => Encoding.UTF8.GetString(record.Data.ToArray());

    public static async Task<StreamDescriptionSummary> CreateActiveStreamAsync(IAmazonKinesis client, string name, int? shards = 1, StreamModeDetails? mode = null)
    {
        await client.CreateStreamAsync(new CreateStreamRequest { StreamName = name, ShardCount = shards, StreamModeDetails = mode });
        return await client.WaitForStreamActiveAsync(name, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
    }

    public static async Task DeleteQuietlyAsync(IAmazonKinesis client, string name)
    {
        try
        {
            await client.DeleteStreamAsync(new DeleteStreamRequest { StreamName = name, EnforceConsumerDeletion = true });
        }
        catch (ResourceNotFoundException)
        {
        }
    }

    /// <summary>Reads a shard from TRIM_HORIZON until an empty page (bounded).</summary>
    public static async Task<List<Record>> ReadAllAsync(IAmazonKinesis client, string stream, string shardId)
    {
        var iterator = (await client.GetShardIteratorAsync(new GetShardIteratorRequest
        {
            StreamName = stream, ShardId = shardId, ShardIteratorType = ShardIteratorType.TRIM_HORIZON,
        })).ShardIterator;
        var records = new List<Record>();
        for (var i = 0; i < 50 && iterator is not null; i++)
        {
            var page = await client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator });
            records.AddRange(page.Records);
            if (page.Records.Count == 0)
            {
                break;
            }

            iterator = page.NextShardIterator;
        }

        return records;
    }

    /// <summary>MD5 of the partition key as an unsigned 128-bit big-endian integer: the shard-selection hash.</summary>
    public static UInt128 HashOf(string partitionKey)
    {
#pragma warning disable CA5351 // MD5 is how Kinesis maps partition keys to hash keys, not a security use
        var md5 = MD5.HashData(Encoding.UTF8.GetBytes(partitionKey));
#pragma warning restore CA5351
        return new UInt128(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(md5), System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(md5.AsSpan(8)));
    }

    public static bool Contains(Shard shard, UInt128 hash) =>
        UInt128.Parse(shard.HashKeyRange.StartingHashKey, System.Globalization.CultureInfo.InvariantCulture) <= hash
        && hash <= UInt128.Parse(shard.HashKeyRange.EndingHashKey, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// A shard iterator exactly as kinesis-mock (and kinesalite, whose scheme it copies) mints one, but dated
    /// six minutes ago: AES-256-CBC over "time/stream/shard/sequence/padding" behind an 8-byte header
    /// (kinesis-mock src/main/scala/kinesis/mock/models/ShardIterator.scala, v0.6.2). The service must answer
    /// ExpiredIteratorException. Only meaningful for kinesis-mock and kinesalite; AWS iterators are opaque.
    /// </summary>
    public static string ExpiredEmulatorIterator(string stream, string shardId, string sequenceNumber, DateTimeOffset now)
    {
        var minted = now.AddMinutes(-6).ToUnixTimeMilliseconds().ToString("D14", System.Globalization.CultureInfo.InvariantCulture);
        var plain = $"{minted}/{stream}/{shardId}/{sequenceNumber}/{new string('0', 37)}";
        using var aes = Aes.Create();
        aes.Key = Convert.FromHexString("1133a5a833666b49abf28c8ba302930f0b2fb240dccd43cf4dfbc0ca91f17751");
        var cipher = aes.EncryptCbc(Encoding.UTF8.GetBytes(plain), Convert.FromHexString("7bf139dbabbea2d9995d6fcae1dff7da"));
        return Convert.ToBase64String([0, 0, 0, 0, 0, 0, 0, 1, .. cipher]);
    }
}
