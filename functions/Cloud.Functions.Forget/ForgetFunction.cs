using System.Text.Json;
using Amazon.DynamoDBv2;
using Amazon.KeyManagementService;
using Cloud.Privacy;
using Cloud.Telemetry;

namespace Cloud.Functions.Forget;

/// <summary>
/// Lambda function on the pipeline's control stream: each record is a forget request
/// <c>{"userId": "...", "requestedAt": ...}</c>; the user's data key is destroyed (<see cref="CryptoShredder"/>).
/// Stream in / Stream out, no Amazon.Lambda.Core; handler <c>Cloud.Functions.Forget::Cloud.Functions.Forget.ForgetFunction::FunctionHandler</c>.
/// Returns <c>{"batchItemFailures":[...]}</c> (ReportBatchItemFailures): a record whose request is malformed or whose
/// forget failed (key store error) is reported so Lambda retries it and, after the retries, sends the batch to the
/// on-failure destination — a forget request is never silently dropped. Forgetting is idempotent, so retried records
/// that already succeeded are harmless. Log lines name the user only by a per-process <see cref="UserReference"/>.
/// </summary>
public sealed class ForgetFunction
{
    private readonly CryptoShredder _shredder;
    private readonly TextWriter _log;
    private readonly EmfMetricsWriter? _metrics;

    /// <summary>Lambda entry: configuration from environment variables (see <see cref="PrivacyOptions.FromEnvironment"/>).</summary>
    public ForgetFunction()
        : this(CreateRuntimeFromEnvironment().Shredder, Console.Out, FunctionMetrics.CreateEmfWriter())
    {
    }

    /// <summary>Creates the function over a shredder; <paramref name="log"/> receives one JSON line per request.</summary>
    public ForgetFunction(CryptoShredder shredder, TextWriter? log = null)
        : this(shredder, log, null)
    {
    }

    /// <summary>With an EMF writer flushed once at the end of every invocation (the Lambda runtime's constructor makes one).</summary>
    public ForgetFunction(CryptoShredder shredder, TextWriter? log, EmfMetricsWriter? metrics)
    {
        ArgumentNullException.ThrowIfNull(shredder);
        _shredder = shredder;
        _log = log ?? TextWriter.Null;
        _metrics = metrics;
    }

    /// <summary>The Lambda handler method.</summary>
    public Task<Stream> FunctionHandler(Stream input) => HandleAsync(input, CancellationToken.None);

    /// <summary>Processes one Kinesis event and returns the batch response.</summary>
    public async Task<Stream> HandleAsync(Stream input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var failed = true;
        try
        {
            var output = await HandleCoreAsync(input, cancellationToken).ConfigureAwait(false);
            failed = output.Failed;
            return output.Response;
        }
        finally
        {
            FunctionMetrics.Invoked(started, failed);
            // One set of EMF lines per invocation: Lambda may freeze the process right after the handler returns.
            _metrics?.Flush();
        }
    }

    private async Task<(Stream Response, bool Failed)> HandleCoreAsync(Stream input, CancellationToken cancellationToken)
    {
        KinesisEventModel? evt;
        try
        {
            evt = await JsonSerializer.DeserializeAsync(input, ForgetJsonContext.Default.KinesisEventModel, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            // Not a Kinesis event at all: fail the invocation (no record can be named).
            throw new InvalidDataException($"The input is not a Kinesis event: {ex.Message}", ex);
        }

        var response = new BatchResponseModel();
        foreach (var record in evt?.Records ?? [])
        {
            var seq = record.Kinesis?.SequenceNumber;
            if (string.IsNullOrEmpty(seq))
            {
                // An empty itemIdentifier would fail the whole batch; without a sequence number nothing else can be reported.
                throw new InvalidDataException($"Kinesis record {record.EventId ?? "?"} has no sequence number.");
            }

            if (!await ProcessAsync(record, seq, cancellationToken).ConfigureAwait(false))
            {
                response.BatchItemFailures.Add(new BatchItemFailureModel { ItemIdentifier = seq });
            }
        }

        var output = new MemoryStream();
        await JsonSerializer.SerializeAsync(output, response, ForgetJsonContext.Default.BatchResponseModel, cancellationToken).ConfigureAwait(false);
        output.Position = 0;
        return (output, response.BatchItemFailures.Count > 0);
    }

    private async Task<bool> ProcessAsync(KinesisEventRecordModel record, string seq, CancellationToken cancellationToken)
    {
        ForgetRequest request;
        try
        {
            var bytes = Convert.FromBase64String(record.Kinesis?.Data ?? "");
            request = ForgetRequest.Parse(bytes);
        }
        catch (FormatException ex)
        {
            // The message never quotes the record's bytes.
            Log("error", seq, null, $"invalid forget request: {ex.Message}");
            return false;
        }

        try
        {
            var result = await _shredder.ForgetAsync(request.UserId, cancellationToken).ConfigureAwait(false);
            Log("info", seq, request.UserId, $"{result.Outcome}; other processes drop the key within {result.EraseLatency.TotalSeconds}s");
            return true;
        }
        catch (PrivacyException ex)
        {
            Log("error", seq, request.UserId, ex.Message);
            return false;
        }
    }

    private void Log(string level, string seq, string? userId, string message)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("level", level);
            w.WriteString("function", "forget");
            w.WriteString("sequenceNumber", seq);
            if (userId is not null)
            {
                // Never the id itself: a forget log kept for audit must not be what links the user again.
                w.WriteString("userRef", UserReference.For(userId));
            }

            w.WriteString("message", message);
            w.WriteEndObject();
        }

        _log.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static PrivacyRuntime CreateRuntimeFromEnvironment()
    {
        var options = PrivacyOptions.FromEnvironment();
        var endpoint = Environment.GetEnvironmentVariable("CLOUD_DYNAMODB_ENDPOINT");
        var dynamo = string.IsNullOrEmpty(endpoint)
            ? new AmazonDynamoDBClient()
            : new AmazonDynamoDBClient(new AmazonDynamoDBConfig { ServiceURL = endpoint });
        var kms = options.MasterKeySource == MasterKeySource.Kms ? new AmazonKeyManagementServiceClient() : null;
        return PrivacyRuntime.Create(options, dynamo, kms);
    }
}
