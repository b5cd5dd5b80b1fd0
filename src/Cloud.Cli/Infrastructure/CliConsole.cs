using System.Text.Json;
using Spectre.Console;

namespace Cloud.Cli.Infrastructure;

/// <summary>
/// Where a command writes: human output through Spectre.Console, or one JSON document/line per
/// result with <c>--json</c>. Errors always go to standard error.
/// </summary>
public sealed class CliConsole
{
    /// <summary>Creates a console over the given writers (the process's, or test buffers).</summary>
    public CliConsole(TextReader input, TextWriter output, TextWriter error, bool interactive)
    {
        In = input;
        Out = output;
        Error = error;
        Interactive = interactive;
        Human = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!interactive)
        {
            // Piped or captured output has no terminal width; Spectre's 80-column fallback would wrap shard ids and
            // hash keys across lines and break grep/awk. Tables are only as wide as their content anyway.
            Human.Profile.Width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out var columns) && columns >= 40 ? columns : PipedWidth;
        }
    }

    /// <summary>Width of human output when no terminal is attached and <c>COLUMNS</c> is not set: the widest table (a resharded stream's shards with 39-digit hash keys) fits.</summary>
    public const int PipedWidth = 160;

    /// <summary>The process console.</summary>
    public static CliConsole System() => new(Console.In, Console.Out, Console.Error, !Console.IsOutputRedirected);

    /// <summary>Standard input.</summary>
    public TextReader In { get; }

    /// <summary>Standard output.</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error.</summary>
    public TextWriter Error { get; }

    /// <summary>Whether a terminal is attached (progress bars and live views only then).</summary>
    public bool Interactive { get; }

    /// <summary>Spectre console writing to <see cref="Out"/>.</summary>
    public IAnsiConsole Human { get; }

    /// <summary>Writes one JSON line built by <paramref name="write"/>.</summary>
    public void WriteJsonLine(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        Out.WriteLine(global::System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    /// <summary>Writes an error line to standard error.</summary>
    public void WriteError(string message) => Error.WriteLine("error: " + message);
}
