namespace Cloud.Testing;

/// <summary>
/// Makes the current process safe for AWS SDK use in tests: no instance-metadata probes
/// (169.254.169.254), a fixed region and dummy credentials, so nothing can reach real AWS.
/// </summary>
public static class AwsTestEnvironment
{
    /// <summary>The region every test uses.</summary>
    public const string Region = "us-east-1";

    /// <summary>The dummy access key id (the emulators do not verify signatures).</summary>
    public const string AccessKeyId = "test";

    /// <summary>The dummy secret key.</summary>
    public const string SecretAccessKey = "test";

    /// <summary>Sets AWS_EC2_METADATA_DISABLED, AWS_REGION, AWS_DEFAULT_REGION and dummy credentials in this process. Idempotent.</summary>
    public static void Apply()
    {
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        Environment.SetEnvironmentVariable("AWS_REGION", Region);
        Environment.SetEnvironmentVariable("AWS_DEFAULT_REGION", Region);
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", AccessKeyId);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", SecretAccessKey);
        Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", null);
        Environment.SetEnvironmentVariable("AWS_PROFILE", null);
    }
}
