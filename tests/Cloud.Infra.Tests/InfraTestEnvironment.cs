using System.Text.Json.Nodes;
using Amazon.CDK;
using Amazon.CDK.Assertions;

namespace Cloud.Infra.Tests;

/// <summary>Process-wide setup for jsii and CDK: temp folders inside the repository, no AWS lookups, no network.</summary>
internal static class InfraTestEnvironment
{
    private static readonly Lazy<string> Root = new(Initialize);

    public static string RepositoryRoot => Root.Value;

    /// <summary>Prepared stand-ins for the functions' publish output (asset content does not matter to templates).</summary>
    public static string PreparedFunctionsDir => Path.Combine(RepositoryRoot, ".tmp", "infra-tests", "functions");

    /// <summary>The "context" object of the repository's cdk.json, keys without the "cloud:" prefix.</summary>
    public static JsonObject CdkJsonSettings()
    {
        var cdkJson = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot, "cdk.json")))!.AsObject();
        var settings = new JsonObject();
        foreach (var kv in cdkJson["context"]!.AsObject())
        {
            if (kv.Key.StartsWith(InfraConfig.Prefix, StringComparison.Ordinal))
            {
                settings[kv.Key[InfraConfig.Prefix.Length..]] = kv.Value?.DeepClone();
            }
        }

        return settings;
    }

    /// <summary>Builds every stack from settings (cdk.json's unless given) with prepared function assets.</summary>
    public static (CloudStacks Stacks, InfraConfig Config) Build(JsonObject? settings = null)
    {
        _ = RepositoryRoot;
        var config = InfraConfig.FromJson(settings ?? CdkJsonSettings());
        var app = new App(new AppProps
        {
            AnalyticsReporting = false,
            Outdir = Path.Combine(RepositoryRoot, ".tmp", "infra-tests", "cdk.out", Guid.NewGuid().ToString("N")),
        });
        var stacks = CloudInfraApp.Build(app, config, new FunctionAssets(RepositoryRoot, PreparedFunctionsDir));
        return (stacks, config);
    }

    public static Template TemplateOf(Stack stack) => Template.FromStack(stack);

    private static string Initialize()
    {
        var root = FunctionAssets.FindRepositoryRoot();
        var jsii = Path.Combine(root, ".tmp", "jsii");
        Directory.CreateDirectory(Path.Combine(jsii, "cache"));
        // Must be set before the first jsii call starts the node runtime.
        System.Environment.SetEnvironmentVariable("TMPDIR", jsii);
        System.Environment.SetEnvironmentVariable("JSII_RUNTIME_PACKAGE_CACHE_ROOT", Path.Combine(jsii, "cache"));
        System.Environment.SetEnvironmentVariable("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1");
        foreach (var (k, v) in CdkCli.SafeEnvironment)
        {
            System.Environment.SetEnvironmentVariable(k, v);
        }

        foreach (var fn in new[] { FunctionProject.Aggregator, FunctionProject.Forget })
        {
            var dir = Path.Combine(root, ".tmp", "infra-tests", "functions", fn.Project);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, fn.Project + ".dll"), "stand-in for the publish output");
        }

        return root;
    }
}

/// <summary>Builds the stacks from cdk.json once for the template tests.</summary>
public sealed class DefaultStacksFixture
{
    public DefaultStacksFixture()
    {
        (Stacks, Config) = InfraTestEnvironment.Build();
        Streams = InfraTestEnvironment.TemplateOf(Stacks.Streams);
        Privacy = InfraTestEnvironment.TemplateOf(Stacks.Privacy);
        Aggregates = InfraTestEnvironment.TemplateOf(Stacks.Aggregates);
        Consumers = InfraTestEnvironment.TemplateOf(Stacks.Consumers);
        Monitoring = InfraTestEnvironment.TemplateOf(Stacks.Monitoring);
    }

    public CloudStacks Stacks { get; }

    public InfraConfig Config { get; }

    public Template Streams { get; }

    public Template Privacy { get; }

    public Template Aggregates { get; }

    public Template Consumers { get; }

    public Template Monitoring { get; }

    public IEnumerable<(string Name, Template Template)> All =>
        [("streams", Streams), ("privacy", Privacy), ("aggregates", Aggregates), ("consumers", Consumers), ("monitoring", Monitoring)];
}

[CollectionDefinition(Name)]
public sealed class DefaultStacksCollection : ICollectionFixture<DefaultStacksFixture>
{
    public const string Name = "default stacks";
}
