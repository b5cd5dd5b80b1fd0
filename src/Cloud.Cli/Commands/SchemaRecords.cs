using System.CommandLine;
using System.Text;
using Amazon.DynamoDBv2;
using Cloud.Cli.Infrastructure;
using Cloud.DataGenerator;
using Cloud.Records;
using Cloud.Schemas;

namespace Cloud.Cli.Commands;

/// <summary>
/// The schema side of <c>produce</c> and <c>consume</c>: <c>--schema NAME [--schema-version N]</c> validates and
/// encodes each JSON line in the AWS Glue Schema Registry format (the version is resolved once); consume decodes GSR
/// records to their JSON view with their schema's name and version. Kept apart from the verbs' Kinesis code.
/// </summary>
public static class SchemaRecords
{
    /// <summary><c>--schema NAME</c> of produce.</summary>
    public static Option<string?> SchemaOption() => new("--schema") { Description = "Validate each record against this registered schema and send it in the AWS Glue Schema Registry format" };

    /// <summary><c>--schema-version N</c> of produce.</summary>
    public static Option<int?> SchemaVersionOption() => new("--schema-version") { Description = "Version of --schema (default: the latest)" };

    /// <summary>The encoder for produce, or null without <c>--schema</c>.</summary>
    /// <exception cref="CliException">The schema or version does not exist (3), or --schema-version without --schema (2).</exception>
    public static async Task<Producer?> CreateProducerAsync(ParseResult parse, Option<string?> schema, Option<int?> version, CancellationToken ct)
    {
        string? name = parse.GetValue(schema);
        int? number = parse.GetValue(version);
        if (name is null)
        {
            return number is null ? null : throw CliException.Usage("--schema-version needs --schema.");
        }

        if (number is < 1)
        {
            throw CliException.Usage("--schema-version must be at least 1.");
        }

        SchemasCommand.SchemaRegistryHandle handle = await SchemasCommand.OpenAsync(parse, ct).ConfigureAwait(false);
        try
        {
            return new Producer(await GsrSerializer.CreateAsync(handle.Registry, name, number, cancellationToken: ct).ConfigureAwait(false), handle);
        }
        catch (SchemaException ex)
        {
            await handle.DisposeAsync().ConfigureAwait(false);
            throw SchemasCommand.ToCli(ex);
        }
    }

    /// <summary>Encodes produce's records with one schema version.</summary>
    public sealed class Producer : IAsyncDisposable
    {
        private readonly GsrSerializer _serializer;
        private readonly SchemasCommand.SchemaRegistryHandle _handle;

        internal Producer(GsrSerializer serializer, SchemasCommand.SchemaRegistryHandle handle)
        {
            _serializer = serializer;
            _handle = handle;
        }

        /// <summary>The version records are written with.</summary>
        public SchemaVersion Version => _serializer.Version;

        /// <summary>The GSR record for a JSON line, or null (after an error line naming the field) when it does not match.</summary>
        public byte[]? Encode(byte[] json, int lineNumber, CliConsole console)
        {
            try
            {
                return _serializer.Serialize(Encoding.UTF8.GetString(json));
            }
            catch (RecordValidationException ex)
            {
                console.WriteError($"line {lineNumber}: {ex.Message} (schema {Version.SchemaName} version {Version.VersionNumber}); skipped.");
                return null;
            }
        }

        /// <inheritdoc />
        public ValueTask DisposeAsync() => _handle.DisposeAsync();
    }

    /// <summary>Consume's decoder: opens the registry when the first GSR record arrives.</summary>
    public sealed class ConsumerView(ParseResult parse) : IAsyncDisposable
    {
        private SchemasCommand.SchemaRegistryHandle? _handle;
        private GsrDeserializer? _deserializer;

        /// <summary>Records that looked like GSR but could not be decoded.</summary>
        public int Failed { get; private set; }

        /// <summary>The JSON view of a GSR record (and its decoding), or the bytes unchanged; a failure is reported and the bytes kept.</summary>
        public async ValueTask<(ReadOnlyMemory<byte> Data, GsrDecodedRecord? Decoded)> DecodeAsync(ReadOnlyMemory<byte> data, string where, CliConsole console, CancellationToken ct)
        {
            if (!GsrWireFormat.IsGsr(data.Span))
            {
                return (data, null);
            }

            try
            {
                if (_deserializer is null)
                {
                    _handle = await SchemasCommand.OpenAsync(parse, ct).ConfigureAwait(false);
                    _deserializer = new GsrDeserializer(_handle.Registry);
                }

                GsrDecodedRecord decoded = await _deserializer.DecodeAsync(data, ct).ConfigureAwait(false);
                return (decoded.Json, decoded);
            }
            catch (Exception ex) when (ex is SchemaException or FormatException)
            {
                Failed++;
                console.WriteError($"{where}: GSR record not decoded: {ex.Message}; printed as bytes.");
                return (data, null);
            }
        }

