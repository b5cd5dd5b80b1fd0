using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Cloud.Emulators;

/// <summary>Free-port allocation and port checks on 127.0.0.1.</summary>
public static class LoopbackPorts
{
    // Ports handed out by this process recently: the OS may offer the same ephemeral port twice
    // before the first caller binds it.
    private static readonly ConcurrentDictionary<int, long> Handed = new();

    /// <summary>Returns a TCP port on 127.0.0.1 that was free when checked and not handed out before by this process.</summary>
    public static int GetFreePort()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)socket.LocalEndPoint!).Port;
            if (Handed.TryAdd(port, Environment.TickCount64))
            {
                return port;
            }
        }

        throw new InvalidOperationException("No free loopback port found after 100 attempts.");
    }

    /// <summary>Whether something accepts TCP connections on 127.0.0.1:<paramref name="port"/>.</summary>
    public static async Task<bool> IsListeningAsync(int port, CancellationToken cancellationToken = default)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return true; // accepted into the backlog but not answered in time: still bound
        }
    }

    /// <summary>Waits until nothing listens on 127.0.0.1:<paramref name="port"/>; returns false if it is still taken after <paramref name="timeout"/>.</summary>
    public static async Task<bool> WaitUntilFreeAsync(int port, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (await IsListeningAsync(port, cancellationToken).ConfigureAwait(false))
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
