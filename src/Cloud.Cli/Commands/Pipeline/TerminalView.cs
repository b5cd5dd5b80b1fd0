using System.Globalization;
using Cloud.Dashboard;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cloud.Cli.Commands.Pipeline;

/// <summary>The terminal view of a snapshot: Spectre tables (live on a terminal), a progress line when piped.</summary>
internal static class TerminalView
{
    /// <summary>The live dashboard: flow, shards, latest window aggregates, the forget demo.</summary>
    public static IRenderable Render(DashboardSnapshot s, bool forgetDemo)
    {
        var ci = CultureInfo.InvariantCulture;
        var t = s.Totals ?? new DashboardTotals(0, 0, 0, 0, 0, 0, 0);
        string[] columns = ["In (events/s)", "Out (Kinesis records/s)", "Durable", "Processed", "Windows closed", "On-failure", "Refused (forgotten)"];
        string[] cells = [s.RecordsInPerSecond.ToString("N0", ci), s.RecordsOutPerSecond.ToString("N0", ci), t.Durable.ToString("N0", ci), t.Processed.ToString("N0", ci), t.WindowsClosed.ToString("N0", ci), t.OnFailure.ToString("N0", ci), t.Refused.ToString("N0", ci)];
        if (t.ThrottledRecords is { } throttled)
        {
            // --enforce-limits: what the limit proxy refused (retried by the producer and the consumers).
            columns = [.. columns, "Throttled records", "Throttled GetRecords"];
            cells = [.. cells, $"{throttled.ToString("N0", ci)} ({s.ThrottlesPerSecond.ToString("N0", ci)}/s)", (t.ThrottledReads ?? 0).ToString("N0", ci)];
        }

        var flow = new Table().Title("Flow").AddColumns(columns);
        flow.AddRow(cells);
        var total = Math.Max(1, s.Shards.Sum(x => x.Records ?? 0));
        var shards = new Table().Title("Shards: balance and consumer lag").AddColumns("Shard", "Events", "Share", "Records behind", "ms behind tip");
        foreach (var shard in s.Shards)
        {
            var n = shard.Records ?? 0;
            shards.AddRow(shard.ShardId, n.ToString("N0", ci), ((double)n / total).ToString("P1", ci), shard.RecordsBehind?.ToString("N0", ci) ?? "?", shard.LagKnown ? shard.MillisBehindLatest.ToString("N0", ci) : "?");
        }

        var aggregates = new Table().Title("Latest window aggregates").AddColumns("Window", "Key", "Count");
        foreach (var row in s.Windows?.Rows ?? [])
        {
            aggregates.AddRow(Markup.Escape(row[0]), Markup.Escape(row[1]), row[2]);
        }

        var rows = new List<IRenderable> { flow, shards, aggregates };
        rows.Insert(0, new Markup(Markup.Escape("Schema: " + (s.Schema?.Label ?? "none (plain JSON)"))));
        if (forgetDemo)
        {
            rows.Add(new Panel(new Markup(Markup.Escape((s.Forget?.Detail ?? "forget pending (half-way through --duration)") + Environment.NewLine + (s.Forget?.Record ?? "waiting for a record of the demo user")))).Header("Forget demo"));
        }

        return new Rows(rows);
    }

    /// <summary>One progress line (piped output without <c>--json</c>).</summary>
    public static string ProgressLine(DashboardSnapshot s, TimeSpan elapsed) =>
        string.Create(CultureInfo.InvariantCulture, $"[{elapsed.TotalSeconds,4:0}s] in {s.RecordsInPerSecond,8:N0}/s  out {s.RecordsOutPerSecond,6:N0} Kinesis records/s  durable {s.Totals?.Durable ?? 0:N0}  lag {s.Shards.Sum(l => l.RecordsBehind ?? 0):N0}{(s.Totals?.ThrottledRecords is { } throttled ? $"  throttled {throttled:N0} records, {s.Totals.ThrottledReads ?? 0:N0} reads" : string.Empty)}{(s.Forget?.Detail is { } note ? "  " + note : string.Empty)}");
}
