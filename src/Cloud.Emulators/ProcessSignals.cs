using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Cloud.Emulators;

/// <summary>Signals and liveness checks by process id (also for processes that are not our children).</summary>
internal static partial class ProcessSignals
{
    private const int SIGKILL = 9;
    private const int SIGTERM = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);

    /// <summary>Asks the process to stop (SIGTERM; on Windows there is no polite signal, so it is killed).</summary>
    public static void Terminate(int pid)
    {
        if (OperatingSystem.IsWindows())
        {
            Kill(pid);
            return;
        }

        _ = SysKill(pid, SIGTERM);
    }

    /// <summary>Kills the process and its descendants.</summary>
    public static void Kill(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // already gone (or not ours): the liveness check decides what happens next
            if (!OperatingSystem.IsWindows())
            {
                _ = SysKill(pid, SIGKILL);
            }
        }
    }

    /// <summary>Whether a process with this id exists and has not exited.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            if (process.HasExited)
            {
                return false;
            }

            // A zombie still has an id; /proc tells us it is dead.
            var statPath = $"/proc/{pid}/stat";
            if (OperatingSystem.IsLinux() && File.Exists(statPath))
            {
                var stat = File.ReadAllText(statPath);
                var close = stat.LastIndexOf(')');
                if (close > 0 && close + 2 < stat.Length && stat[close + 2] is 'Z' or 'X')
                {
                    return false;
                }
            }

            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException)
        {
            return false;
        }
    }

    /// <summary>The process start time (UTC), used to tell a recycled pid from the original process.</summary>
    public static DateTimeOffset? TryGetStartTime(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>SIGTERM, wait up to <paramref name="grace"/>, then SIGKILL of the tree; waits until it is gone.</summary>
    public static async Task<bool> StopAsync(int pid, TimeSpan grace, CancellationToken cancellationToken)
    {
        if (!IsAlive(pid))
        {
            return true;
        }

        Terminate(pid);
        if (await WaitForExitAsync(pid, grace, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        Kill(pid);
        return await WaitForExitAsync(pid, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
    }

    public static async Task<bool> WaitForExitAsync(int pid, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (IsAlive(pid))
        {
            if (Environment.TickCount64 > deadline)
            {
                return false;
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }
}
