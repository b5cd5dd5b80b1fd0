using System.Text.Json;
using Cloud.Dashboard;

namespace Cloud.Cli.Commands.Pipeline;

/// <summary>What only the end of a run knows, next to its last snapshot.</summary>
internal sealed record PipelineOutcome(
    PipelineSizing Sizing, SchemaRecords.PipelineSchema? Schema, IReadOnlyDictionary<string, long> PerShard,
    long PerUserRows, long ForgottenUserPerUserRows, string? ForgetNote, string ForgottenUser, string? ForgottenPseudonym, bool ForgottenUserLinkable);

/// <summary>
/// The <c>--json</c> summary of a run. Scripts depend on every field name (tests/Cloud.Cli.Tests PipelineTests and
/// SchemasTests check them): add fields, never rename one.
/// </summary>
internal static class JsonSummaryView
{
    /// <summary>Writes the summary object.</summary>
    public static void Write(Utf8JsonWriter w, string stream, DashboardSnapshot last, PipelineOutcome outcome)
    {
        var t = last.Totals ?? new DashboardTotals(0, 0, 0, 0, 0, 0, 0);
        w.WriteStartObject();
        w.WriteString("stream", stream);
        w.WriteNumber("shards", outcome.Sizing.ShardCount);
        w.WriteNumber("calculatorShards", outcome.Sizing.Estimate.Shards);
        w.WriteString("decidingConstraint", SizeCommand.Camel(outcome.Sizing.Estimate.DecidingConstraint));
        w.WriteNumber("produced", t.Produced);
        w.WriteNumber("durable", t.Durable);
        w.WriteNumber("deliveryFailures", t.DeliveryFailures);
        w.WriteNumber("refusedForForgottenUser", t.Refused);
        w.WriteNumber("kinesisRecordsProcessed", t.Processed);
        w.WriteNumber("windowsClosed", t.WindowsClosed);
        w.WriteNumber("onFailureRecords", t.OnFailure);
        // --enforce-limits: what the limit proxy refused (null without the flag: nothing was metered).
        w.WriteBoolean("limitsEnforced", t.ThrottledRecords is not null);
        WriteNullable(w, "throttledRecords", t.ThrottledRecords);
        WriteNullable(w, "throttledReads", t.ThrottledReads);
        SchemaRecords.WritePipelineSchema(w, outcome.Schema?.Version);
        w.WriteStartObject("perShard");
        foreach (var (shard, n) in outcome.PerShard.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            w.WriteNumber(shard, n);
        }

        w.WriteEndObject();
        w.WriteString("perUserTable", PipelineCommand.UserAggregatesTable);
        w.WriteNumber("perUserRows", outcome.PerUserRows);
        if (outcome.ForgetNote is not null)
        {
            w.WriteString("forget", outcome.ForgetNote);
            w.WriteString("forgottenUser", outcome.ForgottenUser);
            w.WriteString("forgottenUserPseudonym", outcome.ForgottenPseudonym);
            w.WriteNumber("forgottenUserPerUserRows", outcome.ForgottenUserPerUserRows);
            // The rows stay (counts) but nothing links them to the user any more: the pseudonym cannot be recomputed.
            w.WriteBoolean("forgottenUserLinkable", outcome.ForgottenUserLinkable);
            w.WriteString("demoRecordAfterForget", last.Forget?.Record);
        }

        w.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } n)
        {
            w.WriteNumber(name, n);
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
