using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cloud.Emulators;

/// <summary>
/// Emulators that outlive the caller (for <c>cloud local up | status | down</c>): started in their
/// own session with output to log files, described by a JSON state file.
/// </summary>
public static class DetachedEmulators
{
    /// <summary>
    /// Starts the local stack detached, waits until every endpoint answers, then writes
    /// <paramref name="stateFile"/> (log files go next to it). Endpoints given by the environment are
    /// recorded, not started.
    /// </summary>
    /// <exception cref="InvalidOperationException">The state file describes emulators that are still running.</exception>
    /// <exception cref="EmulatorStartException">An emulator failed to start; the ones already started are stopped.</exception>
    public static async Task<EmulatorState> StartAsync(EmulatorOptions options, string stateFile, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(stateFile);
        options.Validate();
        stateFile = Path.GetFullPath(stateFile);

        if (ReadState(stateFile) is { } existing && existing.Processes.Any(IsSameProcessAlive))
        {
            throw new InvalidOperationException(
                $"The local stack in '{stateFile}' is still running (pids {string.Join(", ", existing.Processes.Select(p => p.Pid))}); stop it first.");
        }

        var stateDirectory = Path.GetDirectoryName(stateFile)!;
        Directory.CreateDirectory(stateDirectory);
        var (externalKinesis, externalDynamoDb) = options.ResolveExternalEndpoints();
        var started = new List<EmulatorProcessState>();
        try
        {
            NodeTools? tools = null;
            string[] preloads = [];
            if ((options.StartKinesis && externalKinesis is null) || (options.StartDynamoDb && externalDynamoDb is null))
            {
                tools = options.Tools ?? NodeTools.Locate();
                await tools.EnsureInstalledAsync(cancellationToken).ConfigureAwait(false);
                preloads = ["-r", tools.BindLoopbackPreloadPath];
            }

            Uri? kinesis = externalKinesis;
            Uri? dynamoDb = externalDynamoDb;
            if (options.StartKinesis && externalKinesis is null)
            {
                var launch = EmulatorLaunch.ForKinesis(tools!, options, preloads);
                started.Add(await StartDetachedAsync(tools!, launch, stateDirectory, options, cancellationToken).ConfigureAwait(false));
                kinesis = launch.Endpoint;
            }

            if (options.StartDynamoDb && externalDynamoDb is null)
            {
                var launch = EmulatorLaunch.Dynalite(tools!, options, preloads);
                started.Add(await StartDetachedAsync(tools!, launch, stateDirectory, options, cancellationToken).ConfigureAwait(false));
                dynamoDb = launch.Endpoint;
            }

            var state = new EmulatorState
            {
                StartedAt = options.TimeProvider.GetUtcNow(),
                Region = options.Region,
                KinesisEndpoint = options.StartKinesis ? kinesis : null,
                DynamoDbEndpoint = options.StartDynamoDb ? dynamoDb : null,
                KinesisEngine = options.StartKinesis && externalKinesis is null ? EngineName(options.KinesisEngine) : null,
                PersistDirectory = options.PersistDirectory is null ? null : Path.GetFullPath(options.PersistDirectory),
                Processes = started,
            };
            await WriteStateAsync(stateFile, state, cancellationToken).ConfigureAwait(false);
            return state;
        }
        catch
        {
            foreach (var process in started)
            {
                await StopProcessAsync(process, options.StopGracePeriod, CancellationToken.None).ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>Reads a state file; null when it does not exist.</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a valid state file.</exception>
    public static EmulatorState? ReadState(string stateFile)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stateFile);
        if (!File.Exists(stateFile))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(stateFile), EmulatorStateJsonContext.Default.EmulatorState)
                ?? throw new InvalidDataException($"State file '{stateFile}' is empty.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"State file '{stateFile}' is not valid JSON at {ex.Path} (line {ex.LineNumber}): {ex.Message}", ex);
        }
    }

