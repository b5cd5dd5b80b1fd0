using System.Globalization;
using System.Numerics;
using System.Text;
using CsCheck;

namespace Cloud.EventSourceMapping.Tests;

public class FunctionResponseTests
{
    private static List<StreamRecord> Batch(int n) =>
        [.. Enumerable.Range(0, n).Select(i => new StreamRecord(
            (BigInteger.Parse("49600000000000000000000000000000000000000000000000000000", CultureInfo.InvariantCulture) + (i * 7)).ToString(CultureInfo.InvariantCulture),
            "k",
            Array.Empty<byte>(),
            DateTimeOffset.UnixEpoch))];

    private static FunctionResponse Parse(string body, bool report = true, bool windowed = false, int n = 5) =>
        FunctionResponse.Parse(Encoding.UTF8.GetBytes(body), Batch(n), report, windowed);

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("""{"batchItemFailures":[]}""")]
    [InlineData("""{"batchItemFailures":null}""")]
    [InlineData("\"ok\"")]
    public void Empty_or_null_failure_list_is_success(string body) =>
        Assert.Equal(InvokeOutcome.Success, Parse(body).Outcome);

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("""{"batchItemFailures":[{"itemIdentifier":""}]}""", "itemIdentifier")]
    [InlineData("""{"batchItemFailures":[{"itemIdentifier":null}]}""", "itemIdentifier")]
    [InlineData("""{"batchItemFailures":[{"itemId":"1"}]}""", "itemIdentifier")]
    [InlineData("""{"batchItemFailures":[{"itemIdentifier":"123"}]}""", "not a sequence number of this batch")]
    [InlineData("""{"batchItemFailures":"x"}""", "not an array")]
    public void Invalid_responses_fail_the_whole_batch(string body, string reason)
    {
        var response = Parse(body);
        Assert.Equal(InvokeOutcome.BatchFailure, response.Outcome);
        Assert.Contains(reason, response.Error, StringComparison.Ordinal);
        Assert.False(response.FunctionError);
    }

    [Fact]
    public void Without_ReportBatchItemFailures_the_body_is_ignored() =>
        Assert.Equal(InvokeOutcome.Success, Parse("{not json", report: false).Outcome);

    [Fact]
    public void Window_response_without_state_is_a_failure()
    {
        Assert.Equal(InvokeOutcome.BatchFailure, Parse("{}", report: false, windowed: true).Outcome);
        Assert.Equal(InvokeOutcome.BatchFailure, Parse("", report: false, windowed: true).Outcome);
        var ok = Parse("""{"state":{"a":"1"}}""", report: false, windowed: true);
        Assert.Equal(InvokeOutcome.Success, ok.Outcome);
        Assert.Equal("""{"a":"1"}""", ok.StateJson);
    }

    [Fact]
    public void Checkpoint_rule_picks_the_lowest_failed_sequence_number_for_any_failure_set()
    {
        // Property: whatever subset fails, in whatever order it is listed, the retry starts at the lowest index.
        Gen.Int[1, 60].SelectMany(n => Gen.Int[0, n - 1].List[1, n].Select(l => (n, l))).Sample(t =>
        {
            var (n, failed) = t;
            var batch = Batch(n);
            var body = "{\"batchItemFailures\":[" + string.Join(",", failed.Select(i => $"{{\"itemIdentifier\":\"{batch[i].SequenceNumber}\"}}")) + "]}";
            var response = FunctionResponse.Parse(Encoding.UTF8.GetBytes(body), batch, true, false);
            return response.Outcome == InvokeOutcome.PartialFailure && response.FirstFailedIndex == failed.Min();
        }, iter: 10_000);
    }
}
