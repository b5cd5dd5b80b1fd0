using Cloud.Emulators;

namespace Cloud.Cli.Infrastructure;

/// <summary>Where <c>cloud local up</c> records the detached emulators, and how verbs find them.</summary>
public static class LocalStack
{
    /// <summary>Environment variable overriding the state file path.</summary>
    public const string StateFileVariable = "CLOUD_STATE_FILE";

    /// <summary>The state file: <c>$CLOUD_STATE_FILE</c>, else a per-user file.</summary>
    public static string StateFile =>
        Environment.GetEnvironmentVariable(StateFileVariable) is { Length: > 0 } path
            ? Path.GetFullPath(path)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "cloud", "local-stack.json");

    /// <summary>The recorded stack if all its processes are alive and answering; null when none runs.</summary>
    public static async Task<EmulatorState?> ReadRunningAsync(CancellationToken cancellationToken)
    {
        var status = await DetachedEmulators.GetStatusAsync(StateFile, cancellationToken).ConfigureAwait(false);
        return status.IsHealthy ? status.State : null;
    }
}