    /// <summary>Checks each recorded process (alive, same start time) and each endpoint (answers a list call).</summary>
    public static async Task<EmulatorStatus> GetStatusAsync(string stateFile, CancellationToken cancellationToken = default)
    {
        var state = ReadState(stateFile);
        if (state is null)
        {
            return new EmulatorStatus(null, [], false);
        }

        var processes = new List<EmulatorProcessStatus>();
        foreach (var process in state.Processes)
        {
            var alive = IsSameProcessAlive(process);
            var service = process.Name == EmulatorLaunch.DynaliteName ? EmulatedService.DynamoDb : EmulatedService.Kinesis;
            var problem = alive
                ? await EndpointProbe.ProbeAsync(process.Endpoint, service, state.Region, TimeProvider.System, cancellationToken).ConfigureAwait(false)
                : "process is not running";
            processes.Add(new EmulatorProcessStatus(process.Name, process.Pid, process.Endpoint, alive, problem is null, problem));
        }

        return new EmulatorStatus(state, processes, processes.Count > 0 && processes.All(p => p.Answering));
    }

    /// <summary>
    /// Stops every recorded process (SIGTERM, grace period, SIGKILL of its tree), waits until its ports
    /// are free, and deletes the state file. Returns the state that was stopped, or null if there was none.
    /// </summary>
    public static async Task<EmulatorState?> StopAsync(string stateFile, TimeSpan gracePeriod, CancellationToken cancellationToken = default)
    {
        var state = ReadState(stateFile);
        if (state is null)
        {
            return null;
        }

        foreach (var process in state.Processes)
        {
            await StopProcessAsync(process, gracePeriod, cancellationToken).ConfigureAwait(false);
        }

        File.Delete(stateFile);
        return state;
    }

