using System.Net;
using Cloud.Cli.Infrastructure;
using Cloud.Emulators.Limits;

namespace Cloud.Cli.Commands.Pipeline;

/// <summary>
/// <c>cloud pipeline --enforce-limits</c>: the limit-enforcing proxy (docs/harness.md) in front of the run's local
/// Kinesis, and the connection every Kinesis client of the run uses through it — the producer's writes and the
/// event-source mappings' reads alike. Local Kinesis only: real Kinesis enforces its limits itself, so an
/// <c>--endpoint</c> that is not a loopback address is a usage error (exit 2) before anything starts.
/// </summary>
internal sealed class PipelineLimits : IAsyncDisposable
{
    private readonly KinesisLimitProxy _proxy;

    private PipelineLimits(KinesisLimitProxy proxy, CloudConnection connection)
    {
        _proxy = proxy;
        Connection = connection;
    }

    /// <summary>The run's connection with Kinesis through the proxy (DynamoDB unchanged).</summary>
    public CloudConnection Connection { get; }

    /// <summary>The proxy's accounting: records and GetRecords calls refused so far.</summary>
    public KinesisThroughputLimits Limits => _proxy.Limits;

    /// <summary>
    /// Refuses <c>--enforce-limits</c> with a Kinesis endpoint that is not on this machine (real AWS, a VPC endpoint,
    /// a remote LocalStack): the flag emulates limits the real service already has, and the proxy forwards only to
    /// loopback addresses. No endpoint (the run's own emulators, <c>cloud local up</c>) is fine.
    /// </summary>
    /// <exception cref="CliException">Usage error (exit code 2) naming the endpoint's host.</exception>
    public static void CheckEndpoint(Uri? kinesisEndpoint)
    {
        if (kinesisEndpoint is not null && Loopback(kinesisEndpoint) is null)
        {
            throw CliException.Usage(
                $"--enforce-limits emulates Kinesis's per-shard limits in front of a local Kinesis; the --endpoint host '{kinesisEndpoint.Host}' is not a loopback address. "
                + "Real Kinesis enforces its limits itself: drop --enforce-limits, or point --endpoint at a local Kinesis (127.0.0.1).");
        }
    }

    /// <summary>Starts the proxy in front of <paramref name="connection"/>'s Kinesis (a loopback endpoint).</summary>
    /// <exception cref="CliException">The connection's Kinesis is not on a loopback address (usage error).</exception>
    public static PipelineLimits Start(CloudConnection connection, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var target = connection.KinesisEndpoint is { } endpoint ? Loopback(endpoint) : null;
        if (target is null)
        {
            CheckEndpoint(connection.KinesisEndpoint ?? new Uri("https://kinesis." + connection.Region + ".amazonaws.com/"));
        }

        var proxy = KinesisLimitProxy.Start(target!, time);
        return new PipelineLimits(proxy, connection.WithKinesisEndpoint(proxy.Endpoint));
    }

    /// <summary>The endpoint with a literal loopback address (<c>localhost</c> resolved to 127.0.0.1), or null when it is not loopback.</summary>
    internal static Uri? Loopback(Uri endpoint)
    {
        if (string.Equals(endpoint.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return new UriBuilder(endpoint) { Host = "127.0.0.1" }.Uri;
        }

        return IPAddress.TryParse(endpoint.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address) ? endpoint : null;
    }

    /// <summary>Stops the proxy and disposes the connection through it.</summary>
    public async ValueTask DisposeAsync()
    {
        Connection.Dispose();
        await _proxy.DisposeAsync().ConfigureAwait(false);
    }
}
