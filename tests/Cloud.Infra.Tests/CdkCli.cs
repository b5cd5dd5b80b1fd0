namespace Cloud.Infra.Tests;

/// <summary>Environment for every CDK run (library or CLI): a region, dummy account and credentials, no instance
/// metadata, no telemetry, and AWS endpoints pointed at a closed loopback port so an attempted lookup fails locally.</summary>
internal static class CdkCli
{
    public static IReadOnlyList<(string Name, string Value)> SafeEnvironment { get; } =
    [
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("CDK_DEFAULT_REGION", "us-east-1"),
        ("CDK_DEFAULT_ACCOUNT", "000000000000"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ("AWS_MAX_ATTEMPTS", "1"),
        ("CDK_DISABLE_CLI_TELEMETRY", "1"),
    ];
}
