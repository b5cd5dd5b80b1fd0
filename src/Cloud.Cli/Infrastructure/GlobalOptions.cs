using System.CommandLine;

namespace Cloud.Cli.Infrastructure;

/// <summary>Options every verb accepts (recursive on the root command).</summary>
public static class GlobalOptions
{
    /// <summary>AWS region (else AWS_REGION / profile / us-east-1 for local endpoints).</summary>
    public static readonly Option<string?> Region = new("--region") { Description = "AWS region (default: AWS_REGION, the profile's region, or us-east-1 locally)", Recursive = true };

    /// <summary>Shared-credentials profile.</summary>
    public static readonly Option<string?> Profile = new("--profile") { Description = "AWS credentials profile (default: the SDK credential chain; --local alone uses dummy keys)", Recursive = true };

    /// <summary>Explicit Kinesis endpoint.</summary>
    public static readonly Option<Uri?> Endpoint = new("--endpoint") { Description = "Kinesis endpoint URL (e.g. http://127.0.0.1:4567)", Recursive = true, CustomParser = ParseUri };

    /// <summary>Explicit DynamoDB endpoint.</summary>
    public static readonly Option<Uri?> DynamoDbEndpoint = new("--dynamodb-endpoint") { Description = "DynamoDB endpoint URL (e.g. http://127.0.0.1:4568)", Recursive = true, CustomParser = ParseUri };

    /// <summary>Use the emulators started by <c>cloud local up</c>.</summary>
    public static readonly Option<bool> Local = new("--local") { Description = "Use the local emulators started by 'cloud local up'", Recursive = true };

    /// <summary>Machine-readable output.</summary>
    public static readonly Option<bool> Json = new("--json") { Description = "Write JSON instead of human output", Recursive = true };

    /// <summary>All of them, to add to the root.</summary>
    public static IEnumerable<Option> All => [Region, Profile, Endpoint, DynamoDbEndpoint, Local, Json];

    /// <summary>Parses an absolute http(s) URL option value, or adds a parse error.</summary>
    internal static Uri? ParseUri(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
        if (text is null)
        {
            return null;
        }

        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            return uri;
        }

        result.AddError($"'{text}' is not an http(s) URL for {result.Argument.Name}.");
        return null;
    }
}
