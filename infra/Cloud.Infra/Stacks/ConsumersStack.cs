using System.Globalization;
using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Kinesis;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Lambda.EventSources;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.SQS;
using Constructs;
using Stream = Amazon.CDK.AWS.Kinesis.Stream;

namespace Cloud.Infra.Stacks;

/// <summary>What the consumers stack needs from the others.</summary>
/// <param name="Streams">Events and forget streams.</param>
/// <param name="Privacy">Key table and master key.</param>
/// <param name="Aggregates">Aggregates table.</param>
/// <param name="Assets">Where the functions' publish outputs come from.</param>
public sealed record ConsumerDependencies(StreamsStack Streams, PrivacyStack Privacy, AggregatesStack Aggregates, FunctionAssets Assets);

/// <summary>The Aggregator and Forget functions, their Kinesis event source mappings and on-failure queues.</summary>
public sealed class ConsumersStack : Stack
{
    /// <summary>
    /// Lambda's managed .NET 10 runtime. CDK 2.160.0 predates it (its newest is <c>Runtime.DOTNET_8</c>), and the functions
    /// target net10.0, which dotnet8 cannot load; dotnet8 is also deprecated since 2026-11-10.
    /// </summary>
    public static Runtime DotNet10 { get; } = new("dotnet10", RuntimeFamily.DOTNET_CORE, new LambdaRuntimeProps { SupportsInlineCode = false });

    /// <summary>Creates the stack.</summary>
    public ConsumersStack(Construct scope, string id, InfraConfig config, ConsumerDependencies deps, IStackProps? props = null)
        : base(scope, id, props)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(deps);
        var name = config.Name.ToLowerInvariant();

        AggregatorFailures = FailureQueue("AggregatorFailures", $"{name}-aggregator-failures");
        ForgetFailures = FailureQueue("ForgetFailures", $"{name}-forget-failures");

        var aggregatorEnvironment = new Dictionary<string, string>
        {
            ["AGGREGATES_TABLE"] = deps.Aggregates.Table.TableName,
            ["SCHEMA_REGISTRY_TABLE"] = deps.Aggregates.SchemaTable.TableName,
            // The namespace of the CloudWatch Embedded Metric Format lines the function writes (no agent, no API call).
            ["METRICS_NAMESPACE"] = config.MetricsNamespace,
        };
        if (config.AggregatorFunction.KeyField is { } keyField)
        {
            // The same key the local runner (cloud pipeline) aggregates by when it reads cdk.json.
            aggregatorEnvironment["KEY_FIELD"] = keyField;
        }

        Aggregator = NewFunction("Aggregator", $"{name}-aggregator", FunctionProject.Aggregator, config.AggregatorFunction, deps.Assets, aggregatorEnvironment);

        // The privacy runtime takes the master key as "kms:<key id or ARN>" (PrivacyOptions.MasterKeyVariable).
        Forget = NewFunction("Forget", $"{name}-forget", FunctionProject.Forget, config.ForgetFunction, deps.Assets,
            new Dictionary<string, string>
            {
                ["CLOUD_PRIVACY_KEY_TABLE"] = deps.Privacy.KeyTable.TableName,
                ["METRICS_NAMESPACE"] = config.MetricsNamespace,
                ["CLOUD_PRIVACY_MASTER_KEY"] = "kms:" + deps.Privacy.MasterKey.KeyArn,
                ["CLOUD_PRIVACY_KEY_CACHE_TTL_SECONDS"] = config.Privacy.KeyCacheTtlSeconds.ToString(CultureInfo.InvariantCulture),
            });

        // Least privilege, only through Grant* methods (each names its actions; no wildcards). The aggregator never sees
        // personal fields (it refuses to aggregate them), so it gets no access to keys; forgetting only deletes keys
        // (wrapped keys are dropped, nothing is unwrapped), so the forget function gets no master-key use.
        deps.Aggregates.Table.GrantReadWriteData(Aggregator);
        deps.Aggregates.SchemaTable.GrantReadData(Aggregator); // decodes GSR records; never registers schemas
        deps.Privacy.KeyTable.GrantReadWriteData(Forget);

