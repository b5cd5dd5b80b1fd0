using System.Diagnostics;
using System.Text.Json.Nodes;
using Cloud.Emulators;
using Cloud.Sizing;

namespace Cloud.Infra.Tests;

/// <summary>`cdk synth` through the pinned CLI (tools/emulators, aws-cdk@2), offline.</summary>
public class CdkCliSynthTests
{
    [Fact]
    public async Task Pinned_cli_synthesizes_every_stack_offline()
    {
        var root = InfraTestEnvironment.RepositoryRoot;
        var tools = await NodeTools.EnsureAsync();
        var output = Path.Combine(root, ".tmp", "infra-tests", "cli.out");
        if (Directory.Exists(output))
        {
            Directory.Delete(output, recursive: true);
        }

        var psi = new ProcessStartInfo(tools.NodeExecutable)
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            tools.CdkCliPath, "synth", "--no-notices", "--no-version-reporting", "--verbose",
            "--output", output,
            "--context", "cloud:functionsAssetDir=" + Path.GetRelativePath(root, InfraTestEnvironment.PreparedFunctionsDir),
        })
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in CdkCli.SafeEnvironment)
        {
            psi.Environment[k] = v;
        }

        psi.Environment["TMPDIR"] = Path.Combine(root, ".tmp", "jsii");
        psi.Environment["JSII_RUNTIME_PACKAGE_CACHE_ROOT"] = Path.Combine(root, ".tmp", "jsii", "cache");
        psi.Environment["JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION"] = "1";

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var log = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"cdk synth exited {process.ExitCode}:\n{Tail(log)}");

        // Every stack is in the cloud assembly, and the stream has the calculator's shard count.
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "manifest.json")))!;
        var stacks = manifest["artifacts"]!.AsObject()
            .Where(a => (string?)a.Value!["type"] == "aws:cloudformation:stack")
            .Select(a => a.Key)
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(["Cloud-aggregates", "Cloud-consumers", "Cloud-monitoring", "Cloud-privacy", "Cloud-streams"], stacks);

        var streams = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "Cloud-streams.template.json")))!;
        var events = streams["Resources"]!.AsObject().Single(r => (string?)r.Value!["Properties"]?["Name"] == "cloud-events").Value!;
        var config = InfraConfig.FromJson(InfraTestEnvironment.CdkJsonSettings());
        Assert.Equal(new ShardCalculator().Calculate(config.Workload).Shards, events["Properties"]!["ShardCount"]!.GetValue<int>());

        // Nothing left the machine: the CLI's default-account lookup (it always tries one) hit the closed loopback port.
        Assert.DoesNotContain(".amazonaws.com", log, StringComparison.Ordinal);
        Assert.DoesNotContain("169.254.169.254", log, StringComparison.Ordinal);
    }

    private static string Tail(string s) => s.Length <= 6000 ? s : s[^6000..];
}
