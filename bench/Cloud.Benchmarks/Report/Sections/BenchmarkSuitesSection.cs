using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Cloud.Benchmarks.Kinesis;
using Cloud.Benchmarks.Privacy;
using Cloud.Benchmarks.Records;
using Cloud.Benchmarks.Schemas;

namespace Cloud.Benchmarks.Report.Sections;

/// <summary>
/// The BenchmarkDotNet suites behind the comparisons (wall clock and allocations per operation), run in process
/// (ShortRun in a full report, Dry in a quick one) so a reader sees the classic tables next to the CPU-time figures.
/// Suites that need a running emulator or take minutes by design (erase latency, 100k/s memory) are left to their own commands.
/// </summary>
internal sealed class BenchmarkSuitesSection : IReportSection
{
    private const string JobId = "report";

    public string Id => "suites";

    public int Order => 90;

    public string Title => "BenchmarkDotNet suites";

    public Task<SectionResult> RunAsync(ReportContext context, CancellationToken cancellationToken)
    {
        Type[] suites = context.Quick
            ? [typeof(KplAggregationBenchmarks), typeof(SchemaSerializationBenchmarks)]
            : [typeof(KplAggregationBenchmarks), typeof(MultiBufferMd5Benchmarks), typeof(PersonalDataBenchmarks), typeof(SchemaSerializationBenchmarks),
               typeof(KinesisClientOverheadBenchmarks), typeof(CodecBenchmarks)];
        var job = (context.Quick ? Job.Dry : Job.ShortRun).WithToolchain(InProcessEmitToolchain.Instance).WithId(JobId);
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultConfig.Instance.GetColumnProviders().ToArray())
            .AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default)
            .WithArtifactsPath(context.PathOf(".tmp", "BenchmarkDotNet.Artifacts"))
            .WithOptions(ConfigOptions.DisableLogFile)
            .WithUnionRule(ConfigUnionRule.AlwaysUseGlobal);
        var rows = new List<IReadOnlyList<string>>();
        foreach (var suite in suites)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // A suite's own [Config] adds its job too: keep only this report's job.
            var info = BenchmarkConverter.TypeToBenchmarks(suite, config);
            var cases = info.BenchmarksCases.Where(c => c.Job.Id == JobId).ToArray();
            Summary summary = BenchmarkRunner.Run(new BenchmarkRunInfo(cases, suite, info.Config));
            foreach (var report in summary.Reports)
            {
                var stats = report.ResultStatistics;
                long? allocated = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
                rows.Add([
                    suite.Name,
                    report.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Trim('\''),
                    report.BenchmarkCase.HasParameters ? report.BenchmarkCase.Parameters.DisplayInfo : "",
                    stats is null ? "failed" : Time(stats.Mean),
                    stats is null || stats.N < 2 ? "—" : Time(stats.StandardError),
                    allocated is { } a ? Markdown.N(a) + " B" : "—",
                ]);
            }

            if (summary.HasCriticalValidationErrors)
            {
                throw new InvalidOperationException($"{suite.Name}: {string.Join("; ", summary.ValidationErrors.Select(e => e.Message))}");
            }
        }

        string markdown = $"""
            BenchmarkDotNet 0.15.8, in process ({(context.Quick ? "Dry job: one iteration, indicative only" : "ShortRun: 3 warm-ups, 3 iterations")}), MemoryDiagnoser.
            Wall clock per operation: on a shared or loaded machine read the CPU-time sections above for comparisons.
            Each suite's class documents what it measures; run one alone with
            `dotnet run -c Release --project bench/Cloud.Benchmarks -- --filter '*Name*' --inProcess`.

            {Markdown.Table(["suite", "benchmark", "parameters", "mean", "± std. error", "allocated / op"], rows)}
            """;
        return Task.FromResult(new SectionResult(markdown, []));
    }

    private static string Time(double nanoseconds) => nanoseconds switch
    {
        >= 1e6 => Markdown.N(nanoseconds / 1e6, 2) + " ms",
        >= 1e3 => Markdown.N(nanoseconds / 1e3, 2) + " µs",
        _ => Markdown.N(nanoseconds, 1) + " ns",
    };
}
