namespace Cloud.Emulators;

/// <summary>How <see cref="NodeTools"/> runs a Node.js script.</summary>
public sealed record NodeRunOptions
{
    /// <summary>Arguments after the script path.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>Arguments for node itself, before the script (e.g. <c>-r</c> preloads).</summary>
    public IReadOnlyList<string> NodeArguments { get; init; } = [];

    /// <summary>Text written to the script's standard input, which is then closed. The default is none.</summary>
    public string? StandardInput { get; init; }

    /// <summary>Working directory. The default is the tools folder.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Extra environment variables for the child process.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>How long the script may run before its process tree is killed. The default value is 2 minutes.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Whether <c>NODE_PATH</c> points at the installed packages. The default value is <see langword="true"/>.</summary>
    public bool SetNodePath { get; init; } = true;
}

/// <summary>The outcome of a Node.js run.</summary>
/// <param name="ExitCode">The process exit code.</param>
/// <param name="StandardOutput">Everything written to standard output.</param>
/// <param name="StandardError">Everything written to standard error.</param>
/// <param name="Elapsed">Wall time from start to exit.</param>
public sealed record NodeRunResult(int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed)
{
    /// <summary>Throws <see cref="NodeToolsException"/> with the stderr tail when the exit code is not 0.</summary>
    public NodeRunResult EnsureSuccess()
    {
        if (ExitCode != 0)
        {
            throw new NodeToolsException($"Node.js exited with code {ExitCode}:{System.Environment.NewLine}{NodeTools.Tail(StandardError, 30)}");
        }

        return this;
    }
}

/// <summary>Node.js or the pinned npm packages are missing, too old, or failed to install or run.</summary>
public sealed class NodeToolsException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NodeToolsException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public NodeToolsException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public NodeToolsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
