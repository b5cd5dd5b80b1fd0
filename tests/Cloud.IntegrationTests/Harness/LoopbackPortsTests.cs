using System.Net;
using System.Net.Sockets;
using Cloud.Emulators;

namespace Cloud.IntegrationTests.Harness;

public sealed class LoopbackPortsTests
{
    [Fact]
    public void Free_ports_are_distinct_and_bindable_on_loopback()
    {
        var ports = Enumerable.Range(0, 20).Select(_ => LoopbackPorts.GetFreePort()).ToList();

        Assert.Equal(ports.Count, ports.Distinct().Count());
        foreach (var port in ports)
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
        }
    }

    [Fact]
    public async Task Listening_state_follows_the_listener()
    {
        var port = LoopbackPorts.GetFreePort();
        Assert.False(await LoopbackPorts.IsListeningAsync(port));

        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        try
        {
            Assert.True(await LoopbackPorts.IsListeningAsync(port));
            Assert.False(await LoopbackPorts.WaitUntilFreeAsync(port, TimeSpan.FromMilliseconds(200)));
        }
        finally
        {
            listener.Stop();
        }

        Assert.True(await LoopbackPorts.WaitUntilFreeAsync(port, TimeSpan.FromSeconds(5)));
    }
}
