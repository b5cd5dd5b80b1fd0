namespace Cloud.Schemas;

/// <summary>
/// A schema registry: named schemas, each with numbered, immutable versions identified by UUIDs (the id GSR writes
/// into every record). Implemented by <see cref="DynamoDbSchemaRegistry"/> (embedded, one DynamoDB table) and
/// <see cref="Glue.GlueSchemaRegistry"/> (AWS Glue). Wrap either in <see cref="CachingSchemaRegistry"/> on hot paths.
/// </summary>
public interface ISchemaRegistry
{
    /// <summary>
    /// Registers <paramref name="definition"/> as the next version of <paramref name="schemaName"/>, creating the schema
    /// (with <paramref name="compatibility"/>, default BACKWARD) when it does not exist. An identical (normalised)
    /// definition returns the existing version. For an existing schema a given <paramref name="compatibility"/> first
    /// updates its mode.
    /// </summary>
    /// <exception cref="InvalidSchemaException">The definition does not parse, or the format differs from the schema's.</exception>
    /// <exception cref="IncompatibleSchemaException">The schema's mode refuses the new version (with reasons).</exception>
    Task<RegistrationResult> RegisterAsync(string schemaName, SchemaFormat format, string definition, CompatibilityMode? compatibility = null, CancellationToken cancellationToken = default);

    /// <summary>Checks <paramref name="definition"/> against the schema's versions under its mode, without registering.</summary>
    /// <exception cref="SchemaNotFoundException">No such schema.</exception>
    /// <exception cref="InvalidSchemaException">The definition does not parse.</exception>
    Task<CompatibilityResult> CheckAsync(string schemaName, string definition, CancellationToken cancellationToken = default);

    /// <summary>The version with this id (the id in a GSR header).</summary>
    /// <exception cref="SchemaVersionNotFoundException">No such version.</exception>
    Task<SchemaVersion> GetVersionAsync(Guid versionId, CancellationToken cancellationToken = default);

    /// <summary>Version <paramref name="versionNumber"/> of a schema, or its latest version when null.</summary>
    /// <exception cref="SchemaNotFoundException">No such schema.</exception>
    /// <exception cref="SchemaVersionNotFoundException">No such version.</exception>
    Task<SchemaVersion> GetVersionAsync(string schemaName, int? versionNumber = null, CancellationToken cancellationToken = default);

    /// <summary>The schema's settings and latest version number.</summary>
    /// <exception cref="SchemaNotFoundException">No such schema.</exception>
    Task<SchemaInfo> DescribeAsync(string schemaName, CancellationToken cancellationToken = default);

    /// <summary>Every schema, by name.</summary>
    Task<IReadOnlyList<SchemaInfo>> ListSchemasAsync(CancellationToken cancellationToken = default);

    /// <summary>Every version of a schema, oldest first.</summary>
    /// <exception cref="SchemaNotFoundException">No such schema.</exception>
    Task<IReadOnlyList<SchemaVersion>> ListVersionsAsync(string schemaName, CancellationToken cancellationToken = default);

    /// <summary>Changes the compatibility mode of a schema (Glue's UpdateSchema).</summary>
    /// <exception cref="SchemaNotFoundException">No such schema.</exception>
    Task UpdateCompatibilityAsync(string schemaName, CompatibilityMode compatibility, CancellationToken cancellationToken = default);
}

/// <summary>Rules shared by the registry implementations.</summary>
internal static class RegistryRules
{
    /// <summary>The default compatibility mode of a new schema, as in Glue.</summary>
    public const CompatibilityMode DefaultCompatibility = CompatibilityMode.Backward;

    /// <summary>Glue's schema-name rule: 1-255 characters of letters, digits, '-', '_', '$', '#', '.'.</summary>
    public static void ValidateName(string schemaName)
    {
        ArgumentNullException.ThrowIfNull(schemaName);
        if (schemaName.Length is 0 or > 255 || !schemaName.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '$' or '#' or '.'))
        {
            throw new ArgumentException($"Schema name '{schemaName}' must be 1-255 characters of letters, digits, '-', '_', '$', '#' and '.'.", nameof(schemaName));
        }
    }
}
