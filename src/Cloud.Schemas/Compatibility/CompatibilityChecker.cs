using Cloud.Schemas.Compatibility;

namespace Cloud.Schemas;

/// <summary>
/// Applies a <see cref="CompatibilityMode"/> to a new definition and the earlier versions of its schema, as AWS Glue
/// Schema Registry does: BACKWARD* makes the new version the reader of the earlier ones' data, FORWARD* the writer,
/// FULL* both; modes without <c>_ALL</c> compare with the latest version only; DISABLED refuses any new version;
/// NONE accepts all. Avro follows the specification's resolution rules (<see cref="AvroCompatibility"/>); JSON Schema the
/// subset documented on <see cref="JsonSchemaCompatibility"/>.
/// </summary>
public static class CompatibilityChecker
{
    /// <summary>Checks <paramref name="newDefinition"/> against <paramref name="earlier"/> (any order) under <paramref name="mode"/>.</summary>
    /// <exception cref="InvalidSchemaException">A definition does not parse.</exception>
    public static CompatibilityResult Check(CompatibilityMode mode, SchemaFormat format, string newDefinition, IReadOnlyList<SchemaVersion> earlier)
    {
        ArgumentNullException.ThrowIfNull(newDefinition);
        ArgumentNullException.ThrowIfNull(earlier);
        var ordered = earlier.OrderBy(v => v.VersionNumber).ToList();
        var violations = new List<CompatibilityViolation>();
        if (ordered.Count == 0 || mode == CompatibilityMode.None)
        {
            return new CompatibilityResult(mode, violations, []);
        }

        if (mode == CompatibilityMode.Disabled)
        {
            int latest = ordered[^1].VersionNumber;
            violations.Add(new CompatibilityViolation(latest, CompatibilityDirection.NewReadsOld,
                new CompatibilityIssue("$", "VERSIONING_DISABLED", "the schema's compatibility is DISABLED: no new version may be registered")));
            return new CompatibilityResult(mode, violations, [latest]);
        }

        List<SchemaVersion> against = mode is CompatibilityMode.BackwardAll or CompatibilityMode.ForwardAll or CompatibilityMode.FullAll
            ? ordered
            : [ordered[^1]];
        bool backward = mode is CompatibilityMode.Backward or CompatibilityMode.BackwardAll or CompatibilityMode.Full or CompatibilityMode.FullAll;
        bool forward = mode is CompatibilityMode.Forward or CompatibilityMode.ForwardAll or CompatibilityMode.Full or CompatibilityMode.FullAll;

        global::Avro.Schema? newAvro = format == SchemaFormat.Avro ? SchemaDefinitions.ParseAvro(newDefinition) : null;
        foreach (SchemaVersion old in against)
        {
            global::Avro.Schema? oldAvro = format == SchemaFormat.Avro ? SchemaDefinitions.ParseAvro(old.Definition) : null;
            if (backward)
            {
                foreach (CompatibilityIssue issue in Issues(format, newAvro, newDefinition, oldAvro, old.Definition))
                {
                    violations.Add(new CompatibilityViolation(old.VersionNumber, CompatibilityDirection.NewReadsOld, issue));
                }
            }

            if (forward)
            {
                foreach (CompatibilityIssue issue in Issues(format, oldAvro, old.Definition, newAvro, newDefinition))
                {
                    violations.Add(new CompatibilityViolation(old.VersionNumber, CompatibilityDirection.OldReadsNew, issue));
                }
            }
        }

        return new CompatibilityResult(mode, violations, against.Select(v => v.VersionNumber).ToList());
    }

    private static IReadOnlyList<CompatibilityIssue> Issues(SchemaFormat format, global::Avro.Schema? readerAvro, string reader, global::Avro.Schema? writerAvro, string writer) =>
        format == SchemaFormat.Avro
            ? AvroCompatibility.Check(readerAvro!, writerAvro!)
            : JsonSchemaCompatibility.Check(reader, writer);
}
