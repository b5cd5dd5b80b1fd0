using Cloud.Emulators;
using Cloud.Testing;

namespace Cloud.IntegrationTests.Harness;

/// <summary>Hosts started by these tests are their own, not the shared collection's.</summary>
public sealed class EmulatorHostTests
{
    public EmulatorHostTests() => AwsTestEnvironment.Apply();

    private static EmulatorOptions Local(KinesisEngine engine = KinesisEngine.KinesisLocal) =>
        new() { KinesisEngine = engine, UseEnvironmentOverrides = false };

    [Fact]
    public async Task Host_listens_on_loopback_only_and_dispose_leaves_no_process_or_port()
    {
        var host = await EmulatorHost.StartAsync(Local());
        IReadOnlyList<EmulatorInstance> processes;
        try
        {
            processes = host.Processes;
            Assert.Equal(["kinesis-local", "dynalite"], processes.Select(p => p.Name).Order().Reverse());
            var kinesisLocal = processes.Single(p => p.Name == "kinesis-local");
            Assert.Equal(2, kinesisLocal.Ports.Count); // plain + TLS
            Assert.Equal(host.KinesisEndpoint.Port, kinesisLocal.Ports[0]);
            Assert.Equal(KinesisEngine.KinesisLocal, host.KinesisEngine);
            Assert.NotNull(host.KinesisTlsEndpoint);

            if (ListeningSockets.Supported)
            {
                foreach (var port in processes.SelectMany(p => p.Ports))
                {
                    Assert.Equal(["127.0.0.1"], ListeningSockets.AddressesListeningOn(port));
                }
            }
        }
        finally
        {
            await host.DisposeAsync();
        }

        foreach (var process in processes)
        {
            Assert.False(ProcessSignals.IsAlive(process.Pid), $"{process.Name} (pid {process.Pid}) survived DisposeAsync");
            foreach (var port in process.Ports)
            {
                Assert.False(await LoopbackPorts.IsListeningAsync(port), $"port {port} of {process.Name} still taken");
            }
        }

        await host.DisposeAsync(); // idempotent
    }

    [Fact]
    public async Task Kinesalite_engine_serves_kinesis_on_loopback()
    {
        await using var host = await EmulatorHost.StartAsync(Local(KinesisEngine.Kinesalite) with { StartDynamoDb = false });

        Assert.Equal(KinesisEngine.Kinesalite, host.KinesisEngine);
        Assert.Null(host.KinesisTlsEndpoint);
        var kinesalite = Assert.Single(host.Processes);
        Assert.Equal("kinesalite", kinesalite.Name);
        Assert.Throws<InvalidOperationException>(() => host.DynamoDbEndpoint);
        if (ListeningSockets.Supported)
        {
            Assert.Equal(["127.0.0.1"], ListeningSockets.AddressesListeningOn(host.KinesisEndpoint.Port));
        }
    }

    [Fact]
    public async Task A_crashing_emulator_fails_with_its_output_and_leaves_nothing_running()
    {
        var options = Local() with
        {
            StartDynamoDb = false,
            KinesisLocalEnvironment = new Dictionary<string, string> { ["KINESIS_MOCK_PLAIN_PORT"] = "not-a-port" },
        };

        var error = await Assert.ThrowsAsync<EmulatorStartException>(() => EmulatorHost.StartAsync(options));

        Assert.Equal("kinesis-local", error.Emulator);
        Assert.NotNull(error.ExitCode);
        Assert.Contains("KINESIS_MOCK_PLAIN_PORT", error.OutputTail, StringComparison.Ordinal);
        Assert.Contains("KINESIS_MOCK_PLAIN_PORT", error.Message, StringComparison.Ordinal);
        Assert.False(ProcessRegistry.Any(p => p.StartInfo.Environment.TryGetValue("KINESIS_MOCK_PLAIN_PORT", out var v) && v == "not-a-port"));
    }

    [Fact]
    public async Task External_endpoints_are_used_instead_of_starting_emulators()
    {
        await using var real = await EmulatorHost.StartAsync(Local(KinesisEngine.Kinesalite));

        await using var host = await EmulatorHost.StartAsync(Local() with
        {
            ExternalKinesisEndpoint = real.KinesisEndpoint,
            ExternalDynamoDbEndpoint = real.DynamoDbEndpoint,
        });

        Assert.Empty(host.Processes);
        Assert.True(host.IsKinesisExternal);
        Assert.Null(host.KinesisEngine);
        Assert.Equal(real.KinesisEndpoint, host.KinesisEndpoint);
        Assert.Equal(real.DynamoDbEndpoint, host.DynamoDbEndpoint);
    }

