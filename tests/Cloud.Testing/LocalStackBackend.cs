using Testcontainers.LocalStack;

namespace Cloud.Testing;

/// <summary>
/// LocalStack (Kinesis on kinesis-mock, DynamoDB) in a container. Only <see cref="EmulatorFixture"/> creates it, and
/// only when <see cref="TestBackend"/> chose LocalStack: no other code touches Docker or Testcontainers types.
/// </summary>
internal sealed class LocalStackBackend : IAsyncDisposable
{
    /// <summary>Overrides the image (e.g. a mirror or a pinned digest).</summary>
    public const string ImageVariable = "CLOUD_LOCALSTACK_IMAGE";

    /// <summary>The image used when <see cref="ImageVariable"/> is unset.</summary>
    public const string DefaultImage = "localstack/localstack:4.4";

    private readonly LocalStackContainer _container;

    private LocalStackBackend(LocalStackContainer container) => _container = container;

    /// <summary>The edge endpoint serving every service (Kinesis and DynamoDB).</summary>
    public Uri Endpoint => new(_container.GetConnectionString());

    public static async Task<LocalStackBackend> StartAsync(CancellationToken cancellationToken)
    {
        var image = Environment.GetEnvironmentVariable(ImageVariable) is { Length: > 0 } custom ? custom : DefaultImage;
        var container = new LocalStackBuilder(image)
            .WithEnvironment("SERVICES", "kinesis,dynamodb")
            .WithEnvironment("AWS_DEFAULT_REGION", AwsTestEnvironment.Region)
            .Build();
        await container.StartAsync(cancellationToken).ConfigureAwait(false);
        return new LocalStackBackend(container);
    }

    public ValueTask DisposeAsync() => _container.DisposeAsync();
}
