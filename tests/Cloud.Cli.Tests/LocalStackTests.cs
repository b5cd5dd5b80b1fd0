using System.Net.Sockets;
using Cloud.Cli.Infrastructure;
using Cloud.Cli.Tests.Infrastructure;
using Cloud.Emulators;
using Cloud.Testing;

namespace Cloud.Cli.Tests;

/// <summary>
/// <c>cloud local up|status|down</c> with a state file of its own. It starts a second, detached stack, so it
/// joins the emulator collection to run alone, and stops that stack even when an assertion fails.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class LocalStackTests : IDisposable
{
    private readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Up_status_use_and_down()
    {
        try
        {
            var up = await _sandbox.RunAsync("local", "up", "--json");

            CliAssert.Succeeded(up);
            var started = up.Json();
            var kinesis = new Uri(started.GetProperty("kinesisEndpoint").GetString()!);
            var dynamo = new Uri(started.GetProperty("dynamodbEndpoint").GetString()!);
            Assert.Equal("127.0.0.1", kinesis.Host);
            Assert.Equal("127.0.0.1", dynamo.Host);
            Assert.Equal(_sandbox.StateFile, started.GetProperty("stateFile").GetString());
            Assert.True(File.Exists(_sandbox.StateFile));

            var status = await _sandbox.RunAsync("local", "status", "--json");
            CliAssert.Succeeded(status);
            var running = status.Json();
            Assert.True(running.GetProperty("running").GetBoolean());
            Assert.Equal(kinesis, new Uri(running.GetProperty("kinesisEndpoint").GetString()!));
            Assert.Equal(dynamo, new Uri(running.GetProperty("dynamodbEndpoint").GetString()!));

            var again = await _sandbox.RunAsync("local", "up", "--json");
            CliAssert.Succeeded(again);
            Assert.Equal("already running", again.Json().GetProperty("status").GetString());
            Assert.Equal(kinesis, new Uri(again.Json().GetProperty("kinesisEndpoint").GetString()!));

            // Any verb finds the stack with --local.
            var stream = EmulatorFixture.UniqueName("cli-local");
            CliAssert.Succeeded(await _sandbox.RunAsync("streams", "create", stream, "--shards", "1", "--local"));
            var listed = await _sandbox.RunAsync("streams", "list", "--local", "--json");
            CliAssert.Succeeded(listed);
            Assert.Contains(stream, listed.Json().GetProperty("streams").EnumerateArray().Select(s => s.GetString()));

            var down = await _sandbox.RunAsync("local", "down", "--json");
            CliAssert.Succeeded(down);
            Assert.True(down.Json().GetProperty("stopped").GetBoolean());
            Assert.False(File.Exists(_sandbox.StateFile));
            Assert.False(await AnswersAsync(kinesis), "kinesis-local still listens after 'local down'");
            Assert.False(await AnswersAsync(dynamo), "dynalite still listens after 'local down'");

            var after = await _sandbox.RunAsync("local", "status", "--json");
            Assert.Equal(ExitCodes.Unreachable, after.ExitCode);
            Assert.False(after.Json().GetProperty("running").GetBoolean());
            CliAssert.Failed(await _sandbox.RunAsync("streams", "list", "--local"), ExitCodes.Unreachable, "cloud local up");
        }
        finally
        {
            // Whatever happened above, the detached emulators of this test do not outlive it.
            if (File.Exists(_sandbox.StateFile))
            {
                await DetachedEmulators.StopAsync(_sandbox.StateFile, TimeSpan.FromSeconds(3));
            }
        }
    }

    private static async Task<bool> AnswersAsync(Uri endpoint)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(endpoint.Host, endpoint.Port).WaitAsync(TimeSpan.FromSeconds(2));
            return true;
        }
        catch (Exception ex) when (ex is SocketException or TimeoutException)
        {
            return false;
        }
    }
}
