using Cloud.Emulators;

namespace Cloud.IntegrationTests.Harness;

public sealed class NodeToolsTests
{
    [Fact]
    public async Task Tools_are_found_from_the_test_output_folder_and_installed_from_the_lock()
    {
        var tools = await NodeTools.EnsureAsync();

        Assert.True(File.Exists(Path.Combine(tools.ToolsDirectory, "package-lock.json")));
        Assert.True(tools.IsInstalled);
        Assert.True(Directory.Exists(tools.GetPackageDirectory("kinesis-local")));
        Assert.True(File.Exists(Path.Combine(tools.GetPackageDirectory("kinesis-local"), "server.json")));
        Assert.True(Directory.Exists(tools.GetPackageDirectory("@aws-sdk/client-kinesis")));
        Assert.True(await tools.GetNodeMajorVersionAsync() >= NodeTools.MinimumNodeMajorVersion);

        await tools.EnsureInstalledAsync(); // a second call is a no-op
    }

    [Fact]
    public async Task Scripts_get_arguments_stdin_and_the_installed_packages()
    {
        var tools = await NodeTools.EnsureAsync();
        var script = Path.Combine(Path.GetTempPath(), "cloud-node-" + Guid.NewGuid().ToString("N") + ".js");
        await File.WriteAllTextAsync(script,
            "const agg = require('aws-kinesis-agg');" +
            "let input = ''; process.stdin.on('data', d => input += d);" +
            "process.stdin.on('end', () => { console.log(process.argv.slice(2).join(',') + '|' + input.toUpperCase() + '|' + typeof agg.deaggregateSync); process.exit(3); });");
        try
        {
            var result = await tools.RunScriptAsync(script, new NodeRunOptions { Arguments = ["a", "b c"], StandardInput = "hello" });

            Assert.Equal(3, result.ExitCode);
            Assert.Equal("a,b c|HELLO|function", result.StandardOutput.Trim());
            Assert.Throws<NodeToolsException>(() => result.EnsureSuccess());
        }
        finally
        {
            File.Delete(script);
        }
    }

    [Fact]
    public async Task A_script_that_runs_too_long_is_killed_with_a_timeout_error()
    {
        var tools = await NodeTools.EnsureAsync();

        var error = await Assert.ThrowsAsync<TimeoutException>(() => tools.RunInlineAsync(
            "console.error('still working'); setInterval(() => {}, 1000)",
            new NodeRunOptions { Timeout = TimeSpan.FromMilliseconds(1500) }));

        Assert.Contains("still working", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Locate_outside_a_repository_says_what_is_missing()
    {
        if (Environment.GetEnvironmentVariable(NodeTools.ToolsDirectoryVariable) is { Length: > 0 })
        {
            return; // an explicit tools folder wins over the search by design
        }

        // The file-system root: nothing above it can hold tools/emulators (a temp folder might sit inside the repo).
        var root = Path.GetPathRoot(Path.GetTempPath())!;

        var error = Assert.Throws<NodeToolsException>(() => NodeTools.Locate(root));

        Assert.Contains("tools/emulators/package.json", error.Message, StringComparison.Ordinal);
        Assert.Contains(NodeTools.ToolsDirectoryVariable, error.Message, StringComparison.Ordinal);
    }
}
