namespace Cloud.Schemas;

/// <summary>Base of every error this library raises on purpose.</summary>
public abstract class SchemaException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected SchemaException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>A schema definition that cannot be parsed or is not valid for its format.</summary>
public sealed class InvalidSchemaException : SchemaException
{
    /// <summary>Creates the exception.</summary>
    public InvalidSchemaException(SchemaFormat format, string message, Exception? inner = null)
        : base($"Invalid {format.ToGlue()} schema: {message}", inner) => Format = format;

    /// <summary>The format the definition was parsed as.</summary>
    public SchemaFormat Format { get; }
}

/// <summary>No schema with this name exists in the registry.</summary>
public sealed class SchemaNotFoundException : SchemaException
{
    /// <summary>Creates the exception.</summary>
    public SchemaNotFoundException(string schemaName, Exception? inner = null)
        : base($"Schema '{schemaName}' is not registered.", inner) => SchemaName = schemaName;

    /// <summary>The name looked up.</summary>
    public string SchemaName { get; }
}

/// <summary>The requested schema version does not exist.</summary>
public sealed class SchemaVersionNotFoundException : SchemaException
{
    /// <summary>Creates the exception for a version id (the id of a GSR record).</summary>
    public SchemaVersionNotFoundException(Guid versionId, Exception? inner = null)
        : base($"Schema version {versionId} is not registered.", inner) => VersionId = versionId;

    /// <summary>Creates the exception for a numbered version of a schema.</summary>
    public SchemaVersionNotFoundException(string schemaName, int versionNumber, Exception? inner = null)
        : base($"Schema '{schemaName}' has no version {versionNumber}.", inner)
    {
        SchemaName = schemaName;
        VersionNumber = versionNumber;
    }

    /// <summary>The version id looked up, if it was a lookup by id.</summary>
    public Guid? VersionId { get; }

    /// <summary>The schema name, if it was a lookup by number.</summary>
    public string? SchemaName { get; }

    /// <summary>The number, if it was a lookup by number.</summary>
    public int? VersionNumber { get; }
}

/// <summary>A new version was refused by the schema's compatibility mode; <see cref="Result"/> holds the reasons.</summary>
public sealed class IncompatibleSchemaException : SchemaException
{
    /// <summary>Creates the exception.</summary>
    public IncompatibleSchemaException(string schemaName, CompatibilityResult result)
        : base($"The new version of schema '{schemaName}' is not {result.Mode.ToGlue()} compatible: {result.Describe()}") =>
        Result = result;

    /// <summary>The check with its reasons.</summary>
    public CompatibilityResult Result { get; }
}

/// <summary>A record that does not match its schema; it was not sent. Names the field, never its value.</summary>
public sealed class RecordValidationException : SchemaException
{
    /// <summary>Creates the exception.</summary>
    public RecordValidationException(string fieldPath, string problem, Exception? inner = null)
        : base($"Record does not match its schema at '{fieldPath}': {problem}", inner)
    {
        FieldPath = fieldPath;
        Problem = problem;
    }

    /// <summary>Path of the offending field, for example <c>$.address.zip</c>.</summary>
    public string FieldPath { get; }

    /// <summary>What is wrong there (the rule, not the value).</summary>
    public string Problem { get; }
}

/// <summary>A GSR payload that cannot be decoded with the schema its header names.</summary>
public sealed class SchemaDataException : SchemaException
{
    /// <summary>Creates the exception.</summary>
    public SchemaDataException(Guid versionId, string message, Exception? inner = null)
        : base($"The payload does not match schema version {versionId}: {message}", inner) => VersionId = versionId;

    /// <summary>The schema version the header named.</summary>
    public Guid VersionId { get; }
}

/// <summary>The registry's service failed (network, throttling, access denied, an unexpected answer).</summary>
public sealed class SchemaRegistryException : SchemaException
{
    /// <summary>Creates the exception.</summary>
    public SchemaRegistryException(string message, string? errorCode = null, Exception? inner = null)
        : base(message, inner) => ErrorCode = errorCode;

    /// <summary>The service's error code (for example Glue's <c>AccessDeniedException</c>), when known.</summary>
    public string? ErrorCode { get; }
}
