using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cloud.Schemas.Tests;

/// <summary>One request the fake received.</summary>
internal sealed record GlueCall(string Target, string ContentType, string Authorization, string AmzDate, string ContentSha256, JsonElement Body);

/// <summary>
/// A loopback HTTP server (127.0.0.1) that answers AWS Glue JSON 1.1 schema-registry calls from an in-memory state, in
/// the response shapes of the Glue API reference, and records every request. Errors use Glue's JSON error shape
/// (<c>{"__type": ..., "Message": ...}</c>, HTTP 400).
/// </summary>
internal sealed class FakeGlueServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private readonly Dictionary<string, Schema> _schemas = new(StringComparer.Ordinal);
    private readonly List<GlueCall> _calls = [];

    public FakeGlueServer()
    {
        int port = FreePort();
        Endpoint = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Endpoint.ToString());
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public Uri Endpoint { get; }

    /// <summary>When set, the next call is answered with this status and body instead.</summary>
    public (int Status, string Body)? NextError { get; set; }

    /// <summary>Status a newly registered version gets (Glue may answer PENDING, then AVAILABLE or FAILURE).</summary>
    public string NewVersionStatus { get; set; } = "AVAILABLE";

    public IReadOnlyList<GlueCall> Calls
    {
        get
        {
            lock (_calls)
            {
                return _calls.ToList();
            }
        }
    }

    private sealed class Schema
    {
        public required string Name { get; init; }
        public required string Format { get; init; }
        public required string Compatibility { get; set; }
        public List<(Guid Id, string Definition, string Status)> Versions { get; } = [];
        public string Arn => $"arn:aws:glue:us-east-1:123456789012:schema/reg/{Name}";
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            string text = await reader.ReadToEndAsync();
            var call = new GlueCall(
                context.Request.Headers["X-Amz-Target"] ?? "",
                context.Request.ContentType ?? "",
                context.Request.Headers["Authorization"] ?? "",
                context.Request.Headers["X-Amz-Date"] ?? "",
                context.Request.Headers["X-Amz-Content-SHA256"] ?? "",
                JsonDocument.Parse(text).RootElement.Clone());
            lock (_calls)
            {
                _calls.Add(call);
            }

            (int status, string body) = Answer(call);
            byte[] bytes = Encoding.UTF8.GetBytes(body);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/x-amz-json-1.1";
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    private (int, string) Answer(GlueCall call)
    {
        if (NextError is { } error)
        {
            NextError = null;
            return error;
        }

        JsonElement b = call.Body;
        lock (_schemas)
        {
            string op = call.Target.StartsWith("AWSGlue.", StringComparison.Ordinal) ? call.Target["AWSGlue.".Length..] : "";
            switch (op)
            {
                case "CreateRegistry":
                    return (200, Json(new JsonObject { ["RegistryArn"] = "arn:aws:glue:us-east-1:123456789012:registry/" + b.GetProperty("RegistryName").GetString(), ["RegistryName"] = b.GetProperty("RegistryName").GetString() }));
                case "CreateSchema":
                    {
                        string name = b.GetProperty("SchemaName").GetString()!;
                        if (_schemas.ContainsKey(name))
                        {
                            return NotFoundOr("AlreadyExistsException", "Schema already exists.");
                        }

                        var schema = new Schema { Name = name, Format = b.GetProperty("DataFormat").GetString()!, Compatibility = b.GetProperty("Compatibility").GetString()! };
                        var id = Guid.NewGuid();
                        schema.Versions.Add((id, b.GetProperty("SchemaDefinition").GetString()!, "AVAILABLE"));
                        _schemas[name] = schema;
                        return (200, Json(new JsonObject
                        {
                            ["RegistryName"] = "reg", ["SchemaName"] = name, ["SchemaArn"] = schema.Arn, ["DataFormat"] = schema.Format,
                            ["Compatibility"] = schema.Compatibility, ["SchemaCheckpoint"] = 1, ["LatestSchemaVersion"] = 1, ["NextSchemaVersion"] = 2,
                            ["SchemaStatus"] = "AVAILABLE", ["SchemaVersionId"] = id.ToString(), ["SchemaVersionStatus"] = "AVAILABLE",
                        }));
                    }

                case "GetSchema":
                    {
                        if (!TryFind(b, out Schema? s))
                        {
                            return NotFoundOr("EntityNotFoundException", "Schema is not found.");
                        }

                        return (200, Json(new JsonObject
                        {
                            ["RegistryName"] = "reg", ["SchemaName"] = s.Name, ["SchemaArn"] = s.Arn, ["DataFormat"] = s.Format, ["Compatibility"] = s.Compatibility,
                            ["SchemaCheckpoint"] = s.Versions.Count, ["LatestSchemaVersion"] = s.Versions.Count, ["NextSchemaVersion"] = s.Versions.Count + 1, ["SchemaStatus"] = "AVAILABLE",
                        }));
                    }

                case "RegisterSchemaVersion":
                    {
                        if (!TryFind(b, out Schema? s))
                        {
                            return NotFoundOr("EntityNotFoundException", "Schema is not found.");
                        }

                        string definition = b.GetProperty("SchemaDefinition").GetString()!;
                        int existing = s.Versions.FindIndex(v => v.Definition == definition);
                        if (existing >= 0)
                        {
                            return (200, Json(new JsonObject { ["SchemaVersionId"] = s.Versions[existing].Id.ToString(), ["VersionNumber"] = existing + 1, ["Status"] = s.Versions[existing].Status }));
                        }

                        var id = Guid.NewGuid();
                        s.Versions.Add((id, definition, NewVersionStatus));
                        return (200, Json(new JsonObject { ["SchemaVersionId"] = id.ToString(), ["VersionNumber"] = s.Versions.Count, ["Status"] = NewVersionStatus == "AVAILABLE" ? "AVAILABLE" : "PENDING" }));
                    }

                case "GetSchemaVersion":
                    {
                        (Schema? s, int index) = FindVersion(b);
                        if (s is null)
                        {
                            return NotFoundOr("EntityNotFoundException", "Schema version is not found.");
                        }

                        var v = s.Versions[index];
                        return (200, Json(new JsonObject
                        {
                            ["SchemaVersionId"] = v.Id.ToString(), ["SchemaDefinition"] = v.Definition, ["DataFormat"] = s.Format, ["SchemaArn"] = s.Arn,
                            ["VersionNumber"] = index + 1, ["Status"] = v.Status, ["CreatedTime"] = "2026-12-07T02:00:00.000Z",
                        }));
                    }

                case "GetSchemaByDefinition":
                    {
                        if (!TryFind(b, out Schema? s))
                        {
                            return NotFoundOr("EntityNotFoundException", "Schema is not found.");
                        }

                        string definition = b.GetProperty("SchemaDefinition").GetString()!;
                        int index = s.Versions.FindIndex(v => v.Definition == definition);
                        if (index < 0)
                        {
                            return NotFoundOr("EntityNotFoundException", "Schema version is not found.");
                        }

                        return (200, Json(new JsonObject { ["SchemaVersionId"] = s.Versions[index].Id.ToString(), ["SchemaArn"] = s.Arn, ["DataFormat"] = s.Format, ["Status"] = s.Versions[index].Status, ["CreatedTime"] = "2026-12-07T02:00:00.000Z" }));
                    }

                case "ListSchemaVersions":
                    {
                        if (!TryFind(b, out Schema? s))
                        {
                            return NotFoundOr("EntityNotFoundException", "Schema is not found.");
                        }

                        // Two pages when there are more than two versions, to exercise NextToken.
                        int start = b.TryGetProperty("NextToken", out JsonElement token) ? int.Parse(token.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : 0;
                        int count = Math.Min(2, s.Versions.Count - start);
                        var items = new JsonArray();
                        for (int i = start; i < start + count; i++)
                        {
                            items.Add(new JsonObject { ["SchemaArn"] = s.Arn, ["SchemaVersionId"] = s.Versions[i].Id.ToString(), ["VersionNumber"] = i + 1, ["Status"] = s.Versions[i].Status, ["CreatedTime"] = "2026-12-07T02:00:00.000Z" });
                        }

                        var answer = new JsonObject { ["Schemas"] = items };
                        if (start + count < s.Versions.Count)
                        {
                            answer["NextToken"] = (start + count).ToString(System.Globalization.CultureInfo.InvariantCulture);
                        }

                        return (200, Json(answer));
                    }

                case "UpdateSchema":
                    {
                        if (!TryFind(b, out Schema? s))
                        {
                            return NotFoundOr("EntityNotFoundException", "Schema is not found.");
                        }

                        s.Compatibility = b.GetProperty("Compatibility").GetString()!;
                        return (200, Json(new JsonObject { ["SchemaArn"] = s.Arn, ["SchemaName"] = s.Name, ["RegistryName"] = "reg" }));
                    }

                case "ListSchemas":
                    {
                        var items = new JsonArray();
                        foreach (Schema s in _schemas.Values)
                        {
                            items.Add(new JsonObject { ["RegistryName"] = "reg", ["SchemaName"] = s.Name, ["SchemaArn"] = s.Arn, ["SchemaStatus"] = "AVAILABLE" });
                        }

                        return (200, Json(new JsonObject { ["Schemas"] = items }));
                    }

                default:
                    return (400, """{"__type":"UnknownOperationException","message":"unknown operation"}""");
            }
        }
    }

    private bool TryFind(JsonElement body, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Schema? schema)
    {
        schema = null;
        return body.TryGetProperty("SchemaId", out JsonElement id) && _schemas.TryGetValue(id.GetProperty("SchemaName").GetString()!, out schema);
    }

    private (Schema?, int) FindVersion(JsonElement body)
    {
        if (body.TryGetProperty("SchemaVersionId", out JsonElement idElement))
        {
            var id = Guid.Parse(idElement.GetString()!);
            foreach (Schema s in _schemas.Values)
            {
                int i = s.Versions.FindIndex(v => v.Id == id);
                if (i >= 0)
                {
                    var v = s.Versions[i];
                    if (v.Status == "PENDING")
                    {
                        s.Versions[i] = (v.Id, v.Definition, "FAILURE"); // the next read sees Glue's verdict
                    }

                    return (s, i);
                }
            }

            return (null, -1);
        }

        if (!TryFind(body, out Schema? schema))
        {
            return (null, -1);
        }

        JsonElement number = body.GetProperty("SchemaVersionNumber");
        int index = number.TryGetProperty("LatestVersion", out JsonElement latest) && latest.GetBoolean()
            ? schema.Versions.Count - 1
            : number.GetProperty("VersionNumber").GetInt32() - 1;
        return index >= 0 && index < schema.Versions.Count ? (schema, index) : (null, -1);
    }

    private static (int, string) NotFoundOr(string type, string message) =>
        (400, Json(new JsonObject { ["__type"] = type, ["Message"] = message }));

    private static string Json(JsonObject o) => o.ToJsonString();

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception)
        {
            // stopping
        }
    }
}
