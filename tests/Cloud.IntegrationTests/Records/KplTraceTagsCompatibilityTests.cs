using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Cloud.Emulators;
using Cloud.Records;

namespace Cloud.IntegrationTests.Records;

/// <summary>
/// Records carrying trace context in KPL per-record tags still deaggregate in aws-kinesis-agg 4.2.8 (awslabs,
/// Node), which knows nothing of the tags: data, keys and sub-sequence numbers come out as without tags.
/// </summary>
public class KplTraceTagsCompatibilityTests
{
    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "Records", "node", "kinesis-agg-compat.js");

    [Fact]
    public async Task Aws_kinesis_agg_deaggregates_records_that_carry_trace_tags()
    {
        var random = new Random(41);
        var users = new List<(string Key, byte[] Data, ActivityContext Context)>();
        for (int i = 0; i < 1_500; i++)
        {
            var data = new byte[random.Next(1, 400)];
            random.NextBytes(data);
            var context = i % 4 == 3
                ? default // some records untraced, in the same aggregates
                : new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, i % 2 == 0 ? "vendor=x" : null);
            users.Add(("device/" + random.Next(100).ToString(CultureInfo.InvariantCulture), data, context));
        }

        var kinesisRecords = new List<(string Key, byte[] Data, string Seq)>();
        using (var builder = new AggregateBuilder())
        {
            void Flush()
            {
                kinesisRecords.Add((builder.PartitionKey!, builder.ToArray(), (70_000 + kinesisRecords.Count).ToString(CultureInfo.InvariantCulture)));
                builder.Reset();
            }
            foreach (var u in users)
            {
                var tags = KplTraceTags.Create(u.Context);
                if (!builder.TryAdd(u.Key, null, u.Data, tags))
                {
                    Flush();
                    Assert.True(builder.TryAdd(u.Key, null, u.Data, tags));
                }
            }
            Flush();
        }
        Assert.True(kinesisRecords.Count > 1);

        var input = new JsonArray(kinesisRecords.Select(r => (JsonNode)new JsonObject
        {
            ["partitionKey"] = r.Key,
            ["sequenceNumber"] = r.Seq,
            ["data"] = Convert.ToBase64String(r.Data),
        }).ToArray());
        var tools = await NodeTools.EnsureAsync();
        var result = await tools.RunScriptAsync(Script, new NodeRunOptions
        {
            Arguments = ["deaggregate"],
            StandardInput = input.ToJsonString(),
            Timeout = TimeSpan.FromMinutes(2),
        });
        result.EnsureSuccess();
        var output = JsonNode.Parse(result.StandardOutput)!.AsArray();

        Assert.Equal(kinesisRecords.Count, output.Count);
        int next = 0;
        for (int i = 0; i < output.Count; i++)
        {
            var node = output[i]!.AsObject();
            Assert.False(node.ContainsKey("error"), node["error"]?.ToString());
            var records = node["records"]!.AsArray();
            var contexts = KplTraceTags.ReadContexts(kinesisRecords[i].Data);
            Assert.Equal(records.Count, contexts.Length);
            for (int j = 0; j < records.Count; j++, next++)
            {
                var r = records[j]!;
                Assert.Equal(users[next].Key, (string)r["partitionKey"]!);
                Assert.Equal(users[next].Data, Convert.FromBase64String((string)r["data"]!));
                Assert.Equal(j, (int)r["subSequenceNumber"]!);
                // And our side still finds the trace context the Node library skipped.
                Assert.Equal(users[next].Context.TraceId, contexts[j].TraceId);
            }
        }
        Assert.Equal(users.Count, next);
    }
}
