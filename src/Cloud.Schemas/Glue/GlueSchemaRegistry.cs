using System.Globalization;

namespace Cloud.Schemas.Glue;

/// <summary>
/// <see cref="ISchemaRegistry"/> over one AWS Glue Schema Registry registry. Definitions are sent in their normal form
/// (<see cref="SchemaDefinitions.Normalize"/>) so that re-registering an identical schema finds the existing version.
/// Before registering, the new version is checked here too, so a refusal carries reasons (Glue itself only reports
/// the status FAILURE).
/// </summary>
public sealed class GlueSchemaRegistry : ISchemaRegistry
{
    private readonly GlueClient _client;
    private readonly string _registry;
    private readonly TimeProvider _time;

    /// <summary>Creates the registry view.</summary>
    public GlueSchemaRegistry(GlueClient client, string registryName, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(registryName);
        _client = client;
        _registry = registryName;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The Glue registry's name.</summary>
    public string RegistryName => _registry;

    /// <summary>How long a registration waits for Glue to finish its compatibility check (status PENDING).</summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan PendingTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Creates the registry in Glue; an existing one is fine.</summary>
    public async Task EnsureRegistryAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _client.CreateRegistryAsync(_registry, "Created by cloud schemas", cancellationToken).ConfigureAwait(false);
        }
        catch (GlueServiceException ex) when (ex.ErrorCode == "AlreadyExistsException")
        {
        }
    }

    /// <inheritdoc />
    public async Task<RegistrationResult> RegisterAsync(string schemaName, SchemaFormat format, string definition, CompatibilityMode? compatibility = null, CancellationToken cancellationToken = default)
    {
        RegistryRules.ValidateName(schemaName);
        string normalized = SchemaDefinitions.Normalize(format, definition);
        SchemaInfo info;
        try
        {
            info = await DescribeAsync(schemaName, cancellationToken).ConfigureAwait(false);
        }
        catch (SchemaNotFoundException)
        {
            GlueSchemaVersionRef created = await Translate(schemaName, null, () => _client.CreateSchemaAsync(_registry, schemaName, format,
                compatibility ?? RegistryRules.DefaultCompatibility, normalized, cancellationToken)).ConfigureAwait(false);
            return new RegistrationResult(await GetVersionAsync(created.VersionId, cancellationToken).ConfigureAwait(false), Created: true);
        }

        if (info.Format != format)
        {
            throw new InvalidSchemaException(format, $"schema '{schemaName}' holds {info.Format.ToGlue()} definitions, not {format.ToGlue()}");
        }

        if (compatibility is { } mode && mode != info.Compatibility)
        {
            await UpdateCompatibilityAsync(schemaName, mode, cancellationToken).ConfigureAwait(false);
            info = info with { Compatibility = mode };
        }

        try
        {
            GlueSchemaVersionRef existing = await _client.GetSchemaByDefinitionAsync(_registry, schemaName, normalized, cancellationToken).ConfigureAwait(false);
            if (existing.Status == "AVAILABLE")
            {
                return new RegistrationResult(await GetVersionAsync(existing.VersionId, cancellationToken).ConfigureAwait(false), Created: false);
            }
        }
        catch (GlueServiceException ex) when (ex.ErrorCode == "EntityNotFoundException")
        {
            // not registered yet
        }

        IReadOnlyList<SchemaVersion> versions = await ListVersionsAsync(schemaName, cancellationToken).ConfigureAwait(false);
        CompatibilityResult check = CompatibilityChecker.Check(info.Compatibility, format, normalized, versions);
        if (!check.IsCompatible)
        {
            throw new IncompatibleSchemaException(schemaName, check);
        }

        GlueSchemaVersionRef registered = await Translate(schemaName, null,
            () => _client.RegisterSchemaVersionAsync(_registry, schemaName, normalized, cancellationToken)).ConfigureAwait(false);
        DateTimeOffset deadline = _time.GetUtcNow() + PendingTimeout;
        while (true)
        {
            GlueSchemaVersion raw = await _client.GetSchemaVersionAsync(registered.VersionId, cancellationToken).ConfigureAwait(false);
            SchemaVersion version = ToVersion(raw, schemaName);
            switch (raw.Status)
            {
                case "AVAILABLE":
                    return new RegistrationResult(version, Created: true);
                case "FAILURE":
                    throw new IncompatibleSchemaException(schemaName, new CompatibilityResult(info.Compatibility,
                        [new CompatibilityViolation(versions.Count == 0 ? 0 : versions[^1].VersionNumber, CompatibilityDirection.NewReadsOld,
                            new CompatibilityIssue("$", "GLUE_REFUSED", "Glue's own compatibility check refused the version (status FAILURE)"))],
                        versions.Select(v => v.VersionNumber).ToList()));
            }

            if (_time.GetUtcNow() > deadline)
            {
                throw new SchemaRegistryException($"Schema '{schemaName}' version {version.VersionNumber} is still {raw.Status} after {PendingTimeout}.", raw.Status);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<CompatibilityResult> CheckAsync(string schemaName, string definition, CancellationToken cancellationToken = default)
    {
        SchemaInfo info = await DescribeAsync(schemaName, cancellationToken).ConfigureAwait(false);
        string normalized = SchemaDefinitions.Normalize(info.Format, definition);
        IReadOnlyList<SchemaVersion> versions = await ListVersionsAsync(schemaName, cancellationToken).ConfigureAwait(false);
        return CompatibilityChecker.Check(info.Compatibility, info.Format, normalized, versions);
    }

    /// <inheritdoc />
    public async Task<SchemaVersion> GetVersionAsync(Guid versionId, CancellationToken cancellationToken = default)
    {
        GlueSchemaVersion raw;
        try
        {
            raw = await _client.GetSchemaVersionAsync(versionId, cancellationToken).ConfigureAwait(false);
        }
        catch (GlueServiceException ex) when (ex.ErrorCode == "EntityNotFoundException")
        {
            throw new SchemaVersionNotFoundException(versionId, ex);
        }

        return ToVersion(raw, SchemaNameFromArn(raw.SchemaArn) ?? "(unknown)");
    }

    /// <inheritdoc />
    public async Task<SchemaVersion> GetVersionAsync(string schemaName, int? versionNumber = null, CancellationToken cancellationToken = default)
    {
        RegistryRules.ValidateName(schemaName);
        try
        {
            return ToVersion(await _client.GetSchemaVersionAsync(_registry, schemaName, versionNumber, cancellationToken).ConfigureAwait(false), schemaName);
        }
        catch (GlueServiceException ex) when (ex.ErrorCode == "EntityNotFoundException")
        {
            await DescribeAsync(schemaName, cancellationToken).ConfigureAwait(false); // SchemaNotFound when the schema is missing
            throw new SchemaVersionNotFoundException(schemaName, versionNumber ?? 1, ex);
        }
    }

    /// <inheritdoc />
    public async Task<SchemaInfo> DescribeAsync(string schemaName, CancellationToken cancellationToken = default)
    {
        RegistryRules.ValidateName(schemaName);
        GlueSchema schema = await Translate(schemaName, null, () => _client.GetSchemaAsync(_registry, schemaName, cancellationToken)).ConfigureAwait(false);
        return new SchemaInfo
        {
            Name = schema.SchemaName,
            Arn = schema.SchemaArn,
            Format = SchemaNames.ParseFormat(schema.DataFormat) ?? throw new SchemaRegistryException($"Schema '{schemaName}' has data format {schema.DataFormat}, which this library does not handle.", "UnsupportedFormat"),
            Compatibility = SchemaNames.ParseCompatibility(schema.Compatibility) ?? throw new SchemaRegistryException($"Schema '{schemaName}' has unknown compatibility '{schema.Compatibility}'.", "MalformedResponse"),
            LatestVersion = schema.LatestSchemaVersion,
        };
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SchemaInfo>> ListSchemasAsync(CancellationToken cancellationToken = default)
    {
        IReadOnlyList<string> names = await _client.ListSchemasAsync(_registry, cancellationToken).ConfigureAwait(false);
        var result = new List<SchemaInfo>(names.Count);
        foreach (string name in names.Order(StringComparer.Ordinal))
        {
            try
            {
                result.Add(await DescribeAsync(name, cancellationToken).ConfigureAwait(false));
            }
            catch (SchemaRegistryException ex) when (ex.ErrorCode == "UnsupportedFormat")
            {
                // PROTOBUF schemas are listed by Glue but not handled here.
            }
        }

        return result;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SchemaVersion>> ListVersionsAsync(string schemaName, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<GlueSchemaVersionRef> refs = await Translate(schemaName, null,
            () => _client.ListSchemaVersionsAsync(_registry, schemaName, cancellationToken)).ConfigureAwait(false);
        var versions = new List<SchemaVersion>(refs.Count);
        foreach (GlueSchemaVersionRef r in refs.Where(r => r.Status == "AVAILABLE"))
        {
            versions.Add(ToVersion(await _client.GetSchemaVersionAsync(r.VersionId, cancellationToken).ConfigureAwait(false), schemaName));
        }

        return versions;
    }

    /// <inheritdoc />
    public Task UpdateCompatibilityAsync(string schemaName, CompatibilityMode compatibility, CancellationToken cancellationToken = default) =>
        Translate(schemaName, null, async () =>
        {
            await _client.UpdateSchemaAsync(_registry, schemaName, compatibility, cancellationToken).ConfigureAwait(false);
            return true;
        });

    /// <summary>The schema name in <c>arn:aws:glue:region:account:schema/registry/name</c>, or null.</summary>
    public static string? SchemaNameFromArn(string? arn)
    {
        if (arn is null)
        {
            return null;
        }

        int i = arn.IndexOf(":schema/", StringComparison.Ordinal);
        if (i < 0)
        {
            return null;
        }

        string[] parts = arn[(i + ":schema/".Length)..].Split('/');
        return parts.Length == 2 && parts[1].Length > 0 ? parts[1] : null;
    }

    private static SchemaVersion ToVersion(GlueSchemaVersion raw, string schemaName) => new()
    {
        VersionId = raw.VersionId,
        SchemaName = schemaName,
        VersionNumber = raw.VersionNumber,
        Format = SchemaNames.ParseFormat(raw.DataFormat) ?? throw new SchemaRegistryException($"Schema version {raw.VersionId} has data format {raw.DataFormat}, which this library does not handle.", "UnsupportedFormat"),
        Definition = raw.Definition,
        CreatedAt = DateTimeOffset.TryParse(raw.CreatedTime, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset at) ? at : null,
    };

    private static async Task<T> Translate<T>(string schemaName, int? number, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (GlueServiceException ex) when (ex.ErrorCode == "EntityNotFoundException")
        {
            throw number is { } n ? new SchemaVersionNotFoundException(schemaName, n, ex) : new SchemaNotFoundException(schemaName, ex);
        }
    }
}
