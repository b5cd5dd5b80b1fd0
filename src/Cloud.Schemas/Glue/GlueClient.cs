using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Amazon.Runtime;

namespace Cloud.Schemas.Glue;

/// <summary>Settings of <see cref="GlueClient"/>.</summary>
public sealed record GlueClientOptions
{
    /// <summary>AWS region (signing and the default endpoint).</summary>
    /// <value>The default value is <c>AWS_REGION</c>, else <c>us-east-1</c>.</value>
    public string Region { get; init; } = Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1";

    /// <summary>Endpoint override (a local fake, a VPC endpoint).</summary>
    /// <value>The default value is null: <c>https://glue.{Region}.amazonaws.com</c>.</value>
    public Uri? ServiceUrl { get; init; }

    /// <summary>Credentials.</summary>
    /// <value>The default value is null: the SDK's default chain, resolved on the first call.</value>
    public AWSCredentials? Credentials { get; init; }

    /// <summary>Timeout of one call.</summary>
    /// <value>The default value is 30 seconds.</value>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The clock used for request signing.</summary>
    /// <value>The default value is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The endpoint calls go to.</summary>
    public Uri Endpoint => ServiceUrl ?? new Uri($"https://glue.{Region}.amazonaws.com/");
}

/// <summary>
/// A small AWS Glue client for the Schema Registry operations (AWSSDK.Glue is not available here): JSON 1.1 over
/// HTTPS POST, <c>X-Amz-Target: AWSGlue.&lt;Operation&gt;</c>, <c>Content-Type: application/x-amz-json-1.1</c>, SigV4
/// (service <c>glue</c>) through AWSSDK.Core. API reference: https://docs.aws.amazon.com/glue/latest/webapi/.
/// Errors become <see cref="GlueServiceException"/> carrying Glue's <c>__type</c>. Thread-safe.
/// </summary>
public sealed class GlueClient : IDisposable
{
    private const string TargetPrefix = "AWSGlue.";
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/x-amz-json-1.1");

    private readonly GlueClientOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly GlueSigner _signer;

    /// <summary>Creates the client; <paramref name="httpClient"/> (not disposed here) is for tests.</summary>
    public GlueClient(GlueClientOptions? options = null, HttpClient? httpClient = null)
    {
        _options = options ?? new GlueClientOptions();
        if (string.IsNullOrWhiteSpace(_options.Region) || _options.Timeout <= TimeSpan.Zero || _options.TimeProvider is null)
        {
            throw new ArgumentException("Invalid GlueClientOptions: Region must be set, Timeout positive and TimeProvider not null.", nameof(options));
        }

        _ownsHttp = httpClient is null;
        _http = httpClient ?? new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        _signer = new GlueSigner(_options.Region, _options.Credentials);
    }

    /// <summary>The endpoint in use.</summary>
    public Uri Endpoint => _options.Endpoint;

    /// <summary>CreateRegistry: creates a registry.</summary>
    public async Task<string?> CreateRegistryAsync(string registryName, string? description = null, CancellationToken cancellationToken = default)
    {
        using JsonDocument response = await SendAsync("CreateRegistry", w =>
        {
            w.WriteString("RegistryName", registryName);
            if (description is not null)
            {
                w.WriteString("Description", description);
            }
        }, cancellationToken).ConfigureAwait(false);
        return Str(response.RootElement, "RegistryArn");
    }

    /// <summary>CreateSchema: creates a schema with its first version.</summary>
    public async Task<GlueSchemaVersionRef> CreateSchemaAsync(string registryName, string schemaName, SchemaFormat format, CompatibilityMode compatibility, string definition, CancellationToken cancellationToken = default)
    {
        using JsonDocument response = await SendAsync("CreateSchema", w =>
        {
            w.WriteStartObject("RegistryId");
            w.WriteString("RegistryName", registryName);
            w.WriteEndObject();
            w.WriteString("SchemaName", schemaName);
            w.WriteString("DataFormat", format.ToGlue());
            w.WriteString("Compatibility", compatibility.ToGlue());
            w.WriteString("SchemaDefinition", definition);
        }, cancellationToken).ConfigureAwait(false);
        JsonElement root = response.RootElement;
        return new GlueSchemaVersionRef(
            ParseId(Str(root, "SchemaVersionId")),
            Int(root, "LatestSchemaVersion") ?? 1,
            Str(root, "SchemaVersionStatus") ?? "AVAILABLE",
            Str(root, "SchemaArn"));
    }