        /// <inheritdoc />
        public ValueTask DisposeAsync() => _handle?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    /// <summary>Writes a decoded GSR user record: the JSON in <c>data</c>, plus <c>schemaName</c>, <c>schemaVersion</c>, <c>schemaVersionId</c>.</summary>
    public static void WriteDecoded(CliConsole console, UserRecord record, ReadOnlyMemory<byte> json, GsrDecodedRecord decoded, string? shardId)
    {
        console.WriteJsonLine(w =>
        {
            w.WriteStartObject();
            w.WriteString("partitionKey", record.PartitionKey);
            if (record.ExplicitHashKey is not null)
            {
                w.WriteString("explicitHashKey", record.ExplicitHashKey);
            }

            w.WritePropertyName("data");
            w.WriteRawValue(json.Span, skipInputValidation: false);
            w.WriteString("schemaName", decoded.Version.SchemaName);
            w.WriteNumber("schemaVersion", decoded.Version.VersionNumber);
            w.WriteString("schemaVersionId", decoded.Version.VersionId.ToString("D"));
            if (shardId is not null)
            {
                w.WriteString("shardId", shardId);
            }

            if (record.SequenceNumber is not null)
            {
                w.WriteString("sequenceNumber", record.SequenceNumber);
            }

            w.WriteNumber("subSequenceNumber", record.SubSequenceNumber);
            w.WriteEndObject();
        });
    }

    /// <summary><c>--schema-format avro|json|none</c> of the pipeline (default avro).</summary>
    public static readonly Option<string> PipelineSchemaFormat = CreatePipelineSchemaFormat();

    private static Option<string> CreatePipelineSchemaFormat()
    {
        var option = new Option<string>("--schema-format")
        {
            Description = "Event encoding: avro (GSR wire format, the default), json (JSON Schema in GSR format) or none (plain JSON)",
            DefaultValueFactory = _ => "avro",
        };
        option.AcceptOnlyFromAmong("avro", "json", "none");
        return option;
    }

    /// <summary>The pipeline's registered event schema: encodes generated events, decodes them for the dashboard.</summary>
    public sealed class PipelineSchema
    {
        private readonly GsrSerializer _serializer;
        private readonly GsrDeserializer _deserializer;

        private PipelineSchema(GsrSerializer serializer, GsrDeserializer deserializer)
        {
            _serializer = serializer;
            _deserializer = deserializer;
        }

        /// <summary>The version events are written with.</summary>
        public SchemaVersion Version => _serializer.Version;

        /// <summary>For the dashboard: name, version, format and id.</summary>
        public string Label => $"{Version.SchemaName} version {Version.VersionNumber} ({Version.Format.ToGlue()}, id {Version.VersionId})";

        /// <summary>
        /// Registers the events' schema (Avro or JSON Schema) in the local registry, the table the Aggregator reads,
        /// unless the format is none. An identical definition reuses its version.
        /// </summary>
        public static async Task<PipelineSchema?> RegisterAsync(ParseResult parse, IAmazonDynamoDB dynamoDb, EventKind kind, CancellationToken ct)
        {
            SchemaFormat? format = SchemaNames.ParseFormat(parse.GetValue(PipelineSchemaFormat));
            if (format is not { } f)
            {
                return null;
            }

            var registry = new DynamoDbSchemaRegistry(dynamoDb, DynamoDbSchemaRegistry.DefaultTableName);
            await registry.EnsureTableAsync(ct).ConfigureAwait(false);
            bool clicks = kind == EventKind.Clickstream;
            string name = $"cloud-{(clicks ? "clickstream" : "ride-pricing")}-{(f == SchemaFormat.Avro ? "avro" : "json")}";
            string definition = (clicks, f) switch
            {
                (true, SchemaFormat.Avro) => EventSchemas.ClickstreamAvro,
                (true, _) => EventSchemas.ClickstreamJsonSchema,
                (false, SchemaFormat.Avro) => EventSchemas.RidePricingAvro,
                _ => EventSchemas.RidePricingJsonSchema,
            };
            RegistrationResult registered = await registry.RegisterAsync(name, f, definition, cancellationToken: ct).ConfigureAwait(false);
            return new PipelineSchema(GsrSerializer.For(registered.Version), new GsrDeserializer(new CachingSchemaRegistry(registry)));
        }

        /// <summary>The GSR record of a (possibly field-encrypted) JSON event.</summary>
        public byte[] Encode(ReadOnlyMemory<byte> json) => _serializer.Serialize(Encoding.UTF8.GetString(json.Span));

        /// <summary>The JSON view of a GSR record; other bytes unchanged.</summary>
        public async ValueTask<ReadOnlyMemory<byte>> DecodeAsync(ReadOnlyMemory<byte> data, CancellationToken ct) =>
            GsrWireFormat.IsGsr(data.Span) ? (await _deserializer.DecodeAsync(data, ct).ConfigureAwait(false)).Json : data;
    }

    /// <summary>The pipeline summary's <c>schema</c> object (null for plain JSON).</summary>
    public static void WritePipelineSchema(System.Text.Json.Utf8JsonWriter w, SchemaVersion? version)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (version is null)
        {
            w.WriteNull("schema");
            return;
        }

        w.WriteStartObject("schema");
        w.WriteString("schemaName", version.SchemaName);
        w.WriteNumber("schemaVersion", version.VersionNumber);
        w.WriteString("schemaVersionId", version.VersionId.ToString("D"));
        w.WriteString("format", version.Format.ToGlue());
        w.WriteEndObject();
    }
}
