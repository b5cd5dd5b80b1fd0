namespace Cloud.Schemas;

/// <summary>Which way data flows in a failed check.</summary>
public enum CompatibilityDirection
{
    /// <summary>The new version (reader) reading data written with an earlier version (backward).</summary>
    NewReadsOld,

    /// <summary>An earlier version (reader) reading data written with the new version (forward).</summary>
    OldReadsNew,
}

/// <summary>One reason a reader cannot read a writer's data.</summary>
/// <param name="Path">Where: the field path in the reader's schema, for example <c>$.address.zip</c>.</param>
/// <param name="Rule">The schema-resolution rule that failed, for example <c>READER_FIELD_MISSING_DEFAULT_VALUE</c>.</param>
/// <param name="Message">A sentence for people.</param>
public sealed record CompatibilityIssue(string Path, string Rule, string Message);

/// <summary>A reason bound to the earlier version it was found against.</summary>
/// <param name="AgainstVersion">The earlier version number.</param>
/// <param name="Direction">Which of the two versions was the reader.</param>
/// <param name="Issue">The reason.</param>
public sealed record CompatibilityViolation(int AgainstVersion, CompatibilityDirection Direction, CompatibilityIssue Issue)
{
    /// <summary>One line: <c>v2 (new reads old): $.f READER_FIELD_MISSING_DEFAULT_VALUE: ...</c>.</summary>
    public override string ToString() =>
        $"against version {AgainstVersion} ({(Direction == CompatibilityDirection.NewReadsOld ? "new reads old" : "old reads new")}): {Issue.Path} {Issue.Rule}: {Issue.Message}";
}

/// <summary>The outcome of checking a new version under a mode: compatible, or the reasons it is not.</summary>
/// <param name="Mode">The mode checked.</param>
/// <param name="Violations">Empty when compatible.</param>
/// <param name="CheckedVersions">The earlier version numbers the new one was compared with.</param>
public sealed record CompatibilityResult(CompatibilityMode Mode, IReadOnlyList<CompatibilityViolation> Violations, IReadOnlyList<int> CheckedVersions)
{
    /// <summary>True when there is no violation.</summary>
    public bool IsCompatible => Violations.Count == 0;

    /// <summary>The reasons joined in one text (or "compatible").</summary>
    public string Describe() => IsCompatible ? "compatible" : string.Join("; ", Violations.Select(v => v.ToString()));
}