        AggregatorMapping = Mapping(Aggregator, deps.Streams.Events, config.AggregatorEventSource, AggregatorFailures);
        ForgetMapping = Mapping(Forget, deps.Streams.ForgetRequests, config.ForgetEventSource, ForgetFailures);
    }

    /// <summary>The aggregator function.</summary>
    public Function Aggregator { get; }

    /// <summary>The forget function.</summary>
    public Function Forget { get; }

    /// <summary>Receives batch descriptions the aggregator gave up on.</summary>
    public Queue AggregatorFailures { get; }

    /// <summary>Receives batch descriptions the forget function gave up on.</summary>
    public Queue ForgetFailures { get; }

    /// <summary>The aggregator's event source.</summary>
    public KinesisEventSource AggregatorMapping { get; }

    /// <summary>The forget function's event source.</summary>
    public KinesisEventSource ForgetMapping { get; }

    private Queue FailureQueue(string id, string queueName) => new(this, id, new QueueProps
    {
        QueueName = queueName,
        Encryption = QueueEncryption.SQS_MANAGED,
        EnforceSSL = true,
        RetentionPeriod = Duration.Days(14),
    });

    private Function NewFunction(string id, string functionName, FunctionProject project, FunctionSettings settings, FunctionAssets assets, Dictionary<string, string> environment)
    {
        var logs = new LogGroup(this, id + "Logs", new LogGroupProps
        {
            LogGroupName = "/aws/lambda/" + functionName,
            Retention = RetentionDays.TWO_WEEKS,
            RemovalPolicy = RemovalPolicy.DESTROY,
        });
        return new Function(this, id, new FunctionProps
        {
            FunctionName = functionName,
            Runtime = DotNet10,
            Architecture = Architecture.X86_64,
            Handler = project.Handler,
            Code = Code.FromAsset(assets.PathFor(project)),
            MemorySize = settings.MemoryMb,
            Timeout = Duration.Seconds(settings.TimeoutSeconds),
            Environment = environment,
            LogGroup = logs,
        });
    }

    private static KinesisEventSource Mapping(Function function, Stream stream, EventSourceSettings s, Queue onFailure)
    {
        var props = new KinesisEventSourceProps
        {
            StartingPosition = s.StartingPosition == "LATEST" ? StartingPosition.LATEST : StartingPosition.TRIM_HORIZON,
            BatchSize = s.BatchSize,
            MaxBatchingWindow = Duration.Seconds(s.MaxBatchingWindowSeconds),
            BisectBatchOnError = s.BisectBatchOnError,
            ReportBatchItemFailures = s.ReportBatchItemFailures,
            ParallelizationFactor = s.ParallelizationFactor,
            OnFailure = new SqsDlq(onFailure),
        };

        // -1 (the service default: retry until the record expires / no age limit) is expressed by leaving the value out.
        if (s.RetryAttempts >= 0)
        {
            props.RetryAttempts = s.RetryAttempts;
        }

        if (s.MaxRecordAgeSeconds >= 0)
        {
            props.MaxRecordAge = Duration.Seconds(s.MaxRecordAgeSeconds);
        }

        if (s.TumblingWindowSeconds > 0)
        {
            props.TumblingWindow = Duration.Seconds(s.TumblingWindowSeconds);
        }

        var source = new KinesisEventSource(stream, props);
        function.AddEventSource(source);
        if (s.EfoConsumer is { } consumerName)
        {
            ReadThroughConsumer(function, stream, consumerName);
        }

        return source;
    }

    /// <summary>
    /// Enhanced fan-out: a stream consumer, the mapping's EventSourceArn set to it (CDK 2.160's KinesisEventSource
    /// takes only a stream), and the function's SubscribeToShard/DescribeStreamConsumer grant on that consumer alone.
    /// https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html (stream consumers).
    /// </summary>
    private static void ReadThroughConsumer(Function function, Stream stream, string consumerName)
    {
        var consumer = new CfnStreamConsumer(function.Stack, $"{function.Node.Id}Consumer", new CfnStreamConsumerProps
        {
            ConsumerName = consumerName,
            StreamArn = stream.StreamArn,
        });
        var mapping = function.Node.FindAll().OfType<CfnEventSourceMapping>().Single();
        mapping.AddPropertyOverride("EventSourceArn", consumer.AttrConsumerArn);
        mapping.AddDependency(consumer);
        function.AddToRolePolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer"],
            Resources = [consumer.AttrConsumerArn],
        }));
    }
}
