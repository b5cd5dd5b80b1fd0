namespace Cloud.Emulators;

/// <summary>
/// The local AWS stack for tests and the <c>cloud local</c> commands: kinesis-local (or kinesalite)
/// and dynalite, each on a free 127.0.0.1 port, or existing endpoints given by the environment.
/// Disposing stops every process it started (SIGTERM, grace period, SIGKILL of the process tree).
/// </summary>
/// <example>
/// <code>
/// await using var host = await EmulatorHost.StartAsync(new EmulatorOptions(), ct);
/// var kinesisUrl = host.KinesisEndpoint; // http://127.0.0.1:NNNNN
/// </code>
/// </example>
public sealed class EmulatorHost : IAsyncDisposable
{
    private const int PortCollisionRetries = 3;

    private readonly List<EmulatorProcess> _processes;
    private readonly TimeSpan _stopGracePeriod;
    private readonly Uri? _kinesisEndpoint;
    private readonly Uri? _dynamoDbEndpoint;
    private int _disposed;

    private EmulatorHost(List<EmulatorProcess> processes, Uri? kinesis, Uri? dynamoDb, Uri? kinesisTls, KinesisEngine? engine, TimeSpan stopGracePeriod)
    {
        _processes = processes;
        _kinesisEndpoint = kinesis;
        _dynamoDbEndpoint = dynamoDb;
        KinesisTlsEndpoint = kinesisTls;
        KinesisEngine = engine;
        _stopGracePeriod = stopGracePeriod;
    }

    /// <summary>The Kinesis endpoint (plain HTTP on 127.0.0.1, or the external one).</summary>
    /// <exception cref="InvalidOperationException">Kinesis was not requested.</exception>
    public Uri KinesisEndpoint => _kinesisEndpoint ?? throw new InvalidOperationException("This EmulatorHost was started without Kinesis (EmulatorOptions.StartKinesis = false).");

    /// <summary>The DynamoDB endpoint (plain HTTP on 127.0.0.1, or the external one).</summary>
    /// <exception cref="InvalidOperationException">DynamoDB was not requested.</exception>
    public Uri DynamoDbEndpoint => _dynamoDbEndpoint ?? throw new InvalidOperationException("This EmulatorHost was started without DynamoDB (EmulatorOptions.StartDynamoDb = false).");

    /// <summary>kinesis-local's HTTPS endpoint (self-signed certificate); null for other engines.</summary>
    public Uri? KinesisTlsEndpoint { get; }

    /// <summary>The Kinesis engine started here; null when Kinesis is external or not requested.</summary>
    public KinesisEngine? KinesisEngine { get; }

    /// <summary>Whether the Kinesis endpoint came from outside (options or <c>CLOUD_KINESIS_ENDPOINT</c>).</summary>
    public bool IsKinesisExternal => _kinesisEndpoint is not null && KinesisEngine is null;

    /// <summary>The emulator processes this host started.</summary>
    public IReadOnlyList<EmulatorInstance> Processes =>
        _processes.Select(p => new EmulatorInstance(p.Launch.Name, p.Pid, p.Launch.Endpoint, [p.Launch.Port, .. p.Launch.ExtraPorts])).ToList();

    /// <summary>Starts what <paramref name="options"/> asks for and returns when every endpoint answers a real request.</summary>
    /// <exception cref="EmulatorStartException">An emulator failed to start or answer; carries its output tail.</exception>
    /// <exception cref="NodeToolsException">Node.js/npm is missing or the install failed.</exception>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static async Task<EmulatorHost> StartAsync(EmulatorOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var (externalKinesis, externalDynamoDb) = options.ResolveExternalEndpoints();
        var startKinesis = options.StartKinesis && externalKinesis is null;
        var startDynamoDb = options.StartDynamoDb && externalDynamoDb is null;

