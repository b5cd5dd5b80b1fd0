using Cloud.Benchmarks.Reliability;

namespace Cloud.Benchmarks.Report.Sections;

/// <summary>
/// Mutation fuzzing of every decoder that reads bytes from outside: KPL aggregates, compressed frames (each codec),
/// field ciphertexts, GSR records (Avro and JSON Schema) and Lambda event documents through the Aggregator's handler.
/// Each decoder must accept the input or throw one of its documented exception types; anything else is a defect.
/// </summary>
internal sealed class FuzzSection : IReportSection
{
    /// <summary>The seed of every target's dice (each target mixes in its own name); printed in the report.</summary>
    public const int DefaultSeed = 20261207;

    /// <summary>The seed in use: <see cref="DefaultSeed"/>, or <c>CLOUD_FUZZ_SEED</c> to explore further.</summary>
    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("CLOUD_FUZZ_SEED"), System.Globalization.CultureInfo.InvariantCulture, out int seed) ? seed : DefaultSeed;

    public string Id => "fuzz";

    public int Order => 61;

    public string Title => "Reliability: mutated inputs through the decoders";

    public async Task<SectionResult> RunAsync(ReportContext context, CancellationToken cancellationToken)
    {
        var targets = FuzzTargets.Create(context);
        // To reproduce one target's failures: CLOUD_FUZZ_ONLY=<part of its name> (same seed, same inputs).
        if (Environment.GetEnvironmentVariable("CLOUD_FUZZ_ONLY") is { Length: > 0 } only)
        {
            targets = [.. targets.Where(t => t.Name.Contains(only, StringComparison.OrdinalIgnoreCase))];
        }
        var outcomes = new List<FuzzOutcome>();
        foreach (var target in targets)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ReportContext.Log($"fuzz: {target.Name}: {target.Inputs:N0} inputs");
            var outcome = await Task.Run(() => FuzzRunner.Run(target, Seed), cancellationToken);
            ReportContext.Log($"fuzz: {target.Name}: accepted {outcome.Accepted:N0}, typed {outcome.Typed.Values.Sum():N0}, untyped {outcome.Untyped.Values.Sum():N0}, {outcome.InputsPerSecond:N0}/s");
            outcomes.Add(outcome);
        }
        return Render(context, outcomes);
    }

    private static SectionResult Render(ReportContext context, List<FuzzOutcome> outcomes)
    {
        long inputs = outcomes.Sum(o => o.Inputs);
        long untyped = outcomes.Sum(o => o.Untyped.Values.Sum());
        long oom = outcomes.Sum(o => o.OutOfMemory);
        double seconds = outcomes.Sum(o => o.Seconds);
        long peakWorkingSet = Environment.WorkingSet > 0 ? System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 : 0;
        var rows = outcomes.Select(o => (IReadOnlyList<string>)
        [
            o.Target.Name,
            Markdown.N(o.Inputs),
            Markdown.N(o.Accepted) + " (" + Markdown.Percent((double)o.Accepted / o.Inputs) + ")",
            o.Typed.Count == 0 ? "—" : string.Join("<br>", o.Typed.OrderByDescending(t => t.Value).Select(t => $"{t.Key} {Markdown.N(t.Value)}")),
            o.Untyped.Count == 0 ? "**0**" : "**" + string.Join("<br>", o.Untyped.Select(t => $"{t.Key} {Markdown.N(t.Value)}")) + "**",
            Markdown.N(o.OutOfMemory),
            Markdown.N(o.MaxAllocatedPerInput / 1024.0) + " KiB (" + o.MaxAllocatedKind + ")",
            Markdown.N(o.PeakHeapBytes / 1048576.0) + " MiB",
            Markdown.N(o.InputsPerSecond),
        ]).ToList();
        var decoders = outcomes.Select(o => (IReadOnlyList<string>)[o.Target.Name, o.Target.Decoder, o.Target.Documented]).ToList();
        var kinds = Enum.GetValues<MutationKind>()
            .Select(k => (IReadOnlyList<string>)[k.ToString(), Markdown.N(outcomes.Sum(o => o.ByKind.GetValueOrDefault(k)))])
            .ToList();
        var examples = outcomes.SelectMany(o => o.Examples.Select(e => $"- {o.Target.Name}: `{e}`")).ToList();
        var plot = context.SavePlot("fuzz-outcomes", "Mutated inputs per decoder", plt =>
        {
            var bars = new List<ScottPlot.Bar>();
            for (int i = 0; i < outcomes.Count; i++)
            {
                var o = outcomes[i];
                double position = outcomes.Count - 1 - i; // first decoder on top
                double accepted = 100.0 * o.Accepted / o.Inputs;
                double typed = 100.0 * o.Typed.Values.Sum() / o.Inputs;
                double bad = 100.0 * (o.Untyped.Values.Sum() + o.OutOfMemory) / o.Inputs;
                bars.Add(new ScottPlot.Bar { Position = position, ValueBase = 0, Value = accepted, FillColor = ScottPlot.Colors.SteelBlue });
                bars.Add(new ScottPlot.Bar { Position = position, ValueBase = accepted, Value = accepted + typed, FillColor = ScottPlot.Colors.Gray });
                bars.Add(new ScottPlot.Bar { Position = position, ValueBase = accepted + typed, Value = accepted + typed + bad, FillColor = ScottPlot.Colors.Red });
            }
            var plotted = plt.Add.Bars(bars);
            plotted.Horizontal = true;
            plt.Axes.Left.SetTicks(outcomes.Select((_, i) => (double)(outcomes.Count - 1 - i)).ToArray(), outcomes.Select(o => o.Target.Name).ToArray());
            plt.Axes.Left.MinimumSize = 230;
            plt.XLabel("% of inputs");
            plt.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = "accepted", FillColor = ScottPlot.Colors.SteelBlue });
            plt.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = "typed error", FillColor = ScottPlot.Colors.Gray });
            plt.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = "untyped error or OOM", FillColor = ScottPlot.Colors.Red });
            plt.ShowLegend(ScottPlot.Alignment.LowerRight);
            plt.Axes.Margins(left: 0, right: 0.02);
        }, width: 1000, height: 520);

        string markdown = $"""
            Every decoder that reads bytes from outside gets valid inputs damaged the ways bytes go bad or are crafted — bit
            flips, inserted and deleted bytes, truncation, corrupted length fields (the target's own varints where it has
            them), huge declared lengths (2^31−1 up to 2^64−1: out-of-memory attempts), splices of two valid inputs, and for
            documents format-aware damage (a record's data replaced by a damaged aggregate or frame, values of another type
            or range, missing properties). Checksummed formats (KPL MD5, frame CRC-32) are re-signed after 7 of 8 mutations so
            the damage reaches the parser behind the check. A decoder must accept the input or throw one of its documented
            exception types; anything else (IndexOutOfRange, NullReference, Overflow, ArgumentOutOfRange…) is a defect.
            **Seed {Seed}** (each target mixes in its name; single-threaded, so input #N of a target reproduces).

            {Markdown.Table(["decoder", "inputs", "accepted", "typed failures", "untyped failures", "OOM", "most allocated by one input", "peak managed heap", "inputs/s"], rows)}
            Total: **{Markdown.N(inputs)} mutated inputs**, {Markdown.N(untyped)} untyped failures, {Markdown.N(oom)} out-of-memory, no crash
            (the process finished the run); {Markdown.N(seconds, 1)} s of fuzzing; peak working set of the process {Markdown.N(peakWorkingSet / 1048576.0)} MiB.
            "Accepted" counts mutations that still decode: a flipped byte inside a payload of an unchecked format
            (JSON text, Avro values, a stored frame after re-signing) is data, not damage. For the Lambda handler an
            accepted event includes {Markdown.N(outcomes.Sum(o => o.Target.ReportedRecordFailures?.Invoke() ?? 0))} invokes
            that answered with the damaged record as a batch item failure, as a batch handler should.

            {plot}

            {Markdown.Table(["decoder", "entry point", "documented exceptions"], decoders)}
            {Markdown.Table(["mutation", "inputs"], kinds)}
            {(examples.Count == 0 ? "No untyped failure to reproduce." : "Untyped failures (the first two of each type, to reproduce):\n" + string.Join("\n", examples))}

            Defects this fuzzing found when it was written, each now a unit test in the owning test project and fixed:
            an Avro GSR record of ~20 bytes whose array block declared 2^30 items made the generic reader allocate 8 GiB
            (Avro lengths and block counts are now checked against the bytes left); JSON payloads, privacy records and user
            records that are not UTF-8 threw InvalidOperationException; a zlib error code in a GSR payload threw
            ZLibException; a field ciphertext with a space or newline inserted decrypted as the original (base64url
            skipped whitespace); a ciphertext under an empty property name threw ArgumentException; event documents with a
            null record, kinesis part or sequence number threw NullReferenceException, and an arrival timestamp of 1e30
            OverflowException.
            """;
        return new SectionResult(markdown,
        [
            new Headline("Mutated inputs through the decoders: untyped failures / OOM", $"{Markdown.N(untyped)} / {Markdown.N(oom)} of {Markdown.N(inputs)}", "", "", "0 / 0", untyped == 0 && oom == 0 ? "met" : "missed"),
        ]);
    }
}
