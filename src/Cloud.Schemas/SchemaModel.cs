namespace Cloud.Schemas;

/// <summary>The data format of a schema (Glue's <c>DataFormat</c>).</summary>
public enum SchemaFormat
{
    /// <summary>Apache Avro; records travel in Avro's binary encoding.</summary>
    Avro,

    /// <summary>JSON Schema; records travel as UTF-8 JSON text.</summary>
    Json,
}

/// <summary>
/// When a new schema version may be registered, as AWS Glue Schema Registry defines it
/// (https://docs.aws.amazon.com/glue/latest/dg/schema-registry.html#schema-registry-compatibility).
/// "Backward": consumers on the new version read data written with the old one; "forward": consumers on the
/// old version read data written with the new one. Modes without <c>_ALL</c> compare with the latest version only.
/// </summary>
public enum CompatibilityMode
{
    /// <summary>No check: any version may follow any other.</summary>
    None,

    /// <summary>No new version may be registered at all.</summary>
    Disabled,

    /// <summary>The new version reads data written with the latest version (the default, as in Glue).</summary>
    Backward,

    /// <summary>The new version reads data written with every earlier version.</summary>
    BackwardAll,

    /// <summary>The latest version reads data written with the new version.</summary>
    Forward,

    /// <summary>Every earlier version reads data written with the new version.</summary>
    ForwardAll,

    /// <summary>Backward and forward against the latest version.</summary>
    Full,

    /// <summary>Backward and forward against every earlier version.</summary>
    FullAll,
}

/// <summary>Names of formats and modes as Glue's API and the CLI spell them.</summary>
public static class SchemaNames
{
    /// <summary>Glue's spelling: <c>AVRO</c> or <c>JSON</c>.</summary>
    public static string ToGlue(this SchemaFormat format) => format switch
    {
        SchemaFormat.Avro => "AVRO",
        SchemaFormat.Json => "JSON",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>Parses <c>AVRO</c>/<c>avro</c> or <c>JSON</c>/<c>json</c>; null when unknown (for example PROTOBUF).</summary>
    public static SchemaFormat? ParseFormat(string? text) => text?.Trim().ToUpperInvariant() switch
    {
        "AVRO" => SchemaFormat.Avro,
        "JSON" => SchemaFormat.Json,
        _ => null,
    };

    /// <summary>Glue's spelling of a mode: <c>NONE</c>, <c>DISABLED</c>, <c>BACKWARD</c>, <c>BACKWARD_ALL</c>, ….</summary>
    public static string ToGlue(this CompatibilityMode mode) => mode switch
    {
        CompatibilityMode.None => "NONE",
        CompatibilityMode.Disabled => "DISABLED",
        CompatibilityMode.Backward => "BACKWARD",
        CompatibilityMode.BackwardAll => "BACKWARD_ALL",
        CompatibilityMode.Forward => "FORWARD",
        CompatibilityMode.ForwardAll => "FORWARD_ALL",
        CompatibilityMode.Full => "FULL",
        CompatibilityMode.FullAll => "FULL_ALL",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    /// <summary>Parses a mode in Glue's spelling (case-insensitive, <c>-</c> or <c>_</c>); null when unknown.</summary>
    public static CompatibilityMode? ParseCompatibility(string? text) => text?.Trim().ToUpperInvariant().Replace('-', '_') switch
    {
        "NONE" => CompatibilityMode.None,
        "DISABLED" => CompatibilityMode.Disabled,
        "BACKWARD" => CompatibilityMode.Backward,
        "BACKWARD_ALL" => CompatibilityMode.BackwardAll,
        "FORWARD" => CompatibilityMode.Forward,
        "FORWARD_ALL" => CompatibilityMode.ForwardAll,
        "FULL" => CompatibilityMode.Full,
        "FULL_ALL" => CompatibilityMode.FullAll,
        _ => null,
    };
}

/// <summary>A schema (the container of versions) in a registry.</summary>
public sealed record SchemaInfo
{
    /// <summary>The schema's name.</summary>
    public required string Name { get; init; }

    /// <summary>The data format of every version.</summary>
    public required SchemaFormat Format { get; init; }

    /// <summary>The rule new versions must pass.</summary>
    public required CompatibilityMode Compatibility { get; init; }

    /// <summary>The latest version number (versions are numbered from 1).</summary>
    public required int LatestVersion { get; init; }

    /// <summary>The schema's ARN in Glue, or null for the embedded registry.</summary>
    public string? Arn { get; init; }
}

/// <summary>One registered, immutable schema version.</summary>
public sealed record SchemaVersion
{
    /// <summary>The version id written into every GSR record (a UUID).</summary>
    public required Guid VersionId { get; init; }

    /// <summary>The schema's name.</summary>
    public required string SchemaName { get; init; }

    /// <summary>The version number, 1 for the first.</summary>
    public required int VersionNumber { get; init; }

    /// <summary>The data format.</summary>
    public required SchemaFormat Format { get; init; }

    /// <summary>The definition, normalised (see <see cref="SchemaDefinitions.Normalize"/>).</summary>
    public required string Definition { get; init; }

    /// <summary>When the version was registered, if known.</summary>
    public DateTimeOffset? CreatedAt { get; init; }
}

/// <summary>The outcome of a registration.</summary>
/// <param name="Version">The registered (or existing identical) version.</param>
/// <param name="Created">False when an identical definition was already registered and <paramref name="Version"/> is that version.</param>
public sealed record RegistrationResult(SchemaVersion Version, bool Created);
