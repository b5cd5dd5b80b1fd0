namespace Cloud.Cli.Infrastructure;

/// <summary>An error the CLI reports as one clear line and an exit code, never as a stack trace.</summary>
public class CliException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CliException(int exitCode, string message, Exception? innerException = null) : base(message, innerException) => ExitCode = exitCode;

    /// <summary>The process exit code (see <see cref="ExitCodes"/>).</summary>
    public int ExitCode { get; }

    /// <summary>A bad command line.</summary>
    public static CliException Usage(string message) => new(ExitCodes.Usage, message);

    /// <summary>Rejected input data.</summary>
    public static CliException InvalidInput(string message, Exception? inner = null) => new(ExitCodes.InvalidInput, message, inner);

    /// <summary>A missing resource.</summary>
    public static CliException NotFound(string message, Exception? inner = null) => new(ExitCodes.NotFound, message, inner);

    /// <summary>An unreachable endpoint.</summary>
    public static CliException Unreachable(string message, Exception? inner = null) => new(ExitCodes.Unreachable, message, inner);
}
