using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.Json;
using Cloud.Cli.Commands;
using Cloud.Cli.Infrastructure;
using Amazon.Kinesis;
using Cloud.Functions.Aggregator;
using Cloud.Kinesis;

namespace Cloud.Cli;

/// <summary>Builds and runs the <c>cloud</c> command tree; in-process entry point for tests.</summary>
public static class CliApp
{
    /// <summary>Builds the root command.</summary>
    public static RootCommand Build(CliConsole console)
    {
        var root = new RootCommand("cloud: Kinesis Data Streams tools and a local streaming pipeline (Kafka-style verbs for Kinesis)");
        foreach (var option in GlobalOptions.All)
        {
            root.Add(option);
        }

        root.Add(LocalCommand.Create(console));
        root.Add(StreamsCommand.Create(console));
        root.Add(RecordsCommand.Create(console));
        root.Add(SizeCommand.Create(console));
        root.Add(ProduceCommand.Create(console));
        root.Add(ConsumeCommand.Create(console));
        root.Add(OpsCommands.Invoke(console));
        root.Add(OpsCommands.Lag(console));
        root.Add(OpsCommands.Forget(console));
        root.Add(KeysCommand.Create(console));
        root.Add(PipelineCommand.Create(console));
        root.Add(DashboardCommand.Create(console));
        root.Add(SchemasCommand.Create(console));
        root.Add(PrivacyFactory.KmsKeyId);
        root.Add(PrivacyFactory.KmsEndpoint);
        root.Add(PrivacyFactory.MasterKeyFile);
        root.Add(SchemasCommand.Registry);
        root.Add(SchemasCommand.GlueEndpoint);
        root.Add(PrivacyFactory.KeyWrappingOption);
        root.Add(PrivacyFactory.BranchKeyIdOption);
        root.Add(PrivacyFactory.PseudonymizeOption);
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code. Never throws.</summary>
    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        ParseResult parsed;
        try
        {
            parsed = Build(console).Parse(args);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A validator that reads an option whose value does not convert throws here instead of adding a parse error.
            console.WriteError(CliMessages.Parse(ex.Message));
            console.Error.WriteLine(CliMessages.UsageHint);
            return ExitCodes.Usage;
        }

        // An option that takes a value swallows the next token even when it is another option: '--compress --local'
        // would send to real AWS with codec "--local" (AcceptOnlyFromAmong skips option tokens), '--region --local' too.
        var swallowed = SwallowedOptions(parsed).ToList();
        if (parsed.Errors.Count > 0 || swallowed.Count > 0)
        {
            var errors = swallowed.Concat(parsed.Errors.Select(e => e.Message)).ToList();
            if (parsed.UnmatchedTokens.Count > 0 && errors.Count > 1)
            {
                // 'cloud strems list' also reports that the root needs a command, which only distracts from the typo.
                errors.RemoveAll(m => m.StartsWith("Required command was not provided", StringComparison.Ordinal));
            }

            foreach (var error in errors)
            {
                console.WriteError(CliMessages.Parse(error));
            }

            console.Error.WriteLine(CliMessages.UsageHint);
            return ExitCodes.Usage;
        }

        try
        {
            var configuration = new InvocationConfiguration
            {
                Output = console.Out,
                Error = console.Error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = TimeSpan.FromSeconds(10),
            };
            return await parsed.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            var (code, message) = Describe(ex);
            console.WriteError(message);
            if (code == ExitCodes.Usage)
            {
                // A usage problem found by a verb's action (values checked together) gets the same hint as a parse error.
                console.Error.WriteLine(CliMessages.UsageHint);
            }

            if (Environment.GetEnvironmentVariable("CLOUD_DEBUG") == "1")
            {
                console.Error.WriteLine(ex.ToString());
            }

            return code;
        }
    }

    /// <summary>Maps an exception to an exit code and a one-line message.</summary>
    public static (int ExitCode, string Message) Describe(Exception ex) => ex switch
    {
        CliException cli => (cli.ExitCode, cli.Message),
        // An SDK HTTP timeout surfaces as a cancellation that carries a TimeoutException; the user did not cancel it.
        OperationCanceledException { InnerException: TimeoutException timeout } => (ExitCodes.Unreachable, "the endpoint did not answer in time: " + timeout.Message),
        OperationCanceledException => (ExitCodes.Cancelled, "cancelled"),
        // Kinesis errors: the project's one vocabulary decides (KinesisErrors), the CLI only maps its causes to exit codes.
        AmazonKinesisException kinesis => DescribeKinesis(kinesis),

        // The same for DynamoDB (a table name it refuses, e.g. 'lag --checkpoint-table t2'): the value is bad, not the tool.
        Amazon.Runtime.AmazonServiceException { ErrorCode: "ValidationException" } dynamo => (ExitCodes.InvalidInput, dynamo.Message),
        JsonException json => (ExitCodes.InvalidInput, "invalid JSON: " + CliMessages.Json(json, multiLine: true)),

        // A function rejecting its event (cloud invoke): the event is bad, not the tool.
        AggregatorStateException or AggregatorEventException or InvalidDataException => (ExitCodes.InvalidInput, ex.Message),
        FileNotFoundException file => (ExitCodes.NotFound, file.Message),
        DirectoryNotFoundException dir => (ExitCodes.NotFound, dir.Message),
        ArgumentException argument => (ExitCodes.InvalidInput, argument.Message),

        // A refused connection wrapped by a library (the privacy key store, the DynamoDB SDK) is still an unreachable endpoint.
        _ when ConnectionFailure(ex) is { } http => (ExitCodes.Unreachable, "cannot reach the endpoint: " + http.Message),
        _ => (ExitCodes.Failure, $"{ex.Message} ({ex.GetType().Name})"),
    };

    private static (int ExitCode, string Message) DescribeKinesis(AmazonKinesisException exception)
    {
        var error = KinesisErrors.Classify(exception);
        return (ExitCodeOf(error), $"{exception.Message} ({error.Code})");
    }

    /// <summary>The exit code of a classified Kinesis error.</summary>
    public static int ExitCodeOf(KinesisError error) => error.Cause switch
    {
        KinesisErrorCause.NotFound => ExitCodes.NotFound,
        KinesisErrorCause.Network or KinesisErrorCause.Timeout => ExitCodes.Unreachable,

        // The service refused a value the user gave (scale beyond double the shards, a bad sequence number).
        KinesisErrorCause.InvalidRequest => ExitCodes.InvalidInput,
        _ => ExitCodes.Failure,
    };

    /// <summary>One message per option whose value is the name of an option of the verb ('--compress --local').</summary>
    private static IEnumerable<string> SwallowedOptions(ParseResult parsed)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (SymbolResult? result = parsed.CommandResult; result is not null; result = result.Parent)
        {
            if (result is CommandResult command)
            {
                foreach (var option in command.Command.Options)
                {
                    names.Add(option.Name);
                    names.UnionWith(option.Aliases);
                }
            }
        }

        for (SymbolResult? result = parsed.CommandResult; result is not null; result = result.Parent)
        {
            if (result is not CommandResult command)
            {
                continue;
            }

            foreach (var option in command.Children.OfType<OptionResult>())
            {
                foreach (var token in option.Tokens.Where(t => names.Contains(t.Value)))
                {
                    yield return $"{option.Option.Name} needs a value, but it is followed by the option {token.Value}.";
                }
            }
        }
    }

    private static HttpRequestException? ConnectionFailure(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException http)
            {
                return http;
            }
        }

        return null;
    }
}
