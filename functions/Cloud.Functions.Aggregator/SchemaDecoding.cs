using Amazon.DynamoDBv2;
using Cloud.Consumer;
using Cloud.Schemas;

namespace Cloud.Functions.Aggregator;

/// <summary>
/// Lets the Aggregator read records written in the AWS Glue Schema Registry format (Avro or JSON Schema): such a
/// record (header byte 3 and a known compression byte) is decoded to its JSON view before its fields are read. Other
/// records pass through. A record whose schema version is unknown or whose bytes do not match the schema is a
/// typed per-record failure (<see cref="RecordFailureStage.Decode"/>); a registry outage fails the record too, so
/// Lambda retries it.
/// </summary>
public sealed class SchemaDecoding
{
    /// <summary>Environment variable naming the embedded registry's DynamoDB table.</summary>
    public const string TableVariable = "SCHEMA_REGISTRY_TABLE";

    private readonly GsrDeserializer _deserializer;

    /// <summary>Decodes with <paramref name="registry"/> (wrapped in a <see cref="CachingSchemaRegistry"/> here).</summary>
    public SchemaDecoding(ISchemaRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _deserializer = new GsrDeserializer(registry as CachingSchemaRegistry ?? new CachingSchemaRegistry(registry));
    }

    /// <summary>
    /// The embedded registry in table <c>SCHEMA_REGISTRY_TABLE</c> (default <see cref="DynamoDbSchemaRegistry.DefaultTableName"/>):
    /// it is only read when a GSR record arrives, so streams without them need no table.
    /// </summary>
    public static SchemaDecoding FromEnvironment(IAmazonDynamoDB dynamoDb, Func<string, string?>? getEnvironmentVariable = null)
    {
        string? table = (getEnvironmentVariable ?? Environment.GetEnvironmentVariable)(TableVariable);
        return new SchemaDecoding(new DynamoDbSchemaRegistry(dynamoDb, string.IsNullOrWhiteSpace(table) ? DynamoDbSchemaRegistry.DefaultTableName : table.Trim()));
    }

    /// <summary>The record's JSON: its own bytes, or the decoded view of a GSR record; or the failure.</summary>
    public ValueTask<(ReadOnlyMemory<byte> Json, RecordFailure? Failure)> DecodeAsync(UserRecordContext user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        return DecodeAsync(user.Data, user.SequenceNumber, user.SubSequenceNumber, cancellationToken);
    }

    /// <summary>The same for a user record given by its data, sequence number and sub-sequence number.</summary>
    internal async ValueTask<(ReadOnlyMemory<byte> Json, RecordFailure? Failure)> DecodeAsync(ReadOnlyMemory<byte> data, string sequenceNumber, long? subSequenceNumber, CancellationToken cancellationToken)
    {
        if (!GsrWireFormat.IsGsr(data.Span))
        {
            return (data, null);
        }

        try
        {
            GsrDecodedRecord decoded = await _deserializer.DecodeAsync(data, cancellationToken).ConfigureAwait(false);
            return (decoded.Json, null);
        }
        catch (Exception ex) when (ex is SchemaException or FormatException or Amazon.Runtime.AmazonServiceException or HttpRequestException)
        {
            var failure = new RecordFailure
            {
                SequenceNumber = sequenceNumber,
                SubSequenceNumber = subSequenceNumber,
                Stage = ex is SchemaException or FormatException ? RecordFailureStage.Decode : RecordFailureStage.Transform,
                Message = $"Record {RecordFailure.Describe(sequenceNumber, subSequenceNumber)}: GSR record not decoded: {ex.GetType().Name}: {ex.Message}",
                Exception = ex,
            };
            return (default, failure);
        }
    }
}
