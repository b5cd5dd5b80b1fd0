using System.Buffers;
using System.Text.Json;
using Amazon.DynamoDBv2;
using Cloud.Consumer.Events;
using Cloud.Telemetry;
using Microsoft.Extensions.Logging;

namespace Cloud.Functions.Aggregator;

/// <summary>
/// Lambda entry point (<c>Cloud.Functions.Aggregator::Cloud.Functions.Aggregator.Function::FunctionHandler</c>):
/// Stream in (a <see cref="KinesisTimeWindowEvent"/>), Stream out (a <see cref="KinesisTimeWindowResponse"/>).
/// No Amazon.Lambda.Core needed. The same instance serves many invokes.
/// </summary>
public sealed class Function : IDisposable
{
    private readonly WindowAggregator _aggregator;
    private readonly IAmazonDynamoDB? _ownedClient;
    private readonly EmfMetricsWriter? _metrics;
    private static readonly JsonSerializerOptions ResponseOptions = KinesisEventsJsonContext.Default.Options;
    private ParsedWindowEvent? _spareEvent;

    /// <summary>Used by the Lambda runtime: configuration from environment variables, a DynamoDB client from the SDK's default chain.</summary>
    public Function()
    {
        AggregatorConfig config = AggregatorConfig.FromEnvironment();
        var clientConfig = new AmazonDynamoDBConfig();
        if (config.DynamoDbEndpoint is { } endpoint)
        {
            clientConfig.ServiceURL = endpoint.ToString();
            clientConfig.AuthenticationRegion = Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1";
        }

        _ownedClient = new AmazonDynamoDBClient(clientConfig);
        Config = config;
        _aggregator = new WindowAggregator(config, new DynamoDbAggregateSink(_ownedClient, config.TableName, config.WriteConcurrency), new ConsoleLogger(),
            SchemaDecoding.FromEnvironment(_ownedClient));
        _metrics = FunctionMetrics.CreateEmfWriter();
    }

    /// <summary>For tests and the local runner: explicit configuration and DynamoDB client (not disposed by this instance).</summary>
    public Function(AggregatorConfig config, IAmazonDynamoDB dynamoDb, ILogger? logger = null)
        : this(config, new DynamoDbAggregateSink(dynamoDb, (config ?? throw new ArgumentNullException(nameof(config))).TableName, config.WriteConcurrency), logger,
            SchemaDecoding.FromEnvironment(dynamoDb))
    {
    }

    /// <summary>For tests: explicit configuration and result sink (and, optionally, GSR decoding).</summary>
    public Function(AggregatorConfig config, IAggregateSink sink, ILogger? logger = null, SchemaDecoding? schemas = null)
        : this(config, sink, null, logger, schemas)
    {
    }

    /// <summary>With an EMF writer flushed once at the end of every invocation (the Lambda runtime's constructor makes one).</summary>
    public Function(AggregatorConfig config, IAggregateSink sink, EmfMetricsWriter? metrics, ILogger? logger = null, SchemaDecoding? schemas = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _aggregator = new WindowAggregator(config, sink, logger, schemas);
        _metrics = metrics;
    }

    /// <summary>The configuration in use.</summary>
    public AggregatorConfig Config { get; }

    /// <summary>The Lambda handler.</summary>
    public Task<Stream> HandleAsync(Stream input) => HandleAsync(input, CancellationToken.None);

    /// <summary>
    /// The handler the CDK stack deploys (<c>Cloud.Functions.Aggregator::Cloud.Functions.Aggregator.Function::FunctionHandler</c>):
    /// Lambda's .NET runtime rejects a handler name with overloads, and <see cref="HandleAsync(Stream)"/> has one.
    /// </summary>
    public Task<Stream> FunctionHandler(Stream input) => HandleAsync(input, CancellationToken.None);

    /// <summary>The handler with a cancellation token (for the local runner).</summary>
    /// <exception cref="JsonException">The input is not a Kinesis time-window event.</exception>
    /// <exception cref="AggregatorEventException">The event has no window.</exception>
    public async Task<Stream> HandleAsync(Stream input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var failed = true;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(input.CanSeek ? (int)Math.Clamp(input.Length - input.Position + 1, 1, int.MaxValue - 64) : 64 * 1024);
        try
        {
            // The event is read into one pooled buffer and parsed there: record data are base64-decoded in place and
            // deaggregated as slices of it, so no object or array is made per Kinesis record.
            int length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    byte[] larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                int read = await input.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            // One invoke at a time in Lambda: the parsed event's record list is reused (a concurrent caller makes its own).
            ParsedWindowEvent evt = WindowEventReader.Parse(buffer, length, Interlocked.Exchange(ref _spareEvent, null));
            (AggregationOutcome outcome, WindowState? state) = await _aggregator.ProcessAsync(evt, cancellationToken).ConfigureAwait(false);
            evt.Reset([]);
            _spareEvent = evt;
            var output = new MemoryStream(state is null ? 256 : state.EstimatedBytes + 64);
            if (state is null)
            {
                JsonSerializer.Serialize(output, outcome.Response, KinesisEventsJsonContext.Default.KinesisTimeWindowResponse);
            }
            else
            {
                // The state goes straight from the aggregates into the response: what the serializer would write for
                // the same map (same writer options), without a string per entry.
                using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = ResponseOptions.Encoder, Indented = ResponseOptions.WriteIndented });
                writer.WriteStartObject();
                writer.WritePropertyName("state"u8);
                state.WriteStateMap(writer);
                writer.WriteStartArray("batchItemFailures"u8);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            output.Position = 0;
            failed = outcome.Response.BatchItemFailures is { Count: > 0 };
            return output;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            FunctionMetrics.Invoked(started, failed);
            // One set of EMF lines per invocation: Lambda may freeze the process right after the handler returns.
            _metrics?.Flush();
        }
    }

    /// <summary>Processes an already-parsed event (for in-process callers and benchmarks).</summary>
    public Task<AggregationOutcome> ProcessAsync(KinesisTimeWindowEvent evt, CancellationToken cancellationToken = default) =>
        _aggregator.ProcessAsync(evt, cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        _ownedClient?.Dispose();
        _metrics?.Dispose();
    }

    /// <summary>Minimal stdout logger (CloudWatch picks up stdout). Messages name records, never data.</summary>
    private sealed class ConsoleLogger : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                Console.Out.WriteLine($"{logLevel}: {formatter(state, exception)}{(exception is null ? "" : " [" + exception.GetType().Name + "]")}");
            }
        }
    }
}