    [Fact]
    public async Task An_external_endpoint_that_does_not_answer_is_a_typed_error()
    {
        var deadPort = LoopbackPorts.GetFreePort();
        var options = Local() with
        {
            StartDynamoDb = false,
            ExternalKinesisEndpoint = new Uri($"http://127.0.0.1:{deadPort}"),
            StartTimeout = TimeSpan.FromMilliseconds(500),
        };

        var error = await Assert.ThrowsAsync<EmulatorStartException>(() => EmulatorHost.StartAsync(options));

        Assert.Contains(deadPort.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        Assert.Contains("CLOUD_KINESIS_ENDPOINT", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_options_report_every_problem_at_once()
    {
        var options = new EmulatorOptions
        {
            ShardLimit = 0,
            StartTimeout = TimeSpan.Zero,
            LogLevel = "LOUD",
            ExternalKinesisEndpoint = new Uri("ftp://127.0.0.1/"),
        };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("ShardLimit", error.Message, StringComparison.Ordinal);
        Assert.Contains("StartTimeout", error.Message, StringComparison.Ordinal);
        Assert.Contains("LogLevel", error.Message, StringComparison.Ordinal);
        Assert.Contains("ExternalKinesisEndpoint", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Detached_stack_outlives_its_starter_reports_status_and_stops_from_the_state_file()
    {
        var folder = Directory.CreateTempSubdirectory("cloud-detached-");
        var stateFile = Path.Combine(folder.FullName, "local.json");
        try
        {
            var state = await DetachedEmulators.StartAsync(Local(), stateFile);

            Assert.True(File.Exists(stateFile));
            Assert.Equal(2, state.Processes.Count);
            Assert.Equal("kinesis-local", state.KinesisEngine);
            var reread = DetachedEmulators.ReadState(stateFile)!;
            Assert.Equal(state.KinesisEndpoint, reread.KinesisEndpoint);
            Assert.Equal(state.Processes.Select(p => p.Pid), reread.Processes.Select(p => p.Pid));

            // Not our children: the launcher exited and left them in their own session.
            foreach (var process in state.Processes)
            {
                Assert.True(ProcessSignals.IsAlive(process.Pid));
                Assert.False(ProcessRegistry.Any(p => p.Id == process.Pid));
                if (ListeningSockets.Supported)
                {
                    var stat = File.ReadAllText($"/proc/{process.Pid}/stat");
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    Assert.NotEqual(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[1]); // ppid
                    Assert.Equal(fields[3], process.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)); // session leader
                }
            }

            var status = await DetachedEmulators.GetStatusAsync(stateFile);
            Assert.True(status.IsHealthy, string.Join("; ", status.Processes.Select(p => $"{p.Name}: {p.Problem}")));

            await Assert.ThrowsAsync<InvalidOperationException>(() => DetachedEmulators.StartAsync(Local(), stateFile));

            var stopped = await DetachedEmulators.StopAsync(stateFile, TimeSpan.FromSeconds(3));
            Assert.NotNull(stopped);
            Assert.False(File.Exists(stateFile));
            foreach (var process in state.Processes)
            {
                Assert.False(ProcessSignals.IsAlive(process.Pid));
                Assert.False(await LoopbackPorts.IsListeningAsync(process.Ports[0]));
            }

            Assert.Null(await DetachedEmulators.StopAsync(stateFile, TimeSpan.FromSeconds(1)));
            Assert.False((await DetachedEmulators.GetStatusAsync(stateFile)).IsHealthy);
        }
        finally
        {
            if (DetachedEmulators.ReadState(stateFile) is { } leftover)
            {
                foreach (var process in leftover.Processes)
                {
                    ProcessSignals.Kill(process.Pid);
                }
            }

            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_corrupt_state_file_is_a_clear_error()
    {
        var file = Path.Combine(Path.GetTempPath(), "cloud-state-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(file, "{ \"processes\": [ { \"pid\": \"x\" } ] }");
        try
        {
            var error = Assert.Throws<InvalidDataException>(() => DetachedEmulators.ReadState(file));
            Assert.Contains(file, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
