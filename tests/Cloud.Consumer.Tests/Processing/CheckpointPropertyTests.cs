using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using CsCheck;

namespace Cloud.Consumer.Tests.Processing;

/// <summary>
/// Lambda checkpoints before the lowest reported sequence number and retries from it. For any batch and any
/// set of failing records the processor must report exactly that lowest failed record, every record before it
/// must have been fully handled (no success before the checkpoint is lost), and no key may run a record after
/// one of its records failed.
/// </summary>
public class CheckpointPropertyTests
{
    [Fact]
    public void Reported_item_is_the_lowest_failed_parent_and_everything_before_it_succeeded()
    {
        var gen =
            from n in Gen.Int[1, 40]
            from keys in Gen.Int[0, 5].Array[n]
            from fails in Gen.Int[0, 9].Array[n] // 0 = fail (about 10 %)
            from degree in Gen.Int[1, 6]
            select (n, keys, fails, degree);

        gen.Sample(t =>
        {
            var (n, keys, fails, degree) = t;
            var records = Enumerable.Range(0, n).Select(i => TestRecords.Record(i, "k" + keys[i], i.ToString(CultureInfo.InvariantCulture))).ToList();
            var handled = new ConcurrentDictionary<int, bool>();
            var failedKeys = new ConcurrentDictionary<string, int>();
            bool orderViolated = false;
            var processor = new KinesisBatchProcessor(new KinesisBatchProcessorOptions { MaxDegreeOfParallelism = degree });
            var result = processor.ProcessAsync(records, (r, _) =>
            {
                int i = int.Parse(Encoding.UTF8.GetString(r.Data.Span), CultureInfo.InvariantCulture);
                if (failedKeys.ContainsKey(r.PartitionKey))
                {
                    orderViolated = true;
                }

                if (fails[i] == 0)
                {
                    failedKeys[r.PartitionKey] = i;
                    throw new InvalidOperationException("fail " + i);
                }

                handled[i] = true;
                return ValueTask.CompletedTask;
            }).GetAwaiter().GetResult();

            Assert.False(orderViolated);
            int lowestFailing = Array.IndexOf(fails, 0);
            if (lowestFailing < 0)
            {
                Assert.Empty(result.Response.BatchItemFailures);
                Assert.Equal(n, handled.Count);
                return;
            }

            Assert.Equal([TestRecords.Seq(lowestFailing)], result.Response.BatchItemFailures.Select(f => f.ItemIdentifier));
            for (int i = 0; i < lowestFailing; i++)
            {
                Assert.True(handled.ContainsKey(i), $"record {i} before the checkpoint was not handled");
            }
        }, iter: 2000);
    }
}
