using Cloud.Testing;

namespace Cloud.Cli.Tests.Infrastructure;

/// <summary>
/// One test's scratch folder (under TMPDIR) with its own <c>CLOUD_STATE_FILE</c> (and so its own default
/// master key), and a <see cref="CliProcess"/> working in it. Deleted on dispose.
/// </summary>
public sealed class CliSandbox : IDisposable
{
    private readonly EmulatorFixture? _fixture;

    /// <summary>Creates the folder; with a fixture, <see cref="OnEmulatorsAsync"/> targets its endpoints.</summary>
    public CliSandbox(EmulatorFixture? fixture = null)
    {
        _fixture = fixture;
        Directory = System.IO.Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "cloud-cli-tests", Guid.NewGuid().ToString("N")[..12])).FullName;
        StateFile = Path.Combine(Directory, "state", "local-stack.json");
        Cli = new CliProcess(Directory, StateFile);
    }

    /// <summary>The scratch folder (the tool's working directory).</summary>
    public string Directory { get; }

    /// <summary>The tool's <c>CLOUD_STATE_FILE</c> (no stack is recorded there unless a test runs <c>local up</c>).</summary>
    public string StateFile { get; }

    /// <summary>The runner.</summary>
    public CliProcess Cli { get; }

    /// <summary>The fixture's endpoints as global options.</summary>
    public string[] EndpointArgs => _fixture is null
        ? throw new InvalidOperationException("this sandbox has no emulator fixture")
        : ["--endpoint", _fixture.KinesisEndpoint.ToString(), "--dynamodb-endpoint", _fixture.DynamoDbEndpoint.ToString()];

    /// <summary>Runs <c>cloud ARGS</c> without endpoints.</summary>
    public Task<CliResult> RunAsync(params string[] args) => Cli.RunAsync(args);

    /// <summary>Runs <c>cloud ARGS</c> with stdin and without endpoints.</summary>
    public Task<CliResult> RunWithInputAsync(string stdin, params string[] args) => Cli.RunAsync(args, stdin);

    /// <summary>Runs <c>cloud ARGS --endpoint K --dynamodb-endpoint D</c> against the fixture's emulators.</summary>
    public Task<CliResult> OnEmulatorsAsync(params string[] args) => Cli.RunAsync([.. args, .. EndpointArgs]);

    /// <summary>Runs <c>cloud ARGS</c> on the emulators, passing each line of standard error to <paramref name="onStderrLine"/> as it comes.</summary>
    public Task<CliResult> OnEmulatorsWatchingAsync(Action<string> onStderrLine, params string[] args) => Cli.RunAsync([.. args, .. EndpointArgs], onStderrLine: onStderrLine);

    /// <summary>The same with stdin.</summary>
    public Task<CliResult> OnEmulatorsWithInputAsync(string stdin, params string[] args) => Cli.RunAsync([.. args, .. EndpointArgs], stdin);

    /// <summary>Writes a file in the scratch folder and returns its path.</summary>
    public string WriteFile(string name, string content)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>Creates a provisioned stream through the tool and checks it is ACTIVE.</summary>
    public async Task<string> CreateStreamAsync(string prefix, int shards)
    {
        var name = EmulatorFixture.UniqueName(prefix);
        var created = await OnEmulatorsAsync("streams", "create", name, "--shards", shards.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json");
        CliAssert.Succeeded(created);
        Assert.Equal("ACTIVE", created.Json().GetProperty("status").GetString());
        return name;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // best effort: it lives under the ignored .tmp folder
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
