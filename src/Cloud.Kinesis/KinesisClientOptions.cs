using Amazon.Runtime;

namespace Cloud.Kinesis;

/// <summary>
/// Settings of a <see cref="KinesisClient"/>. Validated once when the client is built
/// (<see cref="Validate"/> reports every problem in one message).
/// </summary>
public sealed class KinesisClientOptions
{
    /// <summary>Largest record (data + partition key) Kinesis accepts by default: 1 MiB.</summary>
    public const int DefaultMaxRecordSizeBytes = 1024 * 1024;

    /// <summary>AWS region, e.g. <c>us-east-1</c>. Selects the endpoint <c>https://kinesis.{region}.amazonaws.com</c>
    /// unless <see cref="ServiceUrl"/> is set, and is the SigV4 signing region.</summary>
    /// <value>The default is null; then <see cref="ServiceUrl"/> is required and the signing region is <c>us-east-1</c>.</value>
    public string? Region { get; set; }

    /// <summary>Explicit endpoint (an emulator, a VPC endpoint, LocalStack), e.g. <c>http://127.0.0.1:4567</c>.</summary>
    /// <value>The default is null (use the region's public endpoint).</value>
    public Uri? ServiceUrl { get; set; }

    /// <summary>Credentials used to sign requests.</summary>
    /// <value>The default is null: resolved once, on first use, by AWSSDK.Core's
    /// <c>DefaultAWSCredentialsIdentityResolver</c> (environment, profile, container, instance metadata).</value>
    public AWSCredentials? Credentials { get; set; }

    /// <summary>Retries after the first attempt for throttling, 5xx and network faults.</summary>
    /// <value>The default value is 5.</value>
    public int MaxRetries { get; set; } = 5;

    /// <summary>Base of the exponential backoff; attempt n waits a random time in [0, min(MaxDelay, BaseDelay·2ⁿ)] ("full jitter").</summary>
    /// <value>The default value is 100 ms.</value>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Upper bound of one backoff delay.</summary>
    /// <value>The default value is 5 s.</value>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Time limit of one HTTP attempt (send + read the whole response). A timed-out attempt is retried.</summary>
    /// <value>The default value is 30 s.</value>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time limit of one call including all retries and backoff delays.</summary>
    /// <value>The default value is 2 minutes.</value>
    public TimeSpan OverallTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Largest record (data + partition key UTF-8 bytes) accepted by client-side validation.
    /// Raise it for streams configured with UpdateMaxRecordSize (up to 10 MiB).</summary>
    /// <value>The default value is 1 MiB (<see cref="DefaultMaxRecordSizeBytes"/>).</value>
    public int MaxRecordSizeBytes { get; set; } = DefaultMaxRecordSizeBytes;

    /// <summary>Replaces the HTTP stack (tests, custom proxies). The client does not dispose a handler it did not create.</summary>
    /// <value>The default is null: the client creates and owns one <see cref="System.Net.Http.SocketsHttpHandler"/>.</value>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>Clock for signing dates, timeouts and backoff delays.</summary>
    /// <value>The default is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Checks every setting and throws one <see cref="ArgumentException"/> listing all problems.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (Region is null && ServiceUrl is null)
        {
            problems.Add("either Region or ServiceUrl must be set");
        }

        if (Region is not null && (Region.Length == 0 || !Region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
        {
            problems.Add($"Region '{Region}' is not a region name like us-east-1");
        }

        if (ServiceUrl is not null && (!ServiceUrl.IsAbsoluteUri || (ServiceUrl.Scheme != Uri.UriSchemeHttp && ServiceUrl.Scheme != Uri.UriSchemeHttps)))
        {
            problems.Add($"ServiceUrl '{ServiceUrl}' must be an absolute http or https URI");
        }

        if (MaxRetries is < 0 or > 100)
        {
            problems.Add($"MaxRetries must be in [0, 100] (was {MaxRetries})");
        }

        if (BaseDelay < TimeSpan.Zero)
        {
            problems.Add($"BaseDelay must not be negative (was {BaseDelay})");
        }

        if (MaxDelay < BaseDelay)
        {
            problems.Add($"MaxDelay ({MaxDelay}) must be at least BaseDelay ({BaseDelay})");
        }

        if (AttemptTimeout <= TimeSpan.Zero && AttemptTimeout != Timeout.InfiniteTimeSpan)
        {
            problems.Add($"AttemptTimeout must be positive or infinite (was {AttemptTimeout})");
        }

        if (OverallTimeout <= TimeSpan.Zero && OverallTimeout != Timeout.InfiniteTimeSpan)
        {
            problems.Add($"OverallTimeout must be positive or infinite (was {OverallTimeout})");
        }

        if (MaxRecordSizeBytes is < 1 or > 10 * 1024 * 1024)
        {
            problems.Add($"MaxRecordSizeBytes must be in [1, 10 MiB] (was {MaxRecordSizeBytes})");
        }

        if (TimeProvider is null)
        {
            problems.Add("TimeProvider must not be null");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid KinesisClientOptions: " + string.Join("; ", problems) + ".");
        }
    }

    /// <summary>The endpoint requests go to.</summary>
    internal Uri ResolveEndpoint() =>
        ServiceUrl ?? new Uri(Region!.StartsWith("cn-", StringComparison.Ordinal)
            ? $"https://kinesis.{Region}.amazonaws.com.cn/"
            : $"https://kinesis.{Region}.amazonaws.com/");

    /// <summary>The SigV4 signing region.</summary>
    internal string SigningRegion => Region ?? "us-east-1";

    /// <summary>Source of the backoff jitter in [0, 1]; tests pin it to make delays exact.</summary>
    internal Func<double> Jitter { get; set; } = Random.Shared.NextDouble;

    internal KinesisClientOptions Clone() => (KinesisClientOptions)MemberwiseClone();
}
