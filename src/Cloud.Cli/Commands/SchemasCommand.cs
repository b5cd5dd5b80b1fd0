using System.CommandLine;
using System.Net;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Cloud.Cli.Infrastructure;
using Cloud.Schemas;
using Cloud.Schemas.Glue;

namespace Cloud.Cli.Commands;

/// <summary>
/// <c>cloud schemas register|list|describe|check</c>: Avro and JSON Schema definitions in a schema registry, either the
/// embedded one (a DynamoDB table, <c>--registry local</c>, the default with <c>--local</c> or explicit endpoints) or an
/// AWS Glue Schema Registry registry (<c>--registry glue:NAME</c>, the default <c>glue:default-registry</c> otherwise).
/// </summary>
public static class SchemasCommand
{
    /// <summary>Which registry: <c>local</c> or <c>glue:REGISTRY_NAME</c>.</summary>
    public static readonly Option<string?> Registry = new("--registry")
    {
        Description = "Schema registry: 'local' (DynamoDB table cloud-schemas; default with --local) or 'glue:REGISTRY_NAME' (default glue:default-registry)",
        Recursive = true,
    };

    /// <summary>AWS Glue endpoint override.</summary>
    public static readonly Option<Uri?> GlueEndpoint = new("--glue-endpoint")
    {
        Description = "AWS Glue endpoint URL (default: https://glue.REGION.amazonaws.com)",
        Recursive = true,
        CustomParser = r =>
        {
            string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                return uri;
            }

            r.AddError($"'{text}' is not an http(s) URL for --glue-endpoint.");
            return null;
        },
    };

    /// <summary>The Glue registry used when none is named (as in GSR's serializers).</summary>
    public const string DefaultGlueRegistry = "default-registry";

    /// <summary>Builds the verb.</summary>
    public static Command Create(CliConsole console)
    {
        // --registry and --glue-endpoint are recursive options of the root (produce and consume take them too).
        var schemas = new Command("schemas", "Register, list, describe and check Avro / JSON Schema definitions (AWS Glue Schema Registry or the local registry)");
        schemas.Add(RegisterVerb(console));
        schemas.Add(ListVerb(console));
        schemas.Add(DescribeVerb(console));
        schemas.Add(CheckVerb(console));
        return schemas;
    }

    private static Argument<string> NameArgument() => new("NAME") { Description = "Schema name" };

    private static Option<FileInfo> FileOption() => new("--file") { Description = "Schema definition file (.avsc or JSON Schema)", Required = true };

    private static Command RegisterVerb(CliConsole console)
    {
        var name = NameArgument();
        var file = FileOption();
        var format = new Option<string?>("--format") { Description = "avro or json (default: the schema's format, else avro)" };
        format.AcceptOnlyFromAmong("avro", "json", "AVRO", "JSON");
        var compatibility = new Option<string?>("--compatibility") { Description = "NONE, DISABLED, BACKWARD (default for a new schema), BACKWARD_ALL, FORWARD, FORWARD_ALL, FULL, FULL_ALL" };
        compatibility.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && SchemaNames.ParseCompatibility(r.Tokens[0].Value) is null)
            {
                r.AddError($"--compatibility '{r.Tokens[0].Value}' is not one of NONE, DISABLED, BACKWARD, BACKWARD_ALL, FORWARD, FORWARD_ALL, FULL, FULL_ALL.");
            }
        });
        var command = new Command("register", "Register a schema version (identical definitions return the existing version; refused versions exit 5 with the reasons)")
        {
            name, file, format, compatibility,
        };
        command.SetAction((parse, ct) => RunAsync(parse, async registry =>
        {
            string schemaName = parse.GetRequiredValue(name);
            string definition = await ReadDefinitionAsync(parse.GetRequiredValue(file), ct).ConfigureAwait(false);
            SchemaFormat schemaFormat = SchemaNames.ParseFormat(parse.GetValue(format))
                ?? await ExistingFormatAsync(registry, schemaName, ct).ConfigureAwait(false)
                ?? SchemaFormat.Avro;
            CompatibilityMode? mode = SchemaNames.ParseCompatibility(parse.GetValue(compatibility));
            RegistrationResult result;
            try
            {
                result = await registry.RegisterAsync(schemaName, schemaFormat, definition, mode, ct).ConfigureAwait(false);
            }
            catch (IncompatibleSchemaException ex)
            {
                WriteCheck(console, parse, schemaName, ex.Result);
                return ExitCodes.InvalidInput;
            }

            if (Json(parse))
            {
                console.WriteJsonLine(w =>
                {
                    w.WriteStartObject();
                    WriteVersion(w, result.Version);
                    w.WriteBoolean("created", result.Created);
                    w.WriteEndObject();
                });
            }
            else
            {
                console.Out.WriteLine(result.Created
                    ? $"Registered {schemaName} version {result.Version.VersionNumber} ({result.Version.Format.ToGlue()}), version id {result.Version.VersionId}."
                    : $"{schemaName} version {result.Version.VersionNumber} already has this definition, version id {result.Version.VersionId}.");
            }

            return ExitCodes.Success;
        }, ct));
        return command;
    }

    private static Command ListVerb(CliConsole console)
    {
        var command = new Command("list", "List the registry's schemas");
        command.SetAction((parse, ct) => RunAsync(parse, async registry =>
        {
            IReadOnlyList<SchemaInfo> all = await registry.ListSchemasAsync(ct).ConfigureAwait(false);
            if (Json(parse))
            {
                console.WriteJsonLine(w =>
                {
                    w.WriteStartObject();
                    w.WriteStartArray("schemas");
                    foreach (SchemaInfo s in all)
                    {
                        w.WriteStartObject();
                        WriteInfo(w, s);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                });
            }
            else if (all.Count == 0)
            {
                console.Out.WriteLine("No schemas.");
            }
            else
            {
                foreach (SchemaInfo s in all)
                {
                    console.Out.WriteLine($"{s.Name}  {s.Format.ToGlue()}  {s.Compatibility.ToGlue()}  latest version {s.LatestVersion}");
                }
            }

            return ExitCodes.Success;
        }, ct));
        return command;
    }

    private static Command DescribeVerb(CliConsole console)
    {
        var name = NameArgument();
        var version = new Option<int?>("--version") { Description = "Version number (default: the latest)" };
        version.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 1)
            {
                r.AddError("--version must be at least 1.");
            }
        });
        var command = new Command("describe", "Show a schema's settings and one version's definition") { name, version };
        command.SetAction((parse, ct) => RunAsync(parse, async registry =>
        {
            string schemaName = parse.GetRequiredValue(name);
            SchemaInfo info = await registry.DescribeAsync(schemaName, ct).ConfigureAwait(false);
            SchemaVersion selected = await registry.GetVersionAsync(schemaName, parse.GetValue(version), ct).ConfigureAwait(false);
            if (Json(parse))
            {
                console.WriteJsonLine(w =>
                {
                    w.WriteStartObject();
                    WriteInfo(w, info);
                    w.WriteStartObject("version");
                    WriteVersion(w, selected);
                    w.WriteString("definition", selected.Definition);
                    if (selected.CreatedAt is { } at)
                    {
                        w.WriteString("createdAt", at);
                    }

                    w.WriteEndObject();
                    w.WriteEndObject();
                });
            }
            else
            {
                console.Out.WriteLine($"Schema:        {info.Name}");
                console.Out.WriteLine($"Format:        {info.Format.ToGlue()}");
                console.Out.WriteLine($"Compatibility: {info.Compatibility.ToGlue()}");
                console.Out.WriteLine($"Latest:        {info.LatestVersion}");
                console.Out.WriteLine($"Version:       {selected.VersionNumber} (id {selected.VersionId})");
                console.Out.WriteLine(selected.Definition);
            }

            return ExitCodes.Success;
        }, ct));
        return command;
    }

    private static Command CheckVerb(CliConsole console)
    {
        var name = NameArgument();
        var file = FileOption();
        var command = new Command("check", "Check a definition against the schema's versions under its compatibility mode: exit 0 compatible, 5 incompatible (with reasons)")
        {
            name, file,
        };
        command.SetAction((parse, ct) => RunAsync(parse, async registry =>
        {
            string schemaName = parse.GetRequiredValue(name);
            string definition = await ReadDefinitionAsync(parse.GetRequiredValue(file), ct).ConfigureAwait(false);
            CompatibilityResult result = await registry.CheckAsync(schemaName, definition, ct).ConfigureAwait(false);
            WriteCheck(console, parse, schemaName, result);
            return result.IsCompatible ? ExitCodes.Success : ExitCodes.InvalidInput;
        }, ct));
        return command;
    }

    private static void WriteCheck(CliConsole console, ParseResult parse, string schemaName, CompatibilityResult result)
    {
        if (Json(parse))
        {
            console.WriteJsonLine(w =>
            {
                w.WriteStartObject();
                w.WriteString("schemaName", schemaName);
                w.WriteBoolean("compatible", result.IsCompatible);
                w.WriteString("compatibility", result.Mode.ToGlue());
                w.WriteStartArray("checkedVersions");
                foreach (int v in result.CheckedVersions)
                {
                    w.WriteNumberValue(v);
                }

                w.WriteEndArray();
                w.WriteStartArray("reasons");
                foreach (CompatibilityViolation v in result.Violations)
                {
                    w.WriteStartObject();
                    w.WriteNumber("againstVersion", v.AgainstVersion);
                    w.WriteString("direction", v.Direction == CompatibilityDirection.NewReadsOld ? "new-reads-old" : "old-reads-new");
                    w.WriteString("path", v.Issue.Path);
                    w.WriteString("rule", v.Issue.Rule);
                    w.WriteString("message", v.Issue.Message);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            });
        }
        else if (result.IsCompatible)
        {
            console.Out.WriteLine($"Compatible ({result.Mode.ToGlue()}, checked against version(s) {string.Join(", ", result.CheckedVersions)}).");
        }
        else
        {
            console.Out.WriteLine($"Incompatible ({result.Mode.ToGlue()}):");
            foreach (CompatibilityViolation v in result.Violations)
            {
                console.Out.WriteLine("  " + v);
            }
        }

        if (!result.IsCompatible)
        {
            console.WriteError($"schema '{schemaName}': the definition is not {result.Mode.ToGlue()} compatible ({result.Violations.Count} reason(s))");
        }
    }

    private static void WriteInfo(Utf8JsonWriter w, SchemaInfo s)
    {
        w.WriteString("schemaName", s.Name);
        w.WriteString("format", s.Format.ToGlue());
        w.WriteString("compatibility", s.Compatibility.ToGlue());
        w.WriteNumber("latestVersion", s.LatestVersion);
        if (s.Arn is not null)
        {
            w.WriteString("schemaArn", s.Arn);
        }
    }

    private static void WriteVersion(Utf8JsonWriter w, SchemaVersion v)
    {
        w.WriteString("schemaName", v.SchemaName);
        w.WriteNumber("versionNumber", v.VersionNumber);
        w.WriteString("versionId", v.VersionId.ToString("D"));
        w.WriteString("format", v.Format.ToGlue());
    }

    private static bool Json(ParseResult parse) => parse.GetValue(GlobalOptions.Json);

    private static async Task<SchemaFormat?> ExistingFormatAsync(ISchemaRegistry registry, string schemaName, CancellationToken ct)
    {
        try
        {
            return (await registry.DescribeAsync(schemaName, ct).ConfigureAwait(false)).Format;
        }
        catch (SchemaNotFoundException)
        {
            return null;
        }
    }

    private static async Task<string> ReadDefinitionAsync(FileInfo file, CancellationToken ct)
    {
        if (!file.Exists)
        {
            throw CliException.NotFound($"--file: '{file.FullName}' does not exist.");
        }

        return await File.ReadAllTextAsync(file.FullName, ct).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="body"/> with the chosen registry, mapping schema errors to exit codes.</summary>
    private static async Task<int> RunAsync(ParseResult parse, Func<ISchemaRegistry, Task<int>> body, CancellationToken ct)
    {
        await using SchemaRegistryHandle handle = await OpenAsync(parse, ct).ConfigureAwait(false);
        try
        {
            return await body(handle.Registry).ConfigureAwait(false);
        }
        catch (SchemaException ex)
        {
            throw ToCli(ex);
        }
    }

    /// <summary>The CLI's reading of a schema error: exit code and message.</summary>
    public static CliException ToCli(SchemaException ex) => ex switch
    {
        SchemaNotFoundException or SchemaVersionNotFoundException => CliException.NotFound(ex.Message, ex),
        InvalidSchemaException or RecordValidationException or IncompatibleSchemaException or SchemaDataException => CliException.InvalidInput(ex.Message, ex),
        SchemaRegistryException { ErrorCode: "Network" or "Timeout" } => CliException.Unreachable(ex.Message, ex),
        GlueServiceException { ErrorCode: "EntityNotFoundException" } => CliException.NotFound(ex.Message, ex),
        GlueServiceException { ErrorCode: "InvalidInputException" or "ValidationException" } => CliException.InvalidInput(ex.Message, ex),
        _ => new CliException(ExitCodes.Failure, ex.Message, ex),
    };

    /// <summary>Opens the registry the command line names (see <see cref="Registry"/>); dispose it when done.</summary>
    /// <exception cref="CliException">A malformed --registry, or no region for Glue.</exception>
    public static async Task<SchemaRegistryHandle> OpenAsync(ParseResult parse, CancellationToken ct)
    {
        string? choice = parse.GetValue(Registry)?.Trim();
        bool local = parse.GetValue(GlobalOptions.Local) || parse.GetValue(GlobalOptions.DynamoDbEndpoint) is not null || parse.GetValue(GlobalOptions.Endpoint) is not null;
        choice ??= local ? "local" : "glue:" + DefaultGlueRegistry;
        if (choice == "local")
        {
            CloudConnection connection = await CloudConnection.FromAsync(parse, ct).ConfigureAwait(false);
            var registry = new DynamoDbSchemaRegistry(connection.DynamoDb, DynamoDbSchemaRegistry.DefaultTableName);
            await registry.EnsureTableAsync(ct).ConfigureAwait(false);
            return new SchemaRegistryHandle(new CachingSchemaRegistry(registry), connection, null);
        }

        if (!choice.StartsWith("glue:", StringComparison.Ordinal) || choice.Length == "glue:".Length)
        {
            throw CliException.Usage($"--registry '{choice}' must be 'local' or 'glue:REGISTRY_NAME'.");
        }

        Uri? endpoint = parse.GetValue(GlueEndpoint);
        string region = parse.GetValue(GlobalOptions.Region) ?? Environment.GetEnvironmentVariable("AWS_REGION") ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION")
            ?? (endpoint is not null ? "us-east-1" : throw CliException.Usage("No region for AWS Glue: pass --region or set AWS_REGION."));
        string? profile = parse.GetValue(GlobalOptions.Profile);
        AWSCredentials? credentials = null;
        if (profile is not null)
        {
            credentials = new CredentialProfileStoreChain().TryGetAWSCredentials(profile, out AWSCredentials found)
                ? found
                : throw CliException.NotFound($"--profile: no credentials profile named '{profile}' in the shared config/credentials files.");
        }
        else if (endpoint is not null && (endpoint.IsLoopback || IPAddress.TryParse(endpoint.Host, out IPAddress? ip) && IPAddress.IsLoopback(ip)))
        {
            // A local fake verifies no signature: never consult the credential chain (it may probe instance metadata).
            CloudConnection.SafeLocalEnvironment();
            credentials = new BasicAWSCredentials("test", "test");
        }

        var client = new GlueClient(new GlueClientOptions { Region = region, ServiceUrl = endpoint, Credentials = credentials });
        var glue = new GlueSchemaRegistry(client, choice["glue:".Length..]);
        return new SchemaRegistryHandle(new CachingSchemaRegistry(glue), null, client);
    }

    /// <summary>A registry with the clients it owns.</summary>
    public sealed class SchemaRegistryHandle : IAsyncDisposable
    {
        private readonly CloudConnection? _connection;
        private readonly GlueClient? _glue;

        internal SchemaRegistryHandle(ISchemaRegistry registry, CloudConnection? connection, GlueClient? glue)
        {
            Registry = registry;
            _connection = connection;
            _glue = glue;
        }

        /// <summary>The registry (cached lookups).</summary>
        public ISchemaRegistry Registry { get; }

        /// <inheritdoc />
        public ValueTask DisposeAsync()
        {
            _connection?.Dispose();
            _glue?.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
