using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Cloud.Emulators;

/// <summary>
/// The repository's pinned Node.js tools (<c>tools/emulators</c>): emulators, aws-kinesis-agg,
/// @aws-sdk/client-kinesis and the aws-cdk CLI. Installs them with <c>npm ci</c> on first use and
/// runs Node scripts against them.
/// </summary>
/// <remarks>
/// The install runs at most once per lock-file content: a stamp holding the SHA-256 of
/// <c>package-lock.json</c> is written into <c>node_modules</c> after a successful install, and a
/// cross-process file lock keeps parallel test processes from installing at the same time.
/// </remarks>
public sealed class NodeTools
{
    /// <summary>Environment variable naming the <c>tools/emulators</c> folder explicitly.</summary>
    public const string ToolsDirectoryVariable = "CLOUD_TOOLS_DIR";

    /// <summary>Environment variable naming the node executable (default: <c>node</c> on the PATH).</summary>
    public const string NodeExecutableVariable = "CLOUD_NODE";

    /// <summary>File name of the install stamp inside <c>node_modules</c>.</summary>
    public const string StampFileName = ".cloud-install.stamp";

    /// <summary>The lowest supported Node.js major version.</summary>
    public const int MinimumNodeMajorVersion = 20;

    private static readonly ConcurrentDictionary<string, Lazy<Task>> Installs = new(StringComparer.Ordinal);
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(10);

    private NodeTools(string toolsDirectory)
    {
        ToolsDirectory = toolsDirectory;
        NodeModulesPath = Path.Combine(toolsDirectory, "node_modules");
        NodeExecutable = Environment.GetEnvironmentVariable(NodeExecutableVariable) is { Length: > 0 } node ? node : "node";
    }

    /// <summary>Absolute path of the <c>tools/emulators</c> folder (holds package.json and the lock).</summary>
    public string ToolsDirectory { get; }

    /// <summary>Absolute path of the installed packages (<c>tools/emulators/node_modules</c>).</summary>
    public string NodeModulesPath { get; }

    /// <summary>The node executable used to run scripts.</summary>
    public string NodeExecutable { get; }

    /// <summary>The <c>node -r</c> preload that pins every listening socket to 127.0.0.1.</summary>
    public string BindLoopbackPreloadPath => Path.Combine(ToolsDirectory, "bind-loopback.js");

    /// <summary>The <c>node -r</c> preload that ends the process when its parent process is gone.</summary>
    public string ExitWithParentPreloadPath => Path.Combine(ToolsDirectory, "exit-with-parent.js");

    /// <summary>The launcher that starts a command detached from the caller.</summary>
    public string LaunchDetachedScriptPath => Path.Combine(ToolsDirectory, "launch-detached.js");

    /// <summary>The pinned aws-cdk CLI entry script (run it with <see cref="RunScriptAsync"/>).</summary>
    public string CdkCliPath => Path.Combine(NodeModulesPath, "aws-cdk", "bin", "cdk");

    /// <summary>Whether the installed packages match the current lock file.</summary>
    public bool IsInstalled => ReadStamp() is { } stamp && stamp == ComputeLockHash();

