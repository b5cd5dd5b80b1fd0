using Cloud.Testing;

namespace Cloud.EventSourceMapping.Tests;

/// <summary>
/// The integration fixtures' choice between the npm emulators and LocalStack in Docker (tests/Cloud.Testing/TestBackend.cs).
/// No Docker engine exists on the build machines, so the rule is tested here with a fake environment.
/// </summary>
public class TestBackendSelectionTests
{
    private static TestBackendChoice Select(string? backend, string? dockerHost = null, bool socket = false) =>
        TestBackend.Select(
            name => name switch
            {
                TestBackend.Variable => backend,
                TestBackend.DockerHostVariable => dockerHost,
                _ => null,
            },
            path => socket && path == TestBackend.DefaultDockerSocket);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("emulators")]
    public void Without_a_request_for_LocalStack_the_npm_emulators_run_even_with_Docker(string? backend)
    {
        Assert.Equal(TestBackendKind.NpmEmulators, Select(backend, dockerHost: "unix:///var/run/docker.sock", socket: true).Kind);
    }

    [Theory]
    [InlineData("localstack")]
    [InlineData("LocalStack")]
    [InlineData(" localstack ")]
    public void LocalStack_runs_when_asked_for_and_DOCKER_HOST_is_set(string backend)
    {
        var choice = Select(backend, dockerHost: "tcp://127.0.0.1:2375");
        Assert.Equal(TestBackendKind.LocalStack, choice.Kind);
        Assert.Contains("DOCKER_HOST", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void LocalStack_runs_when_asked_for_and_the_default_socket_exists()
    {
        var choice = Select("localstack", socket: true);
        Assert.Equal(TestBackendKind.LocalStack, choice.Kind);
        Assert.Contains("/var/run/docker.sock", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Asked_for_LocalStack_without_a_Docker_engine_the_npm_emulators_run_and_say_why()
    {
        var choice = Select("localstack", dockerHost: "");
        Assert.Equal(TestBackendKind.NpmEmulators, choice.Kind);
        Assert.Contains("no Docker engine", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_backend_is_an_error_naming_the_choices()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Select("kinesalite"));
        Assert.Contains("'emulators' or 'localstack'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void This_machine_without_the_variable_uses_the_npm_emulators()
    {
        if (Environment.GetEnvironmentVariable(TestBackend.Variable) is { Length: > 0 })
        {
            return; // someone asked for a backend on purpose: the fake-environment tests above cover the rule
        }
        Assert.Equal(TestBackendKind.NpmEmulators, TestBackend.FromEnvironment().Kind);
    }

    [Fact]
    public void Only_the_test_support_assembly_references_Testcontainers()
    {
        // "Nothing else may depend on Docker": the libraries and the runner do not reference Testcontainers or Docker.DotNet.
        foreach (var assembly in new[] { typeof(LocalEventSourceMapping).Assembly, typeof(Cloud.Kinesis.KinesisErrors).Assembly, typeof(Cloud.Emulators.EmulatorHost).Assembly, typeof(Cloud.Records.RecordDecoder).Assembly })
        {
            Assert.DoesNotContain(assembly.GetReferencedAssemblies(), a => a.Name!.StartsWith("Testcontainers", StringComparison.Ordinal) || a.Name.StartsWith("Docker", StringComparison.Ordinal));
        }
        Assert.Contains(typeof(EmulatorFixture).Assembly.GetReferencedAssemblies(), a => a.Name == "Testcontainers.LocalStack");
    }
}
