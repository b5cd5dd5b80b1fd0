using Amazon;
using Amazon.Kinesis;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;

namespace Cloud.Kinesis;

/// <summary>How to reach Kinesis when the project builds the <see cref="IAmazonKinesis"/> itself.</summary>
public sealed class KinesisConnectionOptions
{
    /// <summary>AWS region, e.g. <c>us-east-1</c>; also the signing region of <see cref="ServiceUrl"/>.</summary>
    /// <value>The default is null: the SDK's chain (<c>AWS_REGION</c>, profile), or <c>us-east-1</c> with a <see cref="ServiceUrl"/>.</value>
    public string? Region { get; set; }

    /// <summary>Explicit endpoint (an emulator, LocalStack, a VPC endpoint), e.g. <c>http://127.0.0.1:4567</c>.</summary>
    /// <value>The default is null (the region's endpoint).</value>
    public Uri? ServiceUrl { get; set; }

    /// <summary>Explicit credentials.</summary>
    /// <value>The default is null: the SDK's credential chain (environment, profile, SSO, container, instance role).</value>
    public AWSCredentials? Credentials { get; set; }

    /// <summary>Named profile of the shared config/credentials files, used when <see cref="Credentials"/> is null.</summary>
    /// <value>The default is null (the SDK's chain, which honours <c>AWS_PROFILE</c>).</value>
    public string? Profile { get; set; }

    /// <summary>SDK retries after the first attempt. The producer sets 0: it is the one retry layer of its calls; with 0
    /// the factory builds a <see cref="SingleAttemptKinesisClient"/> (exactly one request per call).</summary>
    /// <value>The default is null (the SDK's default retry mode and count).</value>
    public int? MaxErrorRetry { get; set; }

    /// <summary>HTTP timeout of one attempt.</summary>
    /// <value>The default is null (the SDK's default, 100 s).</value>
    public TimeSpan? Timeout { get; set; }

    /// <summary>Checks the options; one exception names every problem.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (ServiceUrl is not null && (!ServiceUrl.IsAbsoluteUri || (ServiceUrl.Scheme != Uri.UriSchemeHttp && ServiceUrl.Scheme != Uri.UriSchemeHttps)))
        {
            problems.Add($"ServiceUrl '{ServiceUrl}' must be an absolute http or https URI");
        }
        if (Region is not null && (Region.Length == 0 || !Region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
        {
            problems.Add($"Region '{Region}' is not a region name like us-east-1");
        }
        if (MaxErrorRetry is < 0 or > 100)
        {
            problems.Add($"MaxErrorRetry {MaxErrorRetry} must be between 0 and 100");
        }
        if (Timeout is { } t && t <= TimeSpan.Zero)
        {
            problems.Add($"Timeout {t} must be positive");
        }
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid Kinesis connection options: " + string.Join("; ", problems) + ".");
        }
    }
}

/// <summary>
/// An <see cref="AmazonKinesisClient"/> that sends each call exactly once. <c>MaxErrorRetry = 0</c> alone is not
/// enough: the SDK's retry handler still repeats a call whose answer broke off (measured: 11 requests for one
/// PutRecords behind a proxy that drops the connection), which would write a batch up to 11 times behind the
/// producer's back. The producer, the one retry layer of its calls, needs one attempt per call.
/// </summary>
public sealed class SingleAttemptKinesisClient : AmazonKinesisClient
{
    /// <summary>Creates the client with the SDK's credential chain.</summary>
    public SingleAttemptKinesisClient(AmazonKinesisConfig config) : base(config) { }

    /// <summary>Creates the client with explicit credentials.</summary>
    public SingleAttemptKinesisClient(AWSCredentials credentials, AmazonKinesisConfig config) : base(credentials, config) { }

    /// <inheritdoc />
    protected override void CustomizeRuntimePipeline(Amazon.Runtime.Internal.RuntimePipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        base.CustomizeRuntimePipeline(pipeline);
        pipeline.RemoveHandler<Amazon.Runtime.Internal.RetryHandler>();
    }
}

/// <summary>Builds AWS's own <see cref="AmazonKinesisClient"/> from <see cref="KinesisConnectionOptions"/>.</summary>
public static class KinesisClientFactory
{
    /// <summary>Creates a client; the caller disposes it.</summary>
    public static AmazonKinesisClient Create(KinesisConnectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var config = new AmazonKinesisConfig();
        if (options.ServiceUrl is { } url)
        {
            config.ServiceURL = url.ToString();
            config.AuthenticationRegion = options.Region ?? Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1";
        }
        else if (options.Region is { } region)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }
        if (options.MaxErrorRetry is { } retries)
        {
            config.MaxErrorRetry = retries;
        }
        if (options.Timeout is { } timeout)
        {
            config.Timeout = timeout;
        }
        var credentials = options.Credentials ?? ProfileCredentials(options.Profile);
        if (options.MaxErrorRetry == 0)
        {
            return credentials is null ? new SingleAttemptKinesisClient(config) : new SingleAttemptKinesisClient(credentials, config);
        }
        return credentials is null ? new AmazonKinesisClient(config) : new AmazonKinesisClient(credentials, config);
    }

    /// <summary>The credentials of a named profile, or null for the SDK's default chain.</summary>
    /// <exception cref="ArgumentException">The profile does not exist.</exception>
    public static AWSCredentials? ProfileCredentials(string? profile)
    {
        if (string.IsNullOrEmpty(profile))
        {
            return null;
        }
        var chain = new CredentialProfileStoreChain();
        return chain.TryGetAWSCredentials(profile, out var credentials)
            ? credentials
            : throw new ArgumentException($"AWS profile '{profile}' was not found in the shared config or credentials files.", nameof(profile));
    }
}