    /// <summary>RegisterSchemaVersion: adds a version (Glue returns the existing one for an identical definition).</summary>
    public async Task<GlueSchemaVersionRef> RegisterSchemaVersionAsync(string registryName, string schemaName, string definition, CancellationToken cancellationToken = default)
    {
        using JsonDocument response = await SendAsync("RegisterSchemaVersion", w =>
        {
            WriteSchemaId(w, registryName, schemaName);
            w.WriteString("SchemaDefinition", definition);
        }, cancellationToken).ConfigureAwait(false);
        JsonElement root = response.RootElement;
        return new GlueSchemaVersionRef(ParseId(Str(root, "SchemaVersionId")), Int(root, "VersionNumber") ?? 0, Str(root, "Status") ?? "PENDING", null);
    }

    /// <summary>GetSchemaVersion by version id.</summary>
    public Task<GlueSchemaVersion> GetSchemaVersionAsync(Guid versionId, CancellationToken cancellationToken = default) =>
        GetSchemaVersionCoreAsync(w => w.WriteString("SchemaVersionId", versionId.ToString("D")), cancellationToken);

    /// <summary>GetSchemaVersion by schema and number (null: the latest).</summary>
    public Task<GlueSchemaVersion> GetSchemaVersionAsync(string registryName, string schemaName, int? versionNumber, CancellationToken cancellationToken = default) =>
        GetSchemaVersionCoreAsync(w =>
        {
            WriteSchemaId(w, registryName, schemaName);
            w.WriteStartObject("SchemaVersionNumber");
            if (versionNumber is { } n)
            {
                w.WriteNumber("VersionNumber", n);
            }
            else
            {
                w.WriteBoolean("LatestVersion", true);
            }

            w.WriteEndObject();
        }, cancellationToken);

    private async Task<GlueSchemaVersion> GetSchemaVersionCoreAsync(Action<Utf8JsonWriter> body, CancellationToken cancellationToken)
    {
        using JsonDocument response = await SendAsync("GetSchemaVersion", body, cancellationToken).ConfigureAwait(false);
        JsonElement root = response.RootElement;
        return new GlueSchemaVersion
        {
            VersionId = ParseId(Str(root, "SchemaVersionId")),
            Definition = Str(root, "SchemaDefinition") ?? throw Malformed("GetSchemaVersion", "SchemaDefinition"),
            DataFormat = Str(root, "DataFormat") ?? "",
            SchemaArn = Str(root, "SchemaArn"),
            VersionNumber = Int(root, "VersionNumber") ?? throw Malformed("GetSchemaVersion", "VersionNumber"),
            Status = Str(root, "Status") ?? "",
            CreatedTime = Str(root, "CreatedTime"),
        };
    }

    /// <summary>GetSchemaByDefinition: the version of a schema with exactly this definition.</summary>
    public async Task<GlueSchemaVersionRef> GetSchemaByDefinitionAsync(string registryName, string schemaName, string definition, CancellationToken cancellationToken = default)
    {
        using JsonDocument response = await SendAsync("GetSchemaByDefinition", w =>
        {
            WriteSchemaId(w, registryName, schemaName);
            w.WriteString("SchemaDefinition", definition);
        }, cancellationToken).ConfigureAwait(false);
        JsonElement root = response.RootElement;
        return new GlueSchemaVersionRef(ParseId(Str(root, "SchemaVersionId")), 0, Str(root, "Status") ?? "", Str(root, "SchemaArn"));
    }

    /// <summary>ListSchemaVersions, following NextToken to the end.</summary>
    public async Task<IReadOnlyList<GlueSchemaVersionRef>> ListSchemaVersionsAsync(string registryName, string schemaName, CancellationToken cancellationToken = default)
    {
        var result = new List<GlueSchemaVersionRef>();
        string? next = null;
        do
        {
            string? token = next;
            using JsonDocument response = await SendAsync("ListSchemaVersions", w =>
            {
                WriteSchemaId(w, registryName, schemaName);
                w.WriteNumber("MaxResults", 100);
                if (token is not null)
                {
                    w.WriteString("NextToken", token);
                }
            }, cancellationToken).ConfigureAwait(false);
            JsonElement root = response.RootElement;
            if (root.TryGetProperty("Schemas", out JsonElement schemas) && schemas.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement s in schemas.EnumerateArray())
                {
                    result.Add(new GlueSchemaVersionRef(ParseId(Str(s, "SchemaVersionId")), Int(s, "VersionNumber") ?? 0, Str(s, "Status") ?? "", Str(s, "SchemaArn")));
                }
            }

            next = Str(root, "NextToken");
        }
        while (!string.IsNullOrEmpty(next));

