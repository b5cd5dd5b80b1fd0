namespace Cloud.Emulators;

/// <summary>An emulator did not start or did not answer in time; carries the tail of its output.</summary>
public sealed class EmulatorStartException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EmulatorStartException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public EmulatorStartException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public EmulatorStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for one emulator.</summary>
    /// <param name="emulator">Emulator name, e.g. kinesis-local.</param>
    /// <param name="message">What went wrong.</param>
    /// <param name="exitCode">The process exit code if it exited.</param>
    /// <param name="outputTail">The last lines the process wrote (stderr and stdout).</param>
    /// <param name="innerException">The cause, if any.</param>
    public EmulatorStartException(string emulator, string message, int? exitCode, string outputTail, Exception? innerException = null)
        : base(FormatMessage(emulator, message, exitCode, outputTail), innerException)
    {
        Emulator = emulator;
        ExitCode = exitCode;
        OutputTail = outputTail;
    }

    /// <summary>The emulator that failed (kinesis-local, kinesalite, dynalite or an external endpoint).</summary>
    public string? Emulator { get; }

    /// <summary>Exit code of the emulator process, when it exited.</summary>
    public int? ExitCode { get; }

    /// <summary>The last lines of the process's stderr and stdout.</summary>
    public string OutputTail { get; } = string.Empty;

    private static string FormatMessage(string emulator, string message, int? exitCode, string outputTail)
    {
        var exit = exitCode is { } code ? $" (exit code {code})" : string.Empty;
        var tail = string.IsNullOrWhiteSpace(outputTail) ? " It wrote no output." : $"{Environment.NewLine}--- last output ---{Environment.NewLine}{outputTail}";
        return $"{emulator}: {message}{exit}.{tail}";
    }
}
