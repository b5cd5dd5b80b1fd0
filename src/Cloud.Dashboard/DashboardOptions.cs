namespace Cloud.Dashboard;

/// <summary>Options of <see cref="DashboardServer"/>.</summary>
public sealed class DashboardOptions
{
    /// <summary>Loopback port to serve on; 0 takes a free one (read <see cref="DashboardServer.Url"/>).</summary>
    /// <value>The default value is 0.</value>
    public int Port { get; init; }

    /// <summary>How often each page gets a snapshot.</summary>
    /// <value>The default value is 1 s.</value>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Clock of the snapshot interval.</summary>
    /// <value>The default value is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Checks the options, naming every problem in one message.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (Port is < 0 or > 65535)
        {
            problems.Add($"Port {Port} must be 0 (any free port) or 1–65535");
        }
        if (Interval < TimeSpan.FromMilliseconds(50) || Interval > TimeSpan.FromMinutes(1))
        {
            problems.Add($"Interval {Interval} must be between 50 ms and 1 min");
        }
        if (TimeProvider is null)
        {
            problems.Add("TimeProvider must not be null");
        }
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid dashboard options: " + string.Join("; ", problems) + ".");
        }
    }
}

/// <summary>The dashboard's port is taken by another process: nothing was started.</summary>
public sealed class DashboardPortInUseException : IOException
{
    /// <summary>Creates the exception for <paramref name="port"/>.</summary>
    public DashboardPortInUseException(int port, Exception? inner = null)
        : base($"Port {port} on 127.0.0.1 is already in use: the dashboard was not started. Pick another port or stop the process using it.", inner)
    {
        Port = port;
    }

    /// <summary>The busy port.</summary>
    public int Port { get; }
}
