using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Cloud.Benchmarks.Report;

/// <summary>
/// <c>report [--quick] [--out DIR] [--only id,id]</c>: runs every <see cref="IReportSection"/> in order and writes
/// DIR/README.md (tables, plots, the machine label) and DIR/report.json (the headline rows). A section that fails is
/// reported as failed (with its error) and makes the exit code 1; the other sections still run.
/// </summary>
internal static class ReportRunner
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken = default)
    {
        bool quick = false;
        string? output = null;
        HashSet<string>? only = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--out" when i + 1 < args.Length:
                    output = args[++i];
                    break;
                case "--only" when i + 1 < args.Length:
                    only = new HashSet<string>(args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.OrdinalIgnoreCase);
                    break;
                default:
                    Console.Error.WriteLine($"report: unknown argument '{args[i]}'. Usage: report [--quick] [--out DIR] [--only id,id]");
                    return 2;
            }
        }

        string root = FindRepositoryRoot();
        output = Path.GetFullPath(output ?? Path.Combine(root, "bench", "report"));
        Directory.CreateDirectory(output);
        foreach (var stale in Directory.EnumerateFiles(output, "*.png"))
        {
            File.Delete(stale);
        }

        var sections = typeof(ReportRunner).Assembly.GetTypes()
            .Where(t => typeof(IReportSection).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .Select(t => (IReportSection)Activator.CreateInstance(t)!)
            .Where(s => only is null || only.Contains(s.Id))
            .OrderBy(s => s.Order).ThenBy(s => s.Id, StringComparer.Ordinal)
            .ToList();
        if (only is not null && sections.Count != only.Count)
        {
            Console.Error.WriteLine($"report: unknown section id in --only; known: {string.Join(", ", AllIds())}");
            return 2;
        }

        var machine = MachineInfo.Detect(root);
        var context = new ReportContext(quick, root, output, machine);
        double loadBefore = MachineInfo.LoadAverage();
        var total = Stopwatch.StartNew();
        var results = new List<(IReportSection Section, SectionResult? Result, string? Error, TimeSpan Took)>();
        foreach (var section in sections)
        {
            ReportContext.Log($"section {section.Id}: {section.Title}");
            var clock = Stopwatch.StartNew();
            try
            {
                var result = await section.RunAsync(context, cancellationToken);
                results.Add((section, result, null, clock.Elapsed));
                ReportContext.Log($"section {section.Id} done in {clock.Elapsed.TotalSeconds:F0} s");
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                results.Add((section, null, $"{e.GetType().Name}: {e.Message}", clock.Elapsed));
                ReportContext.Log($"section {section.Id} FAILED: {e}");
            }
        }

        double loadAfter = MachineInfo.LoadAverage();
        File.WriteAllText(Path.Combine(output, "README.md"), Render(context, results, total.Elapsed, loadBefore, loadAfter));
        File.WriteAllText(Path.Combine(output, "report.json"), JsonSerializer.Serialize(new
        {
            machine = new { machine.CpuModel, machine.Cores, machine.MemoryGiB, machine.Os, machine.Runtime, machine.Node, machine.Commit, machine.Avx512 },
            started = machine.Started,
            mode = quick ? "quick" : "full",
            seconds = Math.Round(total.Elapsed.TotalSeconds),
            sections = results.Select(r => new
            {
                id = r.Section.Id,
                title = r.Section.Title,
                seconds = Math.Round(r.Took.TotalSeconds),
                error = r.Error,
                headlines = r.Result?.Headlines ?? [],
            }),
        }, Indented));
        ReportContext.Log($"report written to {Path.Combine(output, "README.md")} in {total.Elapsed.TotalMinutes:F1} min");
        return results.Any(r => r.Error is not null) ? 1 : 0;
    }

    private static IEnumerable<string> AllIds() => typeof(ReportRunner).Assembly.GetTypes()
        .Where(t => typeof(IReportSection).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
        .Select(t => ((IReportSection)Activator.CreateInstance(t)!).Id);

    private static string Render(ReportContext context, List<(IReportSection Section, SectionResult? Result, string? Error, TimeSpan Took)> results, TimeSpan took, double loadBefore, double loadAfter)
    {
        var m = context.Machine;
        var text = new StringBuilder();
        text.AppendLine("# Performance report");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Written by `bench/run{(context.Quick ? " --quick" : "")}` ({(context.Quick ? "quick" : "full")} run, {took.TotalMinutes:F1} min). Every comparison ran both sides in the same invocation, on the same data; ratios are the primary figures (above 1× is better for us unless a row says otherwise).");
        text.AppendLine();
        text.AppendLine(Markdown.Table(["machine", "value"],
        [
            ["CPU", $"{m.CpuModel} ({(m.Avx512 ? "AVX-512" : "no AVX-512")})"],
            ["cores / memory", Markdown.F($"{m.Cores} / {m.MemoryGiB:F0} GiB")],
            ["OS", m.Os],
            ["runtimes", $"{m.Runtime}; Node {m.Node}"],
            ["date (UTC)", m.Started.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)],
            ["commit", m.Commit],
            ["load average (1 min) at start / end", Markdown.F($"{loadBefore:F1} / {loadAfter:F1}")],
        ]));
        text.AppendLine("## At a glance");
        text.AppendLine();
        text.AppendLine(Markdown.Table(["section", "measure", "result", "peer / bound", "ratio", "goal", "status"],
            results.SelectMany(r => r.Error is not null
                ? [[$"[{r.Section.Id}](#{Anchor(r.Section.Title)})", "—", "section failed", "", "", "", r.Error]]
                : r.Result!.Headlines.Select(h => (IReadOnlyList<string>)[$"[{r.Section.Id}](#{Anchor(r.Section.Title)})", h.Measure, h.Result, h.PeerOrBound, h.Ratio, h.Goal, h.Status]))));
        foreach (var (section, result, error, sectionTook) in results)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"## {section.Title}");
            text.AppendLine();
            text.AppendLine(error is not null ? $"**This section failed**: {error}" : result!.Markdown.TrimEnd());
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"<sub>section `{section.Id}` · {sectionTook.TotalSeconds:F0} s · {m.Label}</sub>");
            text.AppendLine();
        }

        return text.ToString();
    }

    /// <summary>GitHub's heading anchor: lower case, spaces to hyphens, punctuation dropped.</summary>
    private static string Anchor(string heading) => new(heading.ToLowerInvariant()
        .Select(c => c == ' ' ? '-' : c)
        .Where(c => char.IsLetterOrDigit(c) || c is '-' or '_')
        .ToArray());

    private static string FindRepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Cloud.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new DirectoryNotFoundException("report: run it inside the repository (no Cloud.sln above the current or the program's directory).");
    }
}
