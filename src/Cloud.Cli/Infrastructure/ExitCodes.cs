namespace Cloud.Cli.Infrastructure;

/// <summary>Process exit codes of the <c>cloud</c> tool; scripts rely on them.</summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>The command failed for a reason not listed below (service error, handler failure).</summary>
    public const int Failure = 1;

    /// <summary>Bad command line: unknown verb or flag, missing or malformed value.</summary>
    public const int Usage = 2;

    /// <summary>A named resource (stream, function, user, event file) does not exist.</summary>
    public const int NotFound = 3;

    /// <summary>An endpoint could not be reached (emulators not running, bad --endpoint, network).</summary>
    public const int Unreachable = 4;

    /// <summary>Input data was rejected (malformed JSON line, bad record, invalid option value).</summary>
    public const int InvalidInput = 5;

    /// <summary>Interrupted by Ctrl+C / SIGTERM after a clean stop.</summary>
    public const int Cancelled = 130;
}
