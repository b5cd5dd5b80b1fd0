namespace Cloud.Benchmarks.Report;

/// <summary>
/// One part of the report (`bench/run`): measures both sides of each comparison in the same invocation and
/// returns markdown, headline rows and the plots it saved. Sections never throw for a missing peer: they say so.
/// </summary>
internal interface IReportSection
{
    /// <summary>Short id used by <c>--only</c> and as the prefix of the section's plot files.</summary>
    string Id { get; }

    /// <summary>Position in the report (lower first): 10 what a user saves, 20 records, 30 Lambda, 40 peers, 50 end to end, 60 reliability, 90 suites.</summary>
    int Order { get; }

    /// <summary>The section's heading in the report.</summary>
    string Title { get; }

    Task<SectionResult> RunAsync(ReportContext context, CancellationToken cancellationToken);
}

/// <summary>What a section contributes: its markdown body (no top heading) and its rows of the headline table.</summary>
internal sealed record SectionResult(string Markdown, IReadOnlyList<Headline> Headlines);

/// <summary>
/// One row of the report's "at a glance" table. <see cref="Ratio"/> is the primary figure (ours ÷ peer or bound,
/// oriented so that above 1 is better) when the row compares; <see cref="Goal"/>/<see cref="Status"/> when an issue set one.
/// </summary>
internal sealed record Headline(string Measure, string Result, string PeerOrBound, string Ratio, string Goal = "", string Status = "");
