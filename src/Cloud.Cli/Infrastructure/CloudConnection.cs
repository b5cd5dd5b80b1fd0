using System.CommandLine;
using Amazon.DynamoDBv2;
using Amazon.KeyManagementService;
using Amazon.Kinesis;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Cloud.Kinesis;

namespace Cloud.Cli.Infrastructure;

/// <summary>
/// The endpoints and credentials a verb talks to: the emulators of <c>cloud local up</c> with <c>--local</c>
/// (dummy credentials, the instance metadata service never consulted), explicit <c>--endpoint</c>/
/// <c>--dynamodb-endpoint</c>/<c>--kms-endpoint</c> (LocalStack, a VPC endpoint: the SDK's usual credential chain or
/// <c>--profile</c>), or real AWS (credential chain, <c>--region</c>, <c>--profile</c>). Clients are created on first
/// use and disposed with the connection.
/// </summary>
public sealed class CloudConnection : IDisposable
{
    /// <summary>The dummy key that signs requests to the project's own emulators (they do not verify it).</summary>
    private static readonly AWSCredentials EmulatorCredentials = new BasicAWSCredentials("test", "test");

    private readonly AWSCredentials _credentials;
    private AmazonKinesisClient? _kinesis;
    private AmazonKinesisClient? _producerKinesis;
    private AmazonDynamoDBClient? _dynamoDb;

    private CloudConnection(string region, AWSCredentials credentials, Uri? kinesisEndpoint, Uri? dynamoDbEndpoint, bool isLocal)
    {
        Region = region;
        _credentials = credentials;
        KinesisEndpoint = kinesisEndpoint;
        DynamoDbEndpoint = dynamoDbEndpoint;
        IsLocal = isLocal;
    }

    /// <summary>The region used for signing and ARNs.</summary>
    public string Region { get; }

    /// <summary>The Kinesis endpoint, or null for the region's AWS endpoint.</summary>
    public Uri? KinesisEndpoint { get; }

    /// <summary>The DynamoDB endpoint, or null for the region's AWS endpoint.</summary>
    public Uri? DynamoDbEndpoint { get; }

    /// <summary>Whether the endpoints are explicit (<c>--local</c>, <c>--endpoint</c>, <c>--dynamodb-endpoint</c>): emulators or another non-AWS target.</summary>
    public bool IsLocal { get; }

    /// <summary>AWS's Kinesis client (AWSSDK.Kinesis) for this connection.</summary>
    public IAmazonKinesis Kinesis => _kinesis ??= CreateKinesisClient(IsLocal ? 2 : 5);

    /// <summary>The Kinesis client for a <c>KinesisProducer</c>: SDK retries off, the producer is the one retry layer.</summary>
    public IAmazonKinesis ProducerKinesis => _producerKinesis ??= CreateKinesisClient(0);

    /// <summary>The DynamoDB client.</summary>
    public IAmazonDynamoDB DynamoDb => _dynamoDb ??= DynamoDbEndpoint is null
        ? new AmazonDynamoDBClient(_credentials, Amazon.RegionEndpoint.GetBySystemName(Region))
        : new AmazonDynamoDBClient(_credentials, new AmazonDynamoDBConfig { ServiceURL = DynamoDbEndpoint.ToString(), AuthenticationRegion = Region, MaxErrorRetry = 2 });

    /// <summary>
    /// A KMS client with this connection's credentials: at <paramref name="endpoint"/> when given (<c>--kms-endpoint</c>),
    /// else the region's AWS endpoint. The caller disposes it.
    /// </summary>
    public IAmazonKeyManagementService CreateKmsClient(Uri? endpoint) => endpoint is null
        ? new AmazonKeyManagementServiceClient(_credentials, Amazon.RegionEndpoint.GetBySystemName(Region))
        : new AmazonKeyManagementServiceClient(_credentials, new AmazonKeyManagementServiceConfig { ServiceURL = endpoint.ToString(), AuthenticationRegion = Region, MaxErrorRetry = 2 });

    private AmazonKinesisClient CreateKinesisClient(int maxErrorRetry) => KinesisClientFactory.Create(new KinesisConnectionOptions
    {
        Region = Region,
        ServiceUrl = KinesisEndpoint,
        Credentials = _credentials,
        MaxErrorRetry = maxErrorRetry,
        Timeout = IsLocal ? TimeSpan.FromSeconds(30) : TimeSpan.FromMinutes(2),
    });

