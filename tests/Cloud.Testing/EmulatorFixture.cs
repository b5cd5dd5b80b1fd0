using Amazon.Kinesis;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Cloud.Emulators;
using Cloud.Kinesis;

namespace Cloud.Testing;

/// <summary>
/// One local AWS stack (kinesis-local + dynalite, or endpoints from <c>CLOUD_KINESIS_ENDPOINT</c> /
/// <c>CLOUD_DYNAMODB_ENDPOINT</c>) shared by a test collection. Set <c>CLOUD_KINESIS_ENGINE=kinesalite</c>
/// to run the faster, less complete Kinesis emulator, or <c>CLOUD_TEST_BACKEND=localstack</c> to run the same
/// tests against LocalStack in Docker (Testcontainers) where a Docker engine is reachable (<see cref="TestBackend"/>).
/// </summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    /// <summary>Environment variable choosing the Kinesis engine: <c>kinesis-local</c> (default) or <c>kinesalite</c>.</summary>
    public const string KinesisEngineVariable = "CLOUD_KINESIS_ENGINE";

    private EmulatorHost? _host;
    private LocalStackBackend? _localStack;

    static EmulatorFixture() => AwsTestEnvironment.Apply();

    /// <summary>Creates the fixture; the stack starts in <see cref="InitializeAsync"/>.</summary>
    public EmulatorFixture() => AwsTestEnvironment.Apply();

    /// <summary>The running host.</summary>
    public EmulatorHost Host => _host ?? throw new InvalidOperationException("EmulatorFixture is not initialized yet.");

    /// <summary>The Kinesis endpoint (http://127.0.0.1:port or the external one).</summary>
    public Uri KinesisEndpoint => Host.KinesisEndpoint;

    /// <summary>The DynamoDB endpoint (http://127.0.0.1:port or the external one).</summary>
    public Uri DynamoDbEndpoint => Host.DynamoDbEndpoint;

    /// <summary>The Kinesis engine running, or null when the endpoint is external.</summary>
    public KinesisEngine? KinesisEngine => Host.KinesisEngine;

    /// <summary>The installed pinned Node packages (aws-kinesis-agg, @aws-sdk/client-kinesis, aws-cdk).</summary>
    public NodeTools Tools { get; private set; } = null!;

    /// <summary>The backend the tests run against, and why.</summary>
    public TestBackendChoice Backend { get; private set; } = new(TestBackendKind.NpmEmulators, "not initialized");

    /// <summary>The region used by every client.</summary>
    public string Region => AwsTestEnvironment.Region;

    /// <summary>Dummy credentials accepted by the emulators.</summary>
    public AWSCredentials Credentials { get; } = new BasicAWSCredentials(AwsTestEnvironment.AccessKeyId, AwsTestEnvironment.SecretAccessKey);

    /// <summary>Starts the stack (installing the npm packages first if needed).</summary>
    public async Task InitializeAsync()
    {
        AwsTestEnvironment.Apply();
        Tools = await NodeTools.EnsureAsync().ConfigureAwait(false);
        Backend = TestBackend.FromEnvironment();
        var options = CreateOptions(Tools);
        if (Backend.Kind == TestBackendKind.LocalStack)
        {
            // The same tests, against LocalStack's one edge endpoint; the host only waits for it to answer.
            _localStack = await LocalStackBackend.StartAsync(CancellationToken.None).ConfigureAwait(false);
            options = options with { ExternalKinesisEndpoint = _localStack.Endpoint, ExternalDynamoDbEndpoint = _localStack.Endpoint };
        }
        _host = await EmulatorHost.StartAsync(options).ConfigureAwait(false);
    }

    /// <summary>Stops every emulator process.</summary>
    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync().ConfigureAwait(false);
        }
        if (_localStack is not null)
        {
            await _localStack.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A DynamoDB client for the fixture's endpoint with dummy credentials.</summary>
    public IAmazonDynamoDB CreateDynamoDbClient()
    {
        var config = new AmazonDynamoDBConfig
        {
            ServiceURL = DynamoDbEndpoint.ToString(),
            AuthenticationRegion = Region,
            MaxErrorRetry = 2,
        };
        return new AmazonDynamoDBClient(Credentials, config);
    }

    /// <summary>
    /// AWS's own Kinesis client for the fixture's endpoint with the dummy credentials. Dispose it when done;
    /// <paramref name="configure"/> may adjust retries, timeouts, etc.
    /// </summary>
    public AmazonKinesisClient CreateKinesisClient(Action<KinesisConnectionOptions>? configure = null)
    {
        var options = new KinesisConnectionOptions
        {
            ServiceUrl = KinesisEndpoint,
            Region = Region,
            Credentials = Credentials,
            MaxErrorRetry = 2,
        };
        configure?.Invoke(options);
        return KinesisClientFactory.Create(options);
    }

    /// <summary>A short unique resource name (stream, table) valid for Kinesis and DynamoDB: <c>prefix-xxxxxxxxxx</c>.</summary>
    public static string UniqueName(string prefix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        if (prefix.Length > 64 || !prefix.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException($"Prefix '{prefix}' must be 1-64 characters of [A-Za-z0-9_.-].", nameof(prefix));
        }

        return $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 11)];
    }

    /// <summary>The options the fixture starts the host with (engine from <c>CLOUD_KINESIS_ENGINE</c>).</summary>
    public static EmulatorOptions CreateOptions(NodeTools? tools = null)
    {
        var engine = Environment.GetEnvironmentVariable(KinesisEngineVariable) switch
        {
            null or "" or "kinesis-local" => Emulators.KinesisEngine.KinesisLocal,
            "kinesalite" => Emulators.KinesisEngine.Kinesalite,
            var other => throw new InvalidOperationException($"{KinesisEngineVariable}='{other}' must be 'kinesis-local' or 'kinesalite'."),
        };
        return new EmulatorOptions { KinesisEngine = engine, Tools = tools, Region = AwsTestEnvironment.Region };
    }
}
