using System.Diagnostics;
using System.Globalization;
using Cloud.Emulators;

namespace Cloud.IntegrationTests.Harness;

/// <summary>The node preloads the harness relies on: loopback binding and exit-with-parent.</summary>
public sealed class NodePreloadTests
{
    private static readonly Lazy<Task<NodeTools>> Tools = new(() => NodeTools.EnsureAsync());

    [Theory]
    [InlineData("s.listen(0, '0.0.0.0', done)")]
    [InlineData("s.listen(0, '::', 511, done)")]
    [InlineData("s.listen(0, done)")]
    [InlineData("s.listen(0, 128, done)")]
    [InlineData("s.listen({ port: 0, host: '0.0.0.0' }, done)")]
    [InlineData("s.listen({ port: 0, ipv6Only: true, host: '::' }, done)")]
    [InlineData("s.listen({ port: 0 }, done)")]
    [InlineData("s.listen(done)")]
    [InlineData("s.listen('0', 'localhost', done)")]
    public async Task Preload_pins_every_listen_form_to_127_0_0_1(string listenCall)
    {
        var tools = await Tools.Value;

        var pinned = await ListenAddressAsync(tools, listenCall, preload: true);
        Assert.Equal("127.0.0.1", pinned);
    }

    [Fact]
    public async Task Without_the_preload_the_same_server_binds_every_interface()
    {
        // The control case: proves the test above would notice a preload that does nothing.
        var tools = await Tools.Value;

        var unpinned = await ListenAddressAsync(tools, "s.listen(0, '0.0.0.0', done)", preload: false);
        Assert.Equal("0.0.0.0", unpinned);
    }

    [Fact]
    public async Task Preload_leaves_ipc_servers_alone()
    {
        var tools = await Tools.Value;
        var path = Path.Combine(Path.GetTempPath(), "cloud-ipc-" + Guid.NewGuid().ToString("N")[..8] + ".sock");
        try
        {
            var address = await ListenAddressAsync(tools, $"s.listen('{path}', done)", preload: true);
            Assert.Equal(path, address);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Exit_with_parent_preload_ends_the_child_when_its_parent_dies()
    {
        var tools = await Tools.Value;
        var preload = tools.ExitWithParentPreloadPath.Replace("\\", "\\\\", StringComparison.Ordinal);

        // The parent starts a long-running child with the preload, prints its pid and exits at once.
        var parent = await tools.RunInlineAsync(
            "const { spawn } = require('child_process');" +
            $"const c = spawn(process.execPath, ['-r', '{preload}', '-e', 'setInterval(() => {{}}, 1000)'], {{ stdio: 'ignore', detached: true, env: {{ ...process.env, CLOUD_EMULATOR_PARENT_PID: String(process.pid) }} }});" +
            "console.log(c.pid); c.unref();");
        Assert.Equal(0, parent.ExitCode);
        var childPid = int.Parse(parent.StandardOutput.Trim(), CultureInfo.InvariantCulture);

        try
        {
            Assert.True(await ProcessSignals.WaitForExitAsync(childPid, TimeSpan.FromSeconds(15), CancellationToken.None), $"child {childPid} outlived its parent");
        }
        finally
        {
            ProcessSignals.Kill(childPid);
        }
    }

    [Fact]
    public async Task Stop_kills_a_process_that_ignores_SIGTERM()
    {
        var tools = await Tools.Value;
        var start = new ProcessStartInfo(tools.NodeExecutable) { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var argument in new[] { "-e", "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)" })
        {
            start.ArgumentList.Add(argument);
        }

        using var stubborn = Process.Start(start)!;
        Assert.Equal("ready", await stubborn.StandardOutput.ReadLineAsync()); // its SIGTERM handler is in place

        var stopped = await ProcessSignals.StopAsync(stubborn.Id, TimeSpan.FromMilliseconds(300), CancellationToken.None);

        Assert.True(stopped);
        Assert.True(stubborn.WaitForExit(5000));
        Assert.False(ProcessSignals.IsAlive(stubborn.Id));
    }

    private static async Task<string> ListenAddressAsync(NodeTools tools, string listenCall, bool preload)
    {
        var script =
            "const s = require('net').createServer();" +
            "const done = () => { const a = s.address(); console.log(typeof a === 'string' ? a : a.address); s.close(); };" +
            listenCall + ";";
        var result = await tools.RunInlineAsync(script, new NodeRunOptions
        {
            NodeArguments = preload ? ["-r", tools.BindLoopbackPreloadPath] : [],
            Timeout = TimeSpan.FromSeconds(30),
        });
        Assert.True(result.ExitCode == 0, result.StandardError);
        return result.StandardOutput.Trim();
    }
}