    private static async Task<EmulatorProcessState> StartDetachedAsync(
        NodeTools tools, EmulatorLaunch launch, string stateDirectory, EmulatorOptions options, CancellationToken cancellationToken)
    {
        var logFile = Path.Combine(stateDirectory, launch.Name + ".log");
        File.WriteAllText(logFile, string.Empty);
        var result = await tools.RunScriptAsync(
            tools.LaunchDetachedScriptPath,
            new NodeRunOptions
            {
                Arguments = [logFile, launch.WorkingDirectory, tools.NodeExecutable, .. launch.NodeArguments],
                Environment = launch.Environment,
                Timeout = TimeSpan.FromSeconds(30),
                SetNodePath = false,
            },
            cancellationToken).ConfigureAwait(false);

        int pid;
        try
        {
            pid = JsonDocument.Parse(result.StandardOutput).RootElement.GetProperty("pid").GetInt32();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new EmulatorStartException(launch.Name, "the detached launcher did not report a pid", result.ExitCode, NodeTools.Tail(result.StandardError, 20), ex);
        }

        var process = new EmulatorProcessState
        {
            Name = launch.Name,
            Pid = pid,
            ProcessStartTime = ProcessSignals.TryGetStartTime(pid),
            Endpoint = launch.Endpoint,
            Ports = [launch.Port, .. launch.ExtraPorts],
            LogFile = logFile,
        };

        var startedAt = options.TimeProvider.GetTimestamp();
        while (true)
        {
            if (!ProcessSignals.IsAlive(pid))
            {
                throw new EmulatorStartException(launch.Name, "exited before it answered", null, LogTail(logFile));
            }

            var problem = await EndpointProbe.ProbeAsync(launch.Endpoint, launch.Service, options.Region, options.TimeProvider, cancellationToken).ConfigureAwait(false);
            if (problem is null)
            {
                return process;
            }

            if (options.TimeProvider.GetElapsedTime(startedAt) > options.StartTimeout)
            {
                await StopProcessAsync(process, options.StopGracePeriod, CancellationToken.None).ConfigureAwait(false);
                throw new EmulatorStartException(launch.Name, $"did not answer on {launch.Endpoint} within {options.StartTimeout.TotalSeconds:0.#} s (last probe: {problem})", null, LogTail(logFile));
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task StopProcessAsync(EmulatorProcessState process, TimeSpan grace, CancellationToken cancellationToken)
    {
        if (IsSameProcessAlive(process))
        {
            await ProcessSignals.StopAsync(process.Pid, grace, cancellationToken).ConfigureAwait(false);
        }

        foreach (var port in process.Ports)
        {
            await LoopbackPorts.WaitUntilFreeAsync(port, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool IsSameProcessAlive(EmulatorProcessState process)
    {
        if (!ProcessSignals.IsAlive(process.Pid))
        {
            return false;
        }

        // A recycled pid belongs to another program: never signal it.
        if (process.ProcessStartTime is { } recorded && ProcessSignals.TryGetStartTime(process.Pid) is { } actual)
        {
            return (actual - recorded).Duration() < TimeSpan.FromSeconds(2);
        }

        return true;
    }

    private static string LogTail(string logFile)
    {
        try
        {
            return NodeTools.Tail(File.ReadAllText(logFile), 40);
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    private static async Task WriteStateAsync(string stateFile, EmulatorState state, CancellationToken cancellationToken)
    {
        var temp = stateFile + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(state, EmulatorStateJsonContext.Default.EmulatorState), cancellationToken).ConfigureAwait(false);
        File.Move(temp, stateFile, overwrite: true);
    }

    private static string EngineName(KinesisEngine engine) =>
        engine == KinesisEngine.Kinesalite ? EmulatorLaunch.KinesaliteName : EmulatorLaunch.KinesisLocalName;
}

/// <summary>The JSON state file of a detached local stack.</summary>
public sealed record EmulatorState
{
    /// <summary>Format version of the file. The current value is 1.</summary>
    public int Version { get; init; } = 1;

    /// <summary>When the stack was started.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>Region the emulators report.</summary>
    public string Region { get; init; } = "us-east-1";

    /// <summary>The Kinesis endpoint (started or external); null if Kinesis was not requested.</summary>
    public Uri? KinesisEndpoint { get; init; }

    /// <summary>The DynamoDB endpoint (started or external); null if DynamoDB was not requested.</summary>
    public Uri? DynamoDbEndpoint { get; init; }

    /// <summary>kinesis-local or kinesalite; null when the Kinesis endpoint is external.</summary>
    public string? KinesisEngine { get; init; }

    /// <summary>Where the emulators persist data; null when in memory.</summary>
    public string? PersistDirectory { get; init; }

    /// <summary>The processes started (external endpoints have none).</summary>
    public IReadOnlyList<EmulatorProcessState> Processes { get; init; } = [];
}

/// <summary>One detached emulator process in the state file.</summary>
public sealed record EmulatorProcessState
{
    /// <summary>kinesis-local, kinesalite or dynalite.</summary>
    public required string Name { get; init; }

    /// <summary>Operating-system process id.</summary>
    public required int Pid { get; init; }

    /// <summary>The process's start time, to tell it from a later process that reuses the pid.</summary>
    public DateTimeOffset? ProcessStartTime { get; init; }

    /// <summary>Its plain-HTTP endpoint.</summary>
    public required Uri Endpoint { get; init; }

    /// <summary>Every port it listens on.</summary>
    public IReadOnlyList<int> Ports { get; init; } = [];

    /// <summary>File receiving its stdout and stderr.</summary>
    public string? LogFile { get; init; }
}

/// <summary>Health of a detached local stack.</summary>
/// <param name="State">The state file's content; null when there is no state file.</param>
/// <param name="Processes">Each recorded process and whether it answers.</param>
/// <param name="IsHealthy">True when there are processes and every one answers.</param>
public sealed record EmulatorStatus(EmulatorState? State, IReadOnlyList<EmulatorProcessStatus> Processes, bool IsHealthy);

/// <summary>Health of one detached emulator.</summary>
/// <param name="Name">kinesis-local, kinesalite or dynalite.</param>
/// <param name="Pid">Operating-system process id.</param>
/// <param name="Endpoint">Its endpoint.</param>
/// <param name="Alive">The process exists (and is the one recorded).</param>
/// <param name="Answering">The endpoint answered a list call.</param>
/// <param name="Problem">What went wrong when not answering.</param>
public sealed record EmulatorProcessStatus(string Name, int Pid, Uri Endpoint, bool Alive, bool Answering, string? Problem);

/// <summary>Source-generated JSON for the state file.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EmulatorState))]
internal sealed partial class EmulatorStateJsonContext : JsonSerializerContext;
