using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Cloud.Emulators;

/// <summary>One emulator running as a child process of this process, with the tail of its output kept.</summary>
internal sealed class EmulatorProcess
{
    private const int TailLines = 60;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _tail = new();

    private EmulatorProcess(EmulatorLaunch launch, Process process)
    {
        Launch = launch;
        _process = process;
    }

    public EmulatorLaunch Launch { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    public string OutputTail => string.Join(Environment.NewLine, _tail);

    public static EmulatorProcess Start(NodeTools tools, EmulatorLaunch launch)
    {
        var startInfo = new ProcessStartInfo(tools.NodeExecutable)
        {
            WorkingDirectory = launch.WorkingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in launch.NodeArguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in launch.Environment)
        {
            startInfo.Environment[key] = value;
        }

        startInfo.Environment["CLOUD_EMULATOR_PARENT_PID"] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var process = new Process { StartInfo = startInfo };
        var emulator = new EmulatorProcess(launch, process);
        process.OutputDataReceived += (_, e) => emulator.Append(e.Data);
        process.ErrorDataReceived += (_, e) => emulator.Append(e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            throw new EmulatorStartException(launch.Name, $"cannot start '{tools.NodeExecutable}' ({ex.Message}); is Node.js {NodeTools.MinimumNodeMajorVersion}+ on the PATH", null, string.Empty, ex);
        }

        ProcessRegistry.Register(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return emulator;
    }

    public async Task WaitUntilReadyAsync(string region, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var started = timeProvider.GetTimestamp();
        string? last = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false); // flush output events
                throw new EmulatorStartException(Launch.Name, "exited before it answered", _process.ExitCode, OutputTail);
            }

            last = await EndpointProbe.ProbeAsync(Launch.Endpoint, Launch.Service, region, timeProvider, cancellationToken).ConfigureAwait(false);
            if (last is null)
            {
                return;
            }

            if (timeProvider.GetElapsedTime(started) > timeout)
            {
                throw new EmulatorStartException(
                    Launch.Name,
                    $"did not answer on {Launch.Endpoint} within {timeout.TotalSeconds:0.#} s (last probe: {last})",
                    null,
                    OutputTail);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>SIGTERM, grace period, SIGKILL of the tree; then waits until its ports are free.</summary>
    public async Task StopAsync(TimeSpan grace, CancellationToken cancellationToken)
    {
        try
        {
            if (!_process.HasExited)
            {
                ProcessSignals.Terminate(_process.Id);
                using var graceTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                graceTimeout.CancelAfter(grace);
                try
                {
                    await _process.WaitForExitAsync(graceTimeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // ignored SIGTERM (seen with a busy kinesis-local): kill the whole tree
                    KillTree();
                    await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            foreach (var port in Enumerable.Prepend(Launch.ExtraPorts, Launch.Port))
            {
                await LoopbackPorts.WaitUntilFreeAsync(port, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ProcessRegistry.Unregister(_process);
            _process.Dispose();
        }
    }

    public void KillTree()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already exited
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        _tail.Enqueue(line);
        while (_tail.Count > TailLines && _tail.TryDequeue(out _))
        {
        }
    }
}

/// <summary>Kills every emulator child still running when this process exits, whatever the tests did.</summary>
internal static class ProcessRegistry
{
    private static readonly ConcurrentDictionary<Process, byte> Live = new();
    private static int _hooked;

    public static int Count => Live.Count;

    public static bool Any(Func<Process, bool> predicate) => Live.Keys.Any(predicate);

    public static void Register(Process process)
    {
        if (Interlocked.Exchange(ref _hooked, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
            AppDomain.CurrentDomain.DomainUnload += (_, _) => KillAll();
            System.Runtime.Loader.AssemblyLoadContext.Default.Unloading += _ => KillAll();
        }

        Live.TryAdd(process, 0);
    }

    public static void Unregister(Process process) => Live.TryRemove(process, out _);

    public static void KillAll()
    {
        foreach (var process in Live.Keys)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
            {
                // exited meanwhile
            }

            Live.TryRemove(process, out _);
        }
    }
}
