using Cloud.Cli.Infrastructure;
using Cloud.Cli.Tests.Infrastructure;

namespace Cloud.Cli.Tests;

/// <summary>Bad command lines and a missing local stack: usage exit codes and one clear message, no emulators needed.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly CliSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task Help_lists_every_verb()
    {
        var result = await _sandbox.RunAsync("--help");

        CliAssert.Succeeded(result);
        foreach (var verb in new[] { "local", "streams", "records", "size", "produce", "consume", "invoke", "lag", "forget", "pipeline", "dashboard" })
        {
            Assert.Matches($@"(?m)^\s+{verb}\b", result.Stdout);
        }
    }

    [Theory]
    [InlineData(new[] { "bogus" }, "bogus")]
    [InlineData(new[] { "streams", "frobnicate" }, "frobnicate")]
    [InlineData(new[] { "streams", "list", "--bogus" }, "--bogus")]
    [InlineData(new[] { "consume", "s", "--from-beginning", "--latest" }, "at most one of")]
    [InlineData(new[] { "consume", "s", "--max", "0" }, "--max")]
    [InlineData(new[] { "streams", "create", "s" }, "--shards")]
    [InlineData(new[] { "streams", "create", "s", "--shards", "0" }, "at least 1")]
    [InlineData(new[] { "produce" }, "missing")]
    [InlineData(new[] { "produce", "s", "--encrypt-fields", "email" }, "--user-field")]
    [InlineData(new[] { "produce", "s", "--user-field", "userId" }, "--encrypt-fields")]
    [InlineData(new[] { "produce", "s", "--rate", "10" }, "--generate")]
    [InlineData(new[] { "produce", "s", "--generate", "0" }, "--generate")]
    [InlineData(new[] { "size", "--kafka", "--throughput", "100", "--producer-partition-throughput", "10", "--consumer-partition-throughput", "20", "--records-per-second", "5" }, "--records-per-second")]
    [InlineData(new[] { "size", "--records-per-second", "5", "--record-bytes", "100", "--throughput", "100" }, "--kafka")]
    [InlineData(new[] { "records", "encode", "--compress", "brotli" }, "brotli")]
    [InlineData(new[] { "invoke", "nosuchfunction", "--event", "e.json" }, "nosuchfunction")]
    [InlineData(new[] { "invoke", "aggregator" }, "--event")]
    [InlineData(new[] { "streams", "list", "--endpoint", "ftp://127.0.0.1:1" }, "not an http(s) URL")]
    [InlineData(new[] { "pipeline", "--rate", "0" }, "--rate")]
    [InlineData(new[] { "pipeline", "--duration", "0" }, "--duration")]
    [InlineData(new[] { "pipeline", "--shards", "0" }, "--shards")]
    [InlineData(new[] { "pipeline", "--window-seconds", "901" }, "--window-seconds")]
    [InlineData(new[] { "pipeline", "--enforce-limits", "--endpoint", "https://kinesis.us-east-1.amazonaws.com", "--dynamodb-endpoint", "http://127.0.0.1:1" }, "--enforce-limits")]
    [InlineData(new[] { "pipeline", "--enforce-limits", "--endpoint", "http://10.1.2.3:4567", "--dynamodb-endpoint", "http://127.0.0.1:1" }, "'10.1.2.3' is not a loopback address")]
    public async Task A_bad_command_line_is_a_usage_error(string[] args, string mentioned)
    {
        var result = await _sandbox.RunAsync(args);

        CliAssert.Failed(result, ExitCodes.Usage, mentioned);
        Assert.Contains("--help", result.Stderr);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task Pipeline_with_its_default_options_passes_validation()
    {
        // The README's main-job command gives no --rate: its default must not be rejected as 0. Against a dead
        // endpoint the run then fails for the right reason (unreachable), not as a usage error.
        var result = await _sandbox.RunAsync("pipeline", "--duration", "5", "--endpoint", "http://127.0.0.1:1", "--dynamodb-endpoint", "http://127.0.0.1:1");

        CliAssert.Failed(result, ExitCodes.Unreachable, "127.0.0.1:1");
    }

    [Theory]
    [InlineData("http://127.0.0.1:1")]
    [InlineData("http://localhost:1")]
    public async Task Pipeline_enforce_limits_accepts_a_loopback_endpoint(string endpoint)
    {
        // The flag is for a local Kinesis: a loopback --endpoint passes the check, and the run then fails for the
        // right reason (nothing listens there), not as a usage error.
        var result = await _sandbox.RunAsync("pipeline", "--enforce-limits", "--duration", "5", "--endpoint", endpoint, "--dynamodb-endpoint", "http://127.0.0.1:1");

        Assert.NotEqual(ExitCodes.Success, result.ExitCode);
        Assert.NotEqual(ExitCodes.Usage, result.ExitCode);
        Assert.DoesNotContain("not a loopback address", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pipeline_help_lists_enforce_limits_and_no_aggregation()
    {
        var result = await _sandbox.RunAsync("pipeline", "--help");

        CliAssert.Succeeded(result);
        Assert.Contains("--enforce-limits", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("--no-aggregation", result.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "produce", "s", "--compress", "--json", "--endpoint", "http://127.0.0.1:1" }, "--compress", "--json")]
    [InlineData(new[] { "records", "encode", "--compress", "--json" }, "--compress", "--json")]
    [InlineData(new[] { "streams", "list", "--region", "--json", "--endpoint", "http://127.0.0.1:1" }, "--region", "--json")]
    [InlineData(new[] { "produce", "s", "--key-field", "--sync", "--endpoint", "http://127.0.0.1:1" }, "--key-field", "--sync")]
    public async Task An_option_missing_its_value_does_not_swallow_the_next_option(string[] args, string option, string swallowed)
    {
        // System.CommandLine hands the next token to an option that takes a value even when that token is another
        // option, and AcceptOnlyFromAmong lets it through: 'produce s --compress --local' dropped --local and went to
        // real AWS with codec "--local". (The dead --endpoint keeps the unfixed behaviour on loopback.)
        var result = await _sandbox.RunWithInputAsync(string.Empty, args);

        CliAssert.Failed(result, ExitCodes.Usage, $"{option} needs a value", swallowed);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task A_mistyped_verb_is_named_without_distracting_errors()
    {
        var result = await _sandbox.RunAsync("strems", "list");

        CliAssert.Failed(result, ExitCodes.Usage, "'strems'");
        Assert.DoesNotContain("Required command was not provided", result.Stderr);
    }

    [Theory]
    [InlineData(new[] { "streams", "create", "s", "--shards", "abc" }, "--shards")]
    [InlineData(new[] { "streams", "scale", "s", "--shards", "many" }, "--shards")]
    [InlineData(new[] { "consume", "s", "--max", "ten" }, "--max")]
    [InlineData(new[] { "consume", "s", "--at-timestamp", "yesterday-ish" }, "--at-timestamp")]
    [InlineData(new[] { "size", "--records-per-second", "lots", "--record-bytes", "100" }, "--records-per-second")]
    public async Task A_value_of_the_wrong_type_is_a_usage_error_naming_the_option_in_plain_words(string[] args, string option)
    {
        var result = await _sandbox.RunAsync(args);

        CliAssert.Failed(result, ExitCodes.Usage, option, args[Array.IndexOf(args, option) + 1]);
        Assert.Contains("--help", result.Stderr);
        // .NET type names ("System.Nullable`1[System.Int32]") are not words a user should have to read.
        Assert.DoesNotContain("System.", result.Stderr);
        Assert.DoesNotContain("`1", result.Stderr);
    }

    [Theory]
    [InlineData("streams", "list")]
    [InlineData("consume", "orders", "--max", "1")]
    [InlineData("lag", "orders")]
    [InlineData("forget", "user-1")]
    public async Task Local_without_a_running_stack_says_to_run_local_up(params string[] args)
    {
        var result = await _sandbox.RunAsync([.. args, "--local"]);

        CliAssert.Failed(result, ExitCodes.Unreachable, "cloud local up");
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task Local_status_without_a_stack_reports_not_running()
    {
        var human = await _sandbox.RunAsync("local", "status");
        var json = await _sandbox.RunAsync("local", "status", "--json");

        Assert.Equal(ExitCodes.Unreachable, human.ExitCode);
        Assert.Contains("cloud local up", human.Stdout);
        CliAssert.NoStackTrace(human);
        Assert.Equal(ExitCodes.Unreachable, json.ExitCode);
        Assert.False(json.Json().GetProperty("running").GetBoolean());
    }

    [Fact]
    public async Task Local_down_without_a_stack_is_a_no_op()
    {
        var result = await _sandbox.RunAsync("local", "down", "--json");

        CliAssert.Succeeded(result);
        Assert.False(result.Json().GetProperty("stopped").GetBoolean());
    }
}