        return result.OrderBy(v => v.VersionNumber).ToList();
    }

    /// <summary>UpdateSchema: sets the compatibility mode.</summary>
    public async Task UpdateSchemaAsync(string registryName, string schemaName, CompatibilityMode compatibility, CancellationToken cancellationToken = default)
    {
        using JsonDocument response = await SendAsync("UpdateSchema", w =>
        {
            WriteSchemaId(w, registryName, schemaName);
            w.WriteString("Compatibility", compatibility.ToGlue());
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GetSchema: a schema's settings.</summary>
    public async Task<GlueSchema> GetSchemaAsync(string registryName, string schemaName, CancellationToken cancellationToken = default)
    {
        using JsonDocument response = await SendAsync("GetSchema", w => WriteSchemaId(w, registryName, schemaName), cancellationToken).ConfigureAwait(false);
        JsonElement root = response.RootElement;
        return new GlueSchema
        {
            SchemaName = Str(root, "SchemaName") ?? schemaName,
            SchemaArn = Str(root, "SchemaArn"),
            DataFormat = Str(root, "DataFormat") ?? "",
            Compatibility = Str(root, "Compatibility") ?? "",
            LatestSchemaVersion = Int(root, "LatestSchemaVersion") ?? 0,
        };
    }

    /// <summary>ListSchemas of a registry, following NextToken to the end: the names.</summary>
    public async Task<IReadOnlyList<string>> ListSchemasAsync(string registryName, CancellationToken cancellationToken = default)
    {
        var names = new List<string>();
        string? next = null;
        do
        {
            string? token = next;
            using JsonDocument response = await SendAsync("ListSchemas", w =>
            {
                w.WriteStartObject("RegistryId");
                w.WriteString("RegistryName", registryName);
                w.WriteEndObject();
                w.WriteNumber("MaxResults", 100);
                if (token is not null)
                {
                    w.WriteString("NextToken", token);
                }
            }, cancellationToken).ConfigureAwait(false);
            if (response.RootElement.TryGetProperty("Schemas", out JsonElement schemas) && schemas.ValueKind == JsonValueKind.Array)
            {
                names.AddRange(schemas.EnumerateArray().Select(s => Str(s, "SchemaName")).OfType<string>());
            }

            next = Str(response.RootElement, "NextToken");
        }
        while (!string.IsNullOrEmpty(next));

        return names;
    }

    /// <summary>Sends one operation and returns the response document (the caller disposes it).</summary>
    /// <exception cref="GlueServiceException">Glue answered with an error.</exception>
    /// <exception cref="SchemaRegistryException">The call failed (network, timeout) or the answer is not JSON.</exception>
    public async Task<JsonDocument> SendAsync(string operation, Action<Utf8JsonWriter> writeBody, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(operation);
        ArgumentNullException.ThrowIfNull(writeBody);
        var body = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writeBody(writer);
            writer.WriteEndObject();
        }

        byte[] payload = body.WrittenSpan.ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Post, _options.Endpoint) { Content = new ByteArrayContent(payload) };
        request.Content.Headers.ContentType = JsonContentType;
        request.Headers.TryAddWithoutValidation("X-Amz-Target", TargetPrefix + operation);
        await _signer.SignAsync(request, GlueSigner.HashPayload(payload), _options.TimeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false);

        using var timeout = new CancellationTokenSource(_options.Timeout, _options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        HttpResponseMessage response;
        byte[] content;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token).ConfigureAwait(false);
            content = await response.Content.ReadAsByteArrayAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new SchemaRegistryException($"Glue {operation} did not answer within {_options.Timeout}.", "Timeout", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new SchemaRegistryException($"Glue {operation} failed: {ex.Message}", "Network", ex);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw GlueServiceException.From(operation, response.StatusCode, content);
            }

            try
            {
                return JsonDocument.Parse(content.Length == 0 ? "{}"u8.ToArray() : content);
            }
            catch (JsonException ex)
            {
                throw new SchemaRegistryException($"Glue {operation} answered with a body that is not JSON.", "MalformedResponse", ex);
            }
        }
    }

    private static void WriteSchemaId(Utf8JsonWriter w, string registryName, string schemaName)
    {
        w.WriteStartObject("SchemaId");
        w.WriteString("RegistryName", registryName);
        w.WriteString("SchemaName", schemaName);
        w.WriteEndObject();
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int? Int(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) ? n : null;

    private static Guid ParseId(string? id) =>
        Guid.TryParse(id, out Guid g) ? g : throw new SchemaRegistryException($"Glue answered with a schema version id that is not a UUID.", "MalformedResponse");

    private static SchemaRegistryException Malformed(string operation, string field) =>
        new($"Glue {operation} answered without '{field}'.", "MalformedResponse");

    /// <inheritdoc />
    public void Dispose()
    {
        _signer.Dispose();
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }
}

