using Amazon.CDK;
using Cloud.Infra;

// cdk.json: "app": "dotnet run --project infra/Cloud.Infra". All settings come from context (cloud:*).
try
{
    var app = new App(new AppProps { AnalyticsReporting = false });
    var config = InfraConfig.FromContext(app.Node);
    var assets = new FunctionAssets(FunctionAssets.FindRepositoryRoot(), config.FunctionsAssetDir);
    var stacks = CloudInfraApp.Build(app, config, assets);
    Console.Error.WriteLine(
        $"{config.Name}: events stream {(config.StreamMode == Cloud.Sizing.CapacityMode.Provisioned ? stacks.Estimate.Shards + " shards" : "on-demand")} " +
        $"(calculator: {stacks.Estimate.Shards} decided by {stacks.Estimate.DecidingConstraint}; " +
        $"provisioned ${stacks.Estimate.Cost.Provisioned.MonthlyTotal}/month vs on-demand ${stacks.Estimate.Cost.OnDemand.MonthlyTotal}/month)");
    app.Synth();
    return 0;
}
catch (InfraConfigException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}
