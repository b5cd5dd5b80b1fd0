namespace Cloud.Testing;

/// <summary>What the integration fixtures run the tests against.</summary>
public enum TestBackendKind
{
    /// <summary>kinesis-local (or kinesalite) and dynalite from npm, started as processes: the default, and the only choice without Docker.</summary>
    NpmEmulators,

    /// <summary>LocalStack in a Docker container, started with Testcontainers.LocalStack.</summary>
    LocalStack,
}

/// <summary>The backend chosen and why (shown in the fixture's diagnostics).</summary>
/// <param name="Kind">The backend.</param>
/// <param name="Reason">Why it was chosen.</param>
public sealed record TestBackendChoice(TestBackendKind Kind, string Reason);

/// <summary>
/// Chooses the integration backend. <c>CLOUD_TEST_BACKEND=localstack</c> asks for LocalStack, which runs only where a
/// Docker engine is reachable: <c>DOCKER_HOST</c> is set, or the default socket (<c>/var/run/docker.sock</c>) exists.
/// Otherwise (unset, <c>emulators</c>, or no Docker) the npm emulators run, as they always did. Pure: the environment
/// and the file system are passed in, so the rule is unit-tested without Docker.
/// </summary>
public static class TestBackend
{
    /// <summary>The environment variable that asks for a backend: <c>emulators</c> (default) or <c>localstack</c>.</summary>
    public const string Variable = "CLOUD_TEST_BACKEND";

    /// <summary>The Docker engine address variable Testcontainers reads too.</summary>
    public const string DockerHostVariable = "DOCKER_HOST";

    /// <summary>Docker's default Unix socket.</summary>
    public const string DefaultDockerSocket = "/var/run/docker.sock";

    /// <summary>The choice for this process's environment.</summary>
    public static TestBackendChoice FromEnvironment() => Select(Environment.GetEnvironmentVariable, File.Exists);

    /// <summary>The choice for the given environment and file system.</summary>
    /// <exception cref="InvalidOperationException"><c>CLOUD_TEST_BACKEND</c> has a value other than the two known ones.</exception>
    public static TestBackendChoice Select(Func<string, string?> environment, Func<string, bool> fileExists)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(fileExists);
        var requested = environment(Variable)?.Trim();
        switch (requested?.ToLowerInvariant())
        {
            case null or "" or "emulators":
                return new TestBackendChoice(TestBackendKind.NpmEmulators, $"{Variable} is not 'localstack': npm emulators");
            case "localstack":
                if (environment(DockerHostVariable) is { Length: > 0 })
                {
                    return new TestBackendChoice(TestBackendKind.LocalStack, $"{Variable}=localstack and {DockerHostVariable} is set");
                }
                if (fileExists(DefaultDockerSocket))
                {
                    return new TestBackendChoice(TestBackendKind.LocalStack, $"{Variable}=localstack and {DefaultDockerSocket} exists");
                }
                return new TestBackendChoice(TestBackendKind.NpmEmulators, $"{Variable}=localstack but no Docker engine ({DockerHostVariable} unset, no {DefaultDockerSocket}): npm emulators");
            default:
                throw new InvalidOperationException($"{Variable}='{requested}' must be 'emulators' or 'localstack'.");
        }
    }
}
