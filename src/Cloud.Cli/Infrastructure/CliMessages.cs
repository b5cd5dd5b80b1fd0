using System.Text.Json;
using System.Text.RegularExpressions;

namespace Cloud.Cli.Infrastructure;

/// <summary>Turns library and parser messages into words a user of the tool can act on.</summary>
public static partial class CliMessages
{
    /// <summary>The line printed after every command-line error.</summary>
    public const string UsageHint = "Run 'cloud --help' (or 'cloud <verb> --help') for usage.";

    /// <summary>
    /// A System.Text.Json error without its own "LineNumber: 0 | BytePositionInLine: 7." suffix, which contradicts the
    /// caller's line numbering for JSON lines. <paramref name="multiLine"/> adds the line for documents (event files).
    /// </summary>
    public static string Json(JsonException ex, bool multiLine = false)
    {
        ArgumentNullException.ThrowIfNull(ex);
        var text = JsonPosition().Replace(ex.Message, string.Empty).TrimEnd();
        var where = new List<string>(3);
        if (multiLine && ex.LineNumber is { } line)
        {
            where.Add($"line {line + 1}");
        }

        if (ex.BytePositionInLine is { } position)
        {
            where.Add($"column {position + 1}");
        }

        if (!string.IsNullOrEmpty(ex.Path) && ex.Path != "$")
        {
            where.Add($"at {ex.Path}");
        }

        return where.Count == 0 ? text : $"{text} ({string.Join(", ", where)})";
    }

    /// <summary>
    /// A System.CommandLine error with .NET type names ("System.Nullable`1[System.Int32]") replaced by what the
    /// option expects ("an integer").
    /// </summary>
    public static string Parse(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return ExpectedType().Replace(message, m => ": expected " + m.Groups["type"].Value switch
        {
            "Int16" or "Int32" or "Int64" or "UInt16" or "UInt32" or "UInt64" or "Byte" => "an integer",
            "Double" or "Single" or "Decimal" => "a number",
            "DateTimeOffset" or "DateTime" => "a date and time (ISO 8601, e.g. 2026-01-31T12:00:00Z)",
            "TimeSpan" => "a duration (e.g. 00:05:00)",
            "Boolean" => "true or false",
            "Uri" => "a URL",
            "FileInfo" => "a file path",
            "DirectoryInfo" => "a folder path",
            var other => "a value of type " + other,
        });
    }

    [GeneratedRegex(@"\s*(Path: \S* \| )?LineNumber: \d+ \| BytePositionInLine: \d+\.")]
    private static partial Regex JsonPosition();

    [GeneratedRegex(@" as expected type '(System\.Nullable`1\[)?System\.(IO\.)?(?<type>\w+)\]?'")]
    private static partial Regex ExpectedType();
}