/// <summary>A schema version as Glue names it in RegisterSchemaVersion, CreateSchema, GetSchemaByDefinition and ListSchemaVersions.</summary>
/// <param name="VersionId">SchemaVersionId.</param>
/// <param name="VersionNumber">VersionNumber (0 when the operation does not return it).</param>
/// <param name="Status">AVAILABLE, PENDING, FAILURE or DELETING.</param>
/// <param name="SchemaArn">The schema's ARN, when returned.</param>
public sealed record GlueSchemaVersionRef(Guid VersionId, int VersionNumber, string Status, string? SchemaArn);

/// <summary>GetSchemaVersion's answer.</summary>
public sealed record GlueSchemaVersion
{
    /// <summary>SchemaVersionId.</summary>
    public required Guid VersionId { get; init; }

    /// <summary>SchemaDefinition.</summary>
    public required string Definition { get; init; }

    /// <summary>DataFormat: AVRO, JSON or PROTOBUF.</summary>
    public required string DataFormat { get; init; }

    /// <summary>SchemaArn: <c>arn:aws:glue:region:account:schema/registry/name</c>.</summary>
    public string? SchemaArn { get; init; }

    /// <summary>VersionNumber.</summary>
    public required int VersionNumber { get; init; }

    /// <summary>Status.</summary>
    public required string Status { get; init; }

    /// <summary>CreatedTime (Glue sends a string).</summary>
    public string? CreatedTime { get; init; }
}

/// <summary>GetSchema's answer (the fields used here).</summary>
public sealed record GlueSchema
{
    /// <summary>SchemaName.</summary>
    public required string SchemaName { get; init; }

    /// <summary>SchemaArn.</summary>
    public string? SchemaArn { get; init; }

    /// <summary>DataFormat.</summary>
    public required string DataFormat { get; init; }

    /// <summary>Compatibility.</summary>
    public required string Compatibility { get; init; }

    /// <summary>LatestSchemaVersion.</summary>
    public required int LatestSchemaVersion { get; init; }
}

/// <summary>An error answer of Glue: <c>{"__type": "...#EntityNotFoundException", "Message": "..."}</c>.</summary>
public sealed class GlueServiceException : SchemaException
{
    private GlueServiceException(string operation, string errorCode, HttpStatusCode status, string message)
        : base($"Glue {operation} failed: {errorCode} ({(int)status}): {message}")
    {
        Operation = operation;
        ErrorCode = errorCode;
        StatusCode = status;
    }

    /// <summary>The operation called.</summary>
    public string Operation { get; }

    /// <summary>Glue's error type without namespace, for example <c>EntityNotFoundException</c>, <c>AlreadyExistsException</c>.</summary>
    public string ErrorCode { get; }

    /// <summary>The HTTP status.</summary>
    public HttpStatusCode StatusCode { get; }

    internal static GlueServiceException From(string operation, HttpStatusCode status, byte[] body)
    {
        string code = status == HttpStatusCode.NotFound ? "EntityNotFoundException" : $"Http{(int)status}";
        string message = "(no message)";
        try
        {
            using JsonDocument doc = JsonDocument.Parse(body);
            JsonElement root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("__type", out JsonElement type) && type.GetString() is { Length: > 0 } t)
                {
                    // "com.amazonaws.glue#EntityNotFoundException" or "EntityNotFoundException:http://..."
                    int hash = t.LastIndexOf('#');
                    t = hash >= 0 ? t[(hash + 1)..] : t;
                    int colon = t.IndexOf(':', StringComparison.Ordinal);
                    code = colon >= 0 ? t[..colon] : t;
                }

                if ((root.TryGetProperty("Message", out JsonElement m) || root.TryGetProperty("message", out m)) && m.ValueKind == JsonValueKind.String)
                {
                    message = m.GetString()!;
                }
            }
        }
        catch (JsonException)
        {
            message = $"(a {body.Length}-byte body that is not JSON)";
        }

        return new GlueServiceException(operation, code, status, message);
    }
}
