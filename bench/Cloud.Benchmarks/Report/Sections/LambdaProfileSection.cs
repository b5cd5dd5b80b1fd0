using System.Text.Json;
using Cloud.Benchmarks.Consumer;
using Cloud.Consumer.Events;
using Cloud.Functions.Aggregator;

namespace Cloud.Benchmarks.Report.Sections;

/// <summary>
/// Where the Aggregator handler's time goes, as a sampled profile shows it: the full handler (event JSON in, response
/// out) looped under an EventPipe session on this process (<see cref="EventPipeProfiler"/>), top frames by self and
/// by total share of the samples, for KPL+zstd and raw JSON events.
/// </summary>
internal sealed class LambdaProfileSection : IReportSection
{
    public string Id => "profile";

    public int Order => 31;

    public string Title => "Where the Lambda's time goes: a sampled profile of the Aggregator handler";

    public Task<SectionResult> RunAsync(ReportContext context, CancellationToken cancellationToken)
    {
        var duration = context.Scale(TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(2));
        var config = new AggregatorConfig { TableName = "bench", SumFields = ["amount", "durationMs"], TopKField = "page" };
        var text = new System.Text.StringBuilder();
        var headlines = new List<Headline>();
        foreach (var (name, packing) in new[] { ("KPL + zstd", ConsumerBenchData.Packing.AggregatedZstd), ("raw JSON (one Kinesis record per event)", ConsumerBenchData.Packing.Raw) })
        {
            cancellationToken.ThrowIfCancellationRequested();
            KinesisTimeWindowEvent evt = ConsumerBenchData.WindowEvent(20_000, packing);
            byte[] eventJson = JsonSerializer.SerializeToUtf8Bytes(evt, KinesisEventsJsonContext.Default.KinesisTimeWindowEvent);
            using var function = new Function(config, new NullAggregateSink());

            void Handle()
            {
                using var input = new MemoryStream(eventJson, writable: false);
                using Stream output = function.FunctionHandler(input).GetAwaiter().GetResult();
            }

            for (int i = 0; i < 20; i++)
            {
                Handle(); // tiered JIT to its optimised code before sampling
            }

            var profile = EventPipeProfiler.Run(Handle, duration, context.PathOf(".tmp", "profile"));
            ReportContext.Log($"profile: {name}: {profile.Samples:N0} samples");
            text.AppendLine(Markdown.F($"#### {name}: {profile.Samples:N0} samples"));
            text.AppendLine();
            text.AppendLine(Markdown.Table(["top frames by self time", "self", "total"],
                profile.TopSelf.Select(f => (IReadOnlyList<string>)[Code(f.Method), Markdown.Percent(f.SelfShare), Markdown.Percent(f.TotalShare)])));
            text.AppendLine(Markdown.Table(["top frames by total time (self + callees)", "total", "self"],
                profile.TopTotal.Where(f => f.TotalShare < 0.999).Take(10).Select(f => (IReadOnlyList<string>)[Code(f.Method), Markdown.Percent(f.TotalShare), Markdown.Percent(f.SelfShare)])));
            if (profile.TopSelf.Count > 0)
            {
                var hottest = profile.TopSelf[0];
                headlines.Add(new Headline($"Hottest frame of the handler, {name}", Code(hottest.Method), Markdown.Percent(hottest.SelfShare) + " of samples (self)", ""));
            }
        }

        string markdown = $"""
            The full handler (`Function.FunctionHandler`: event JSON stream in, response stream out, 20,000 user records per
            invoke, no DynamoDB) runs in a loop for {duration.TotalSeconds:F0} s per event kind while an EventPipe session on this
            process samples it, as `dotnet-trace collect --profile dotnet-sampled-thread-time` does
            (`Microsoft-DotNETCore-SampleProfiler`, a managed stack per thread per millisecond; method names from the runtime's
            rundown; parsed with TraceEvent). Only samples inside the loop count. *Self* = the method was the leaf of the sampled
            stack (time in native code it called, such as zstd or OpenSSL's MD5, is counted to the managed method that called it);
            *total* = anywhere on the stack. The stage split in the section above attributes the same time by pipeline stage.

            {text}
            """;
        return Task.FromResult(new SectionResult(markdown, headlines));
    }

    private static string Code(string method) => "`" + method.Replace("`", "'", StringComparison.Ordinal) + "`";
}