        var processes = new List<EmulatorProcess>();
        try
        {
            var externals = new List<Task>();
            if (options.StartKinesis && externalKinesis is not null)
            {
                externals.Add(WaitForExternalAsync(externalKinesis, EmulatedService.Kinesis, options, cancellationToken));
            }

            if (options.StartDynamoDb && externalDynamoDb is not null)
            {
                externals.Add(WaitForExternalAsync(externalDynamoDb, EmulatedService.DynamoDb, options, cancellationToken));
            }

            if (startKinesis || startDynamoDb)
            {
                var tools = options.Tools ?? NodeTools.Locate();
                await tools.EnsureInstalledAsync(cancellationToken).ConfigureAwait(false);
                string[] preloads = ["-r", tools.BindLoopbackPreloadPath, "-r", tools.ExitWithParentPreloadPath];

                var starts = new List<Task<EmulatorProcess>>();
                if (startKinesis)
                {
                    starts.Add(StartOneAsync(tools, () => EmulatorLaunch.ForKinesis(tools, options, preloads), options, processes, cancellationToken));
                }

                if (startDynamoDb)
                {
                    starts.Add(StartOneAsync(tools, () => EmulatorLaunch.Dynalite(tools, options, preloads), options, processes, cancellationToken));
                }

                await Task.WhenAll(starts).ConfigureAwait(false);
            }

            await Task.WhenAll(externals).ConfigureAwait(false);

            var kinesisProcess = processes.FirstOrDefault(p => p.Launch.Service == EmulatedService.Kinesis);
            var dynamoProcess = processes.FirstOrDefault(p => p.Launch.Service == EmulatedService.DynamoDb);
            Uri? tls = kinesisProcess is { Launch.Name: EmulatorLaunch.KinesisLocalName } kl
                ? new Uri($"https://127.0.0.1:{kl.Launch.ExtraPorts[0]}")
                : null;
            return new EmulatorHost(
                processes,
                options.StartKinesis ? kinesisProcess?.Launch.Endpoint ?? externalKinesis : null,
                options.StartDynamoDb ? dynamoProcess?.Launch.Endpoint ?? externalDynamoDb : null,
                tls,
                kinesisProcess is null ? null : options.KinesisEngine,
                options.StopGracePeriod);
        }
        catch
        {
            await StopAllAsync(processes, options.StopGracePeriod).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops every process this host started and waits until their ports are free.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await StopAllAsync(_processes, _stopGracePeriod).ConfigureAwait(false);
        }
    }

    private static async Task<EmulatorProcess> StartOneAsync(
        NodeTools tools, Func<EmulatorLaunch> plan, EmulatorOptions options, List<EmulatorProcess> started, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var process = EmulatorProcess.Start(tools, plan());
            lock (started)
            {
                started.Add(process);
            }

            try
            {
                await process.WaitUntilReadyAsync(options.Region, options.StartTimeout, options.TimeProvider, cancellationToken).ConfigureAwait(false);
                return process;
            }
            catch (EmulatorStartException ex) when (attempt < PortCollisionRetries && ex.OutputTail.Contains("EADDRINUSE", StringComparison.Ordinal))
            {
                // another process took a port between allocation and bind: try new ports
                lock (started)
                {
                    started.Remove(process);
                }

                await process.StopAsync(options.StopGracePeriod, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task WaitForExternalAsync(Uri endpoint, EmulatedService service, EmulatorOptions options, CancellationToken cancellationToken)
    {
        var started = options.TimeProvider.GetTimestamp();
        while (true)
        {
            var problem = await EndpointProbe.ProbeAsync(endpoint, service, options.Region, options.TimeProvider, cancellationToken).ConfigureAwait(false);
            if (problem is null)
            {
                return;
            }

            if (options.TimeProvider.GetElapsedTime(started) > options.StartTimeout)
            {
                var variable = service == EmulatedService.Kinesis ? EmulatorOptions.KinesisEndpointVariable : EmulatorOptions.DynamoDbEndpointVariable;
                throw new EmulatorStartException(
                    $"external {service} endpoint",
                    $"{endpoint} (from options or {variable}) did not answer within {options.StartTimeout.TotalSeconds:0.#} s: {problem}",
                    null,
                    string.Empty);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task StopAllAsync(List<EmulatorProcess> processes, TimeSpan grace)
    {
        EmulatorProcess[] snapshot;
        lock (processes)
        {
            snapshot = [.. processes];
            processes.Clear();
        }

        // Stopping must finish even when the caller's token is already cancelled.
        await Task.WhenAll(snapshot.Select(p => p.StopAsync(grace, CancellationToken.None))).ConfigureAwait(false);
    }
}

/// <summary>A running emulator process.</summary>
/// <param name="Name">kinesis-local, kinesalite or dynalite.</param>
/// <param name="Pid">Operating-system process id.</param>
/// <param name="Endpoint">Its plain-HTTP endpoint.</param>
/// <param name="Ports">Every port it listens on (the first is the endpoint's).</param>
public sealed record EmulatorInstance(string Name, int Pid, Uri Endpoint, IReadOnlyList<int> Ports);