    /// <summary>
    /// Finds <c>tools/emulators</c>: <c>CLOUD_TOOLS_DIR</c> when set, otherwise the first folder
    /// containing <c>tools/emulators/package.json</c> walking up from <paramref name="startDirectory"/>
    /// (default: the app's base directory, then the current directory).
    /// </summary>
    /// <exception cref="NodeToolsException">The folder cannot be found.</exception>
    public static NodeTools Locate(string? startDirectory = null)
    {
        if (Environment.GetEnvironmentVariable(ToolsDirectoryVariable) is { Length: > 0 } configured)
        {
            var full = Path.GetFullPath(configured);
            if (!File.Exists(Path.Combine(full, "package.json")))
            {
                throw new NodeToolsException($"{ToolsDirectoryVariable}='{configured}' has no package.json.");
            }

            return new NodeTools(full);
        }

        var starts = startDirectory is not null
            ? [startDirectory]
            : new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() };
        foreach (var start in starts)
        {
            for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tools", "emulators");
                if (File.Exists(Path.Combine(candidate, "package.json")))
                {
                    return new NodeTools(candidate);
                }
            }
        }

        throw new NodeToolsException(
            $"Cannot find tools/emulators/package.json above '{string.Join("' or '", starts)}'. " +
            $"Run from inside the repository or set {ToolsDirectoryVariable}.");
    }

    /// <summary>Locates the tools folder and makes sure its packages are installed.</summary>
    public static async Task<NodeTools> EnsureAsync(CancellationToken cancellationToken = default)
    {
        var tools = Locate();
        await tools.EnsureInstalledAsync(cancellationToken).ConfigureAwait(false);
        return tools;
    }

    /// <summary>Absolute path of an installed package's folder, e.g. <c>aws-kinesis-agg</c>.</summary>
    public string GetPackageDirectory(string packageName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(packageName);
        return Path.Combine(NodeModulesPath, packageName.Replace('/', Path.DirectorySeparatorChar));
    }

    /// <summary>
    /// Runs <c>npm ci --no-audit --no-fund</c> unless the stamp says the lock file is already
    /// installed. Safe to call from many threads and processes at once.
    /// </summary>
    /// <exception cref="NodeToolsException">Node/npm is missing or too old, or the install failed.</exception>
    public Task EnsureInstalledAsync(CancellationToken cancellationToken = default)
    {
        if (IsInstalled)
        {
            return Task.CompletedTask;
        }

        var lazy = Installs.GetOrAdd(ToolsDirectory, _ => new Lazy<Task>(() => InstallOnceAsync(CancellationToken.None)));
        var task = lazy.Value;
        if (task.IsFaulted || task.IsCanceled)
        {
            // A failed install must not poison later attempts.
            Installs.TryRemove(new KeyValuePair<string, Lazy<Task>>(ToolsDirectory, lazy));
        }

        return task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Runs <c>node [script] args...</c> with <c>NODE_PATH</c> pointing at the installed packages, so
    /// scripts anywhere in the repository can <c>require</c> them. Kills the process tree on timeout
    /// or cancellation.
    /// </summary>
    /// <param name="scriptPath">The script to run (absolute or relative to the working directory).</param>
    /// <param name="options">Arguments, standard input, environment and timeout.</param>
    /// <param name="cancellationToken">Cancels the run and kills the process.</param>
    /// <exception cref="TimeoutException">The script did not finish within the timeout.</exception>
    public async Task<NodeRunResult> RunScriptAsync(string scriptPath, NodeRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scriptPath);
        options ??= new NodeRunOptions();
        var arguments = new List<string>(options.NodeArguments) { scriptPath };
        arguments.AddRange(options.Arguments);
        return await RunProcessAsync(NodeExecutable, arguments, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs inline JavaScript (<c>node -e</c>) the same way as <see cref="RunScriptAsync"/>.</summary>
    public async Task<NodeRunResult> RunInlineAsync(string javaScript, NodeRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(javaScript);
        options ??= new NodeRunOptions();
        var arguments = new List<string>(options.NodeArguments) { "-e", javaScript, "--" };
        arguments.AddRange(options.Arguments);
        return await RunProcessAsync(NodeExecutable, arguments, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the installed Node.js major version (<c>node --version</c>).</summary>
    public async Task<int> GetNodeMajorVersionAsync(CancellationToken cancellationToken = default)
    {
        NodeRunResult result;
        try
        {
            result = await RunProcessAsync(NodeExecutable, ["--version"], new NodeRunOptions { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken).ConfigureAwait(false);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new NodeToolsException($"Node.js is not installed or not on the PATH ('{NodeExecutable}': {ex.Message}). Install Node.js {MinimumNodeMajorVersion} or newer.", ex);
        }

        var text = result.StandardOutput.Trim().TrimStart('v');
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (result.ExitCode != 0 || dot <= 0 || !int.TryParse(text.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var major))
        {
            throw new NodeToolsException($"'{NodeExecutable} --version' gave '{result.StandardOutput.Trim()}' (exit {result.ExitCode}).");
        }

        return major;
    }

    internal string ComputeLockHash()
    {
        var lockFile = Path.Combine(ToolsDirectory, "package-lock.json");
        if (!File.Exists(lockFile))
        {
            throw new NodeToolsException($"'{lockFile}' is missing: the emulator versions must be pinned by a committed lock file.");
        }

        using var stream = File.OpenRead(lockFile);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private string StampPath => Path.Combine(NodeModulesPath, StampFileName);

    private string? ReadStamp()
    {
        try
        {
            return File.Exists(StampPath) ? File.ReadAllText(StampPath).Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private async Task InstallOnceAsync(CancellationToken cancellationToken)
    {
        var major = await GetNodeMajorVersionAsync(cancellationToken).ConfigureAwait(false);
        if (major < MinimumNodeMajorVersion)
        {
            throw new NodeToolsException($"Node.js {major} found; Node.js {MinimumNodeMajorVersion} or newer is required.");
        }

        var lockDirectory = Path.Combine(ToolsDirectory, ".emulators");
        Directory.CreateDirectory(lockDirectory);
        await using var fileLock = await AcquireFileLockAsync(Path.Combine(lockDirectory, "install.lock"), cancellationToken).ConfigureAwait(false);

        var hash = ComputeLockHash();
        if (ReadStamp() == hash)
        {
            return; // another process installed while we waited for the lock
        }

        var npm = OperatingSystem.IsWindows() ? "npm.cmd" : "npm";
        NodeRunResult result;
        try
        {
            result = await RunProcessAsync(
                npm,
                ["ci", "--no-audit", "--no-fund", "--loglevel=error"],
                new NodeRunOptions { WorkingDirectory = ToolsDirectory, Timeout = InstallTimeout, SetNodePath = false },
                cancellationToken).ConfigureAwait(false);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new NodeToolsException($"npm is not installed or not on the PATH: {ex.Message}", ex);
        }

        if (result.ExitCode != 0)
        {
            throw new NodeToolsException(
                $"'npm ci' in '{ToolsDirectory}' failed with exit code {result.ExitCode}:{Environment.NewLine}{Tail(result.StandardError, 40)}");
        }

        await File.WriteAllTextAsync(StampPath, hash, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<FileStream> AcquireFileLockAsync(string path, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                // FileShare.None is an exclusive advisory lock (flock) on Unix, a share lock on Windows.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (deadline.Elapsed < InstallTimeout)
            {
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<NodeRunResult> RunProcessAsync(string fileName, IReadOnlyList<string> arguments, NodeRunOptions options, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = options.WorkingDirectory ?? ToolsDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        if (options.SetNodePath)
        {
            var existing = Environment.GetEnvironmentVariable("NODE_PATH");
            startInfo.Environment["NODE_PATH"] = string.IsNullOrEmpty(existing) ? NodeModulesPath : NodeModulesPath + Path.PathSeparator + existing;
        }

        foreach (var (key, value) in options.Environment)
        {
            startInfo.Environment[key] = value;
        }

        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(startInfo) ?? throw new NodeToolsException($"Cannot start '{fileName}'.");
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        try
        {
            try
            {
                if (options.StandardInput is { } input)
                {
                    await process.StandardInput.WriteAsync(input.AsMemory(), timeout.Token).ConfigureAwait(false);
                }

                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // the script exited (or closed stdin) without reading all of it: its exit code tells
            }

            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            KillQuietly(process);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            var err = await stderr.ConfigureAwait(false);
            throw new TimeoutException(
                $"'{fileName} {string.Join(' ', arguments)}' did not finish within {options.Timeout.TotalSeconds:0.#} s; stderr tail:{Environment.NewLine}{Tail(err, 20)}");
        }

        return new NodeRunResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false), stopwatch.Elapsed);
    }

    private static void KillQuietly(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already exited
        }
    }

    internal static string Tail(string text, int lines)
    {
        var all = text.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines))).TrimEnd();
    }
}
