using Amazon.CDK;
using Cloud.Infra.Stacks;
using Cloud.Sizing;

namespace Cloud.Infra;

/// <summary>The stacks of one deployment and the sizing answer behind the stream.</summary>
/// <param name="Estimate">The shard calculator's answer for the workload profile.</param>
/// <param name="Streams">Streams stack.</param>
/// <param name="Privacy">Privacy stack.</param>
/// <param name="Aggregates">Aggregates stack.</param>
/// <param name="Consumers">Consumers stack.</param>
/// <param name="Monitoring">Monitoring stack.</param>
public sealed record CloudStacks(
    ShardEstimate Estimate,
    StreamsStack Streams,
    PrivacyStack Privacy,
    AggregatesStack Aggregates,
    ConsumersStack Consumers,
    MonitoringStack Monitoring);

/// <summary>Builds every stack of the pipeline into a CDK app.</summary>
public static class CloudInfraApp
{
    /// <summary>Adds the stacks to <paramref name="app"/>. Stacks are environment-agnostic unless <paramref name="env"/> is given.</summary>
    public static CloudStacks Build(App app, InfraConfig config, FunctionAssets assets, Amazon.CDK.Environment? env = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(config);
        var estimate = config.Estimate();
        var n = config.Name;
        IStackProps Props(string what) => new StackProps { Env = env, Description = $"{n}: {what}" };

        var streams = new StreamsStack(app, $"{n}-streams", config, estimate, Props("Kinesis streams (events, forget requests)"));
        var privacy = new PrivacyStack(app, $"{n}-privacy", config, Props("data-key table and master key (crypto-shredding)"));
        var aggregates = new AggregatesStack(app, $"{n}-aggregates", config, Props("aggregates table"));
        var consumers = new ConsumersStack(app, $"{n}-consumers", config, new ConsumerDependencies(streams, privacy, aggregates, assets),
            Props("Lambda consumers and event source mappings"));
        var monitoring = new MonitoringStack(app, $"{n}-monitoring", config, streams, consumers, Props("alarms and dashboard"));
        return new CloudStacks(estimate, streams, privacy, aggregates, consumers, monitoring);
    }
}
