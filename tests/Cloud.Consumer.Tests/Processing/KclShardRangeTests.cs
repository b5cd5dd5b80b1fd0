using System.Text;
using Cloud.Records;

namespace Cloud.Consumer.Tests.Processing;

/// <summary>The KCL's whole-aggregate shard-range rule as an opt-in of the batch processor.</summary>
public class KclShardRangeTests
{
    private static byte[] Aggregate(params string[] keys)
    {
        using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = 51_200 });
        foreach (var key in keys)
        {
            Assert.True(builder.TryAdd(key, null, Encoding.UTF8.GetBytes("v-" + key)));
        }
        var bytes = new byte[builder.EncodedSize];
        builder.WriteTo(bytes);
        return bytes;
    }

    [Fact]
    public async Task An_aggregate_with_one_record_outside_the_shard_is_dropped_whole_and_counted()
    {
        // Two keys whose hashes fall in different halves of the hash space.
        var keys = Enumerable.Range(0, 200).Select(i => $"k{i}").ToList();
        UInt128 half = UInt128.MaxValue / 2;
        string low = keys.First(k => PartitionKeyHash.Compute(k) <= half);
        string high = keys.First(k => PartitionKeyHash.Compute(k) > half);
        string low2 = keys.Last(k => PartitionKeyHash.Compute(k) <= half);
        var records = new[]
        {
            TestRecords.Record(0, low, Aggregate(low, low2)),  // all inside [0, half]
            TestRecords.Record(1, low, Aggregate(low, high)),  // one record outside: the KCL drops all of it
            TestRecords.Record(2, high, Encoding.UTF8.GetBytes("plain")), // not aggregated: kept
        };
        var handled = new List<string>();
        var processor = new KinesisBatchProcessor(new KinesisBatchProcessorOptions
        {
            MaxDegreeOfParallelism = 1,
            KclShardRange = shard => shard == "shardId-000000000000" ? (UInt128.Zero, half) : null,
        });
        var result = await processor.ProcessAsync(records, (r, _) => { handled.Add(Encoding.UTF8.GetString(r.Data.Span)); return ValueTask.CompletedTask; });
        Assert.True(result.IsSuccess);
        Assert.Equal(1, result.DroppedByShardRange);
        Assert.Equal(["v-" + low, "v-" + low2, "plain"], handled);

        // Without the option every record is handled.
        var all = new List<string>();
        var plain = await new KinesisBatchProcessor(new KinesisBatchProcessorOptions { MaxDegreeOfParallelism = 1 })
            .ProcessAsync(records, (r, _) => { all.Add(Encoding.UTF8.GetString(r.Data.Span)); return ValueTask.CompletedTask; });
        Assert.Equal(0, plain.DroppedByShardRange);
        Assert.Equal(5, all.Count);
    }
}
