using System.Text.Json.Nodes;

namespace Cloud.Infra.Tests;

/// <summary>Context validation (no jsii involved).</summary>
public class InfraConfigTests
{
    [Fact]
    public void Cdk_json_is_valid()
    {
        var config = InfraConfig.FromJson(InfraTestEnvironment.CdkJsonSettings());

        Assert.Equal("Cloud", config.Name);
        Assert.Equal(500, config.AggregatorEventSource.BatchSize);
        Assert.Equal(24, config.Workload.RetentionHours);
    }

    [Fact]
    public void Every_problem_is_reported_with_its_context_key()
    {
        var s = InfraTestEnvironment.CdkJsonSettings();
        s["streamMode"] = "SOMETIMES";
        s["aggregatorEventSource"]!["batchSize"] = 0;
        s["aggregatorEventSource"]!["maxRecordAgeSeconds"] = 30;
        s["aggregatorEventSource"]!["parallelizationFactor"] = 2;
        s["aggregatorEventSource"]!["reportBatchItemFailures"] = false;
        s["aggregatorEventSource"]!["batchSizee"] = 5;
        s["forgetEventSource"]!["tumblingWindowSeconds"] = 901;
        s["workload"]!["peakRecordsPerSecond"] = 10;
        s["workload"]!["consumers"]![0]!["maxLatencySeconds"] = -1;
        s["privacy"]!["pointInTimeRecoveryDays"] = 30;
        s["alarms"]!["iteratorAgeSeconds"] = "soon";

        var ex = Assert.Throws<InfraConfigException>(() => InfraConfig.FromJson(s));

        foreach (var key in new[]
        {
            "cloud:streamMode", "cloud:aggregatorEventSource.batchSize", "cloud:aggregatorEventSource.maxRecordAgeSeconds",
            "cloud:aggregatorEventSource.parallelizationFactor", "cloud:aggregatorEventSource.reportBatchItemFailures",
            "cloud:aggregatorEventSource.batchSizee", "cloud:forgetEventSource.tumblingWindowSeconds",
            "cloud:workload.peakRecordsPerSecond", "cloud:workload.consumers[0].maxLatencySeconds",
            "cloud:privacy.pointInTimeRecoveryDays", "cloud:alarms.iteratorAgeSeconds",
        })
        {
            Assert.Contains(ex.Problems, p => p.StartsWith(key + ":", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Workload_is_required()
    {
        var s = InfraTestEnvironment.CdkJsonSettings();
        s.Remove("workload");

        var ex = Assert.Throws<InfraConfigException>(() => InfraConfig.FromJson(s));

        Assert.Contains(ex.Problems, p => p.StartsWith("cloud:workload:", StringComparison.Ordinal));
    }

    [Fact]
    public void Cli_style_string_values_are_parsed()
    {
        var s = InfraTestEnvironment.CdkJsonSettings();
        s["retentionHours"] = ContextValues.ToJson("48");
        s["aggregatorEventSource"] = ContextValues.ToJson("{\"batchSize\": 42}");

        var config = InfraConfig.FromJson(s);

        Assert.Equal(48, config.RetentionHours);
        Assert.Equal(42, config.AggregatorEventSource.BatchSize);
    }

    [Fact]
    public void Jsii_style_dictionaries_are_converted()
    {
        var node = ContextValues.ToJson(new Dictionary<string, object> { ["a"] = 1.5, ["b"] = new object[] { "x", true } });

        Assert.Equal("{\"a\":1.5,\"b\":[\"x\",true]}", node!.ToJsonString());
    }

    [Fact]
    public void Prepared_asset_folder_without_the_function_is_rejected()
    {
        var empty = Path.Combine(InfraTestEnvironment.RepositoryRoot, ".tmp", "infra-tests", "empty-functions");
        Directory.CreateDirectory(empty);

        var ex = Assert.Throws<InfraConfigException>(() => new FunctionAssets(InfraTestEnvironment.RepositoryRoot, empty).PathFor(FunctionProject.Aggregator));

        Assert.Contains("Cloud.Functions.Aggregator.dll", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_top_level_setting_is_reported()
    {
        var s = new JsonObject { ["workload"] = InfraTestEnvironment.CdkJsonSettings()["workload"]!.DeepClone(), ["retention"] = 48 };

        var ex = Assert.Throws<InfraConfigException>(() => InfraConfig.FromJson(s));

        Assert.Contains(ex.Problems, p => p.StartsWith("cloud.retention:", StringComparison.Ordinal));
    }

    [Fact]
    public void The_local_runner_reads_the_same_event_source_settings_as_the_CDK_app()
    {
        // Issue 12: `cloud pipeline` ran batch 100 / window 10 s while the CDK app deployed 500 / 60 s.
        var config = InfraConfig.FromJson(InfraTestEnvironment.CdkJsonSettings());
        var local = Cloud.EventSourceMapping.CdkEventSourceSettings.Load(Path.Combine(InfraTestEnvironment.RepositoryRoot, "cdk.json"));
        var options = new Cloud.EventSourceMapping.EventSourceMappingOptions { StreamName = "s" };
        local.ApplyTo(options);

        var deployed = config.AggregatorEventSource;
        Assert.Equal(deployed.BatchSize, options.BatchSize);
        Assert.Equal(deployed.MaxBatchingWindowSeconds, options.MaximumBatchingWindowInSeconds);
        Assert.Equal(deployed.TumblingWindowSeconds, options.TumblingWindowInSeconds);
        Assert.Equal(deployed.RetryAttempts, options.MaximumRetryAttempts);
        Assert.Equal(deployed.MaxRecordAgeSeconds, options.MaximumRecordAgeInSeconds);
        Assert.Equal(deployed.BisectBatchOnError, options.BisectBatchOnFunctionError);
        Assert.Equal(deployed.ReportBatchItemFailures, options.ReportsBatchItemFailures);
        Assert.Equal(deployed.StartingPosition == "LATEST", options.StartingPosition == Cloud.EventSourceMapping.StartingPosition.Latest);
        Assert.Equal(config.AggregatorFunction.KeyField, local.KeyField);
        Assert.Equal(deployed.EfoConsumer, options.ConsumerName);
        options.Validate();
    }

    [Fact]
    public void An_aggregation_key_in_context_reaches_the_function_and_the_local_runner_alike()
    {
        var settings = InfraTestEnvironment.CdkJsonSettings();
        settings["aggregatorFunction"]!["keyField"] = "page";
        var (stacks, config) = InfraTestEnvironment.Build(settings);
        Assert.Equal("page", config.AggregatorFunction.KeyField);
        InfraTestEnvironment.TemplateOf(stacks.Consumers).HasResourceProperties("AWS::Lambda::Function", T.O(
            ("Environment", T.O(("Variables", Amazon.CDK.Assertions.Match.ObjectLike(T.O(("KEY_FIELD", "page"))))))));

        var file = Path.Combine(InfraTestEnvironment.RepositoryRoot, ".tmp", "infra-tests", Guid.NewGuid().ToString("N") + "-cdk.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, """{"context":{"cloud:aggregatorFunction":{"keyField":"page"},"cloud:aggregatorEventSource":{"batchSize":0,"bisectBatchOnError":"yes"}}}""");
        var ex = Assert.Throws<Cloud.EventSourceMapping.CdkContextException>(() => Cloud.EventSourceMapping.CdkEventSourceSettings.Load(file));
        Assert.Contains("cloud:aggregatorEventSource.batchSize", ex.Message, StringComparison.Ordinal);
        Assert.Contains("cloud:aggregatorEventSource.bisectBatchOnError", ex.Message, StringComparison.Ordinal);
        File.WriteAllText(file, """{"context":{"cloud:aggregatorFunction":{"keyField":"page"}}}""");
        Assert.Equal("page", Cloud.EventSourceMapping.CdkEventSourceSettings.Load(file).KeyField);
    }
}
