using System.CommandLine;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.Runtime.Credentials;
using Cloud.Kinesis;

namespace Cloud.Cli.Infrastructure;

/// <summary>
/// The endpoints and credentials a verb talks to: explicit <c>--endpoint</c>/<c>--dynamodb-endpoint</c>,
/// the emulators of <c>cloud local up</c> with <c>--local</c>, or real AWS (credential chain,
/// <c>--region</c>, <c>--profile</c>). Clients are created on first use and disposed with it.
/// </summary>
public sealed class CloudConnection : IDisposable
{
    private readonly AWSCredentials _credentials;
    private KinesisClient? _kinesis;
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

    /// <summary>Whether the endpoints are the project's local emulators (or another explicit local endpoint).</summary>
    public bool IsLocal { get; }

    /// <summary>The Kinesis client.</summary>
    public IKinesisClient Kinesis => _kinesis ??= new KinesisClient(new KinesisClientOptions
    {
        Region = Region,
        ServiceUrl = KinesisEndpoint,
        Credentials = _credentials,
        MaxRetries = IsLocal ? 2 : 5,
        OverallTimeout = IsLocal ? TimeSpan.FromSeconds(30) : TimeSpan.FromMinutes(2),
    });

    /// <summary>The DynamoDB client.</summary>
    public IAmazonDynamoDB DynamoDb => _dynamoDb ??= DynamoDbEndpoint is null
        ? new AmazonDynamoDBClient(_credentials, Amazon.RegionEndpoint.GetBySystemName(Region))
        : new AmazonDynamoDBClient(_credentials, new AmazonDynamoDBConfig { ServiceURL = DynamoDbEndpoint.ToString(), AuthenticationRegion = Region, MaxErrorRetry = 2 });

    /// <summary>Resolves the connection from the global options of a parsed command line.</summary>
    /// <exception cref="CliException">--local without running emulators, or an unknown profile.</exception>
    public static async Task<CloudConnection> FromAsync(ParseResult parse, CancellationToken cancellationToken)
    {
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
        }

        if (kinesis is not null || dynamo is not null)
        {
            // Emulators and explicit endpoints: never consult the credential chain (it may probe the
            // instance metadata service); a dummy key signs requests they do not verify.
            SafeLocalEnvironment();
            var credentials = profile is null ? new BasicAWSCredentials("test", "test") : LoadProfile(profile);
            return new CloudConnection(region ?? Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1", credentials, kinesis, dynamo, isLocal: true);
        }

        var awsCredentials = profile is null ? DefaultCredentials() : LoadProfile(profile);
        var awsRegion = region ?? Environment.GetEnvironmentVariable("AWS_REGION") ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION")
            ?? throw CliException.Usage("No region: pass --region or set AWS_REGION.");
        return new CloudConnection(awsRegion, awsCredentials, null, null, isLocal: false);
    }

    /// <summary>Sets the variables that keep the AWS SDK away from the instance metadata service.</summary>
    public static void SafeLocalEnvironment()
    {
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        Environment.SetEnvironmentVariable("AWS_REGION", Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1");
    }

    private static AWSCredentials LoadProfile(string profile)
    {
        var chain = new CredentialProfileStoreChain();
        return chain.TryGetAWSCredentials(profile, out var credentials)
            ? credentials
            : throw CliException.NotFound($"--profile: no credentials profile named '{profile}' in the shared config/credentials files.");
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
        _dynamoDb?.Dispose();
    }
}
