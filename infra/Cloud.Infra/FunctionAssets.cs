using System.Diagnostics;

namespace Cloud.Infra;

/// <summary>A Lambda function of this repository: project, handler and the folder its publish output lands in.</summary>
/// <param name="Project">Project (and assembly) name under <c>functions/</c>.</param>
/// <param name="Handler">Lambda handler string <c>Assembly::Namespace.Type::Method</c> (Stream in, Stream out); the method
/// name must not be overloaded (Lambda rejects ambiguous handlers).</param>
public sealed record FunctionProject(string Project, string Handler)
{
    /// <summary>The Kinesis aggregator (tumbling-window aggregates into DynamoDB).</summary>
    public static FunctionProject Aggregator { get; } = new(
        "Cloud.Functions.Aggregator", "Cloud.Functions.Aggregator::Cloud.Functions.Aggregator.Function::FunctionHandler");

    /// <summary>The forget function (crypto-shredding requests from the control stream).</summary>
    public static FunctionProject Forget { get; } = new(
        "Cloud.Functions.Forget", "Cloud.Functions.Forget::Cloud.Functions.Forget.ForgetFunction::FunctionHandler");
}

/// <summary>
/// Produces the folder handed to <c>Code.FromAsset</c>: a prepared folder when <see cref="InfraConfig.FunctionsAssetDir"/>
/// is set, otherwise the output of <c>dotnet publish</c> (framework-dependent, Release; no Docker).
/// </summary>
public sealed class FunctionAssets
{
    private readonly string _repositoryRoot;
    private readonly string? _preparedDir;
    private readonly TimeSpan _publishTimeout;

    /// <summary>Creates the resolver.</summary>
    /// <param name="repositoryRoot">Repository root (holds <c>Cloud.sln</c>).</param>
    /// <param name="preparedDir">Folder with ready outputs, relative to the root or absolute; <see langword="null"/> to publish.</param>
    /// <param name="publishTimeout">Longest a single publish may take. <value>The default value is 10 minutes.</value></param>
    public FunctionAssets(string repositoryRoot, string? preparedDir, TimeSpan? publishTimeout = null)
    {
        _repositoryRoot = repositoryRoot;
        _preparedDir = preparedDir;
        _publishTimeout = publishTimeout ?? TimeSpan.FromMinutes(10);
    }

    /// <summary>The folder with the function's publish output (its DLL at the top).</summary>
    /// <exception cref="InfraConfigException">The prepared folder lacks the function, or the publish failed.</exception>
    public string PathFor(FunctionProject function)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (_preparedDir is not null)
        {
            var dir = Path.GetFullPath(Path.Combine(_repositoryRoot, _preparedDir, function.Project));
            if (!File.Exists(Path.Combine(dir, function.Project + ".dll")))
            {
                throw new InfraConfigException($"cloud:functionsAssetDir: '{dir}' must contain {function.Project}.dll (a dotnet publish output of functions/{function.Project}).");
            }

            return dir;
        }

        return Publish(function);
    }

    private string Publish(FunctionProject function)
    {
        var project = Path.Combine(_repositoryRoot, "functions", function.Project, function.Project + ".csproj");
        var output = Path.Combine(_repositoryRoot, ".tmp", "publish", function.Project);
        if (Directory.Exists(output))
        {
            Directory.Delete(output, recursive: true);
        }

        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _repositoryRoot,
        };
        foreach (var a in new[] { "publish", project, "-c", "Release", "-o", output, "--nologo", "-v", "quiet", "-p:UseAppHost=false" })
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi) ?? throw new InfraConfigException($"Could not start 'dotnet publish' for {function.Project}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(_publishTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new InfraConfigException($"'dotnet publish' of {function.Project} did not finish within {_publishTimeout.TotalMinutes:0} minutes.");
        }

        if (process.ExitCode != 0 || !File.Exists(Path.Combine(output, function.Project + ".dll")))
        {
            var log = (stdout.Result + stderr.Result).Trim();
            throw new InfraConfigException($"'dotnet publish' of {function.Project} failed (exit {process.ExitCode}):\n{Tail(log, 4000)}");
        }

        return output;
    }

    private static string Tail(string s, int max) => s.Length <= max ? s : s[^max..];

    /// <summary>Finds the repository root (the folder holding <c>Cloud.sln</c>) above the working or base directory.</summary>
    public static string FindRepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Cloud.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InfraConfigException("Cannot find the repository root (a folder holding Cloud.sln) above the working directory.");
    }
}