    /// <summary>A connection to emulators this process started itself (dummy credentials, like <c>--local</c>).</summary>
    public static CloudConnection ForEmulators(Uri kinesisEndpoint, Uri dynamoDbEndpoint, string? region = null)
    {
        ArgumentNullException.ThrowIfNull(kinesisEndpoint);
        ArgumentNullException.ThrowIfNull(dynamoDbEndpoint);
        SafeLocalEnvironment();
        return new CloudConnection(region ?? Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1", EmulatorCredentials, kinesisEndpoint, dynamoDbEndpoint, isLocal: true);
    }

    /// <summary>
    /// The same connection (region, credentials, DynamoDB endpoint) with Kinesis at <paramref name="kinesisEndpoint"/>:
    /// e.g. the limit-enforcing proxy in front of this connection's local Kinesis. The caller disposes it.
    /// </summary>
    public CloudConnection WithKinesisEndpoint(Uri kinesisEndpoint)
    {
        ArgumentNullException.ThrowIfNull(kinesisEndpoint);
        return new CloudConnection(Region, _credentials, kinesisEndpoint, DynamoDbEndpoint, isLocal: true);
    }

    /// <summary>Resolves the connection from the global options of a parsed command line.</summary>
    /// <exception cref="CliException">--local without running emulators, an unknown profile, or no credentials.</exception>
    public static async Task<CloudConnection> FromAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var region = parse.GetValue(GlobalOptions.Region);
        var profile = parse.GetValue(GlobalOptions.Profile);
        var kinesis = parse.GetValue(GlobalOptions.Endpoint);
        var dynamo = parse.GetValue(GlobalOptions.DynamoDbEndpoint);
        if (parse.GetValue(GlobalOptions.Local))
        {
            var state = await LocalStack.ReadRunningAsync(cancellationToken).ConfigureAwait(false)
                ?? throw CliException.Unreachable("--local: no local emulators are running. Start them with 'cloud local up'.");
            kinesis ??= state.KinesisEndpoint;
            dynamo ??= state.DynamoDbEndpoint;

            // The project's emulators: never consult the credential chain (it may probe the instance metadata
            // service); a dummy key signs requests they do not verify. --profile still wins when given.
            SafeLocalEnvironment();
            var localCredentials = profile is null ? EmulatorCredentials : LoadProfile(profile);
            return new CloudConnection(region ?? Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1", localCredentials, kinesis, dynamo, isLocal: true);
        }

        // Explicit endpoints (LocalStack, a VPC endpoint, another Kinesis) and real AWS: the SDK's usual chain.
        var credentials = profile is null ? DefaultCredentials() : LoadProfile(profile);
        if (kinesis is not null || dynamo is not null)
        {
            return new CloudConnection(region ?? Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1", credentials, kinesis, dynamo, isLocal: true);
        }

        var awsRegion = region ?? Environment.GetEnvironmentVariable("AWS_REGION") ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION")
            ?? throw CliException.Usage("No region: pass --region or set AWS_REGION.");
        return new CloudConnection(awsRegion, credentials, null, null, isLocal: false);
    }

    /// <summary>Sets the variables that keep the AWS SDK away from the instance metadata service.</summary>
    public static void SafeLocalEnvironment()
    {
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        Environment.SetEnvironmentVariable("AWS_REGION", Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1");
    }

    private static AWSCredentials LoadProfile(string profile)
    {
        try
        {
            return KinesisClientFactory.ProfileCredentials(profile)!;
        }
        catch (ArgumentException ex)
        {
            throw CliException.NotFound($"--profile: no credentials profile named '{profile}' in the shared config/credentials files.", ex);
        }
    }

    private static AWSCredentials DefaultCredentials()
    {
        try
        {
            return DefaultAWSCredentialsIdentityResolver.GetCredentials(null);
        }
        catch (AmazonClientException ex)
        {
            throw CliException.Unreachable("No AWS credentials found (environment, profile, SSO). Use --profile, set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or use --local.", ex);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _kinesis?.Dispose();
        _producerKinesis?.Dispose();
        _dynamoDb?.Dispose();
    }
}
