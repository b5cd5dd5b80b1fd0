using Amazon.CDK;
using Amazon.CDK.AWS.KMS;
using Amazon.CDK.AWS.Kinesis;
using Cloud.Sizing;
using Constructs;
using Stream = Amazon.CDK.AWS.Kinesis.Stream;

namespace Cloud.Infra.Stacks;

/// <summary>The events stream (sized by the shard calculator, or on-demand) and the forget control stream, both KMS-encrypted.</summary>
public sealed class StreamsStack : Stack
{
    /// <summary>Creates the stack.</summary>
    public StreamsStack(Construct scope, string id, InfraConfig config, ShardEstimate estimate, IStackProps? props = null)
        : base(scope, id, props)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(estimate);

        StreamKey = new Key(this, "StreamKey", new KeyProps
        {
            Description = $"{config.Name}: encrypts the events and forget streams",
            EnableKeyRotation = true,
            Alias = $"alias/{config.Name.ToLowerInvariant()}/streams",
            RemovalPolicy = RemovalPolicy.DESTROY,
            PendingWindow = Duration.Days(7),
        });
        KeyPolicies.UseExplicitPolicy(StreamKey);

        var provisioned = config.StreamMode == CapacityMode.Provisioned;
        Events = new Stream(this, "Events", new StreamProps
        {
            StreamName = $"{config.Name.ToLowerInvariant()}-events",
            StreamMode = provisioned ? StreamMode.PROVISIONED : StreamMode.ON_DEMAND,
            ShardCount = provisioned ? estimate.Shards : null,
            Encryption = StreamEncryption.KMS,
            EncryptionKey = StreamKey,
            RetentionPeriod = Duration.Hours(config.RetentionHours),
        });

        // Forget requests are rare and small: one shard, kept long enough to survive a consumer outage.
        ForgetRequests = new Stream(this, "ForgetRequests", new StreamProps
        {
            StreamName = $"{config.Name.ToLowerInvariant()}-forget",
            StreamMode = StreamMode.PROVISIONED,
            ShardCount = 1,
            Encryption = StreamEncryption.KMS,
            EncryptionKey = StreamKey,
            RetentionPeriod = Duration.Hours(config.ForgetStreamRetentionHours),
        });

        _ = new CfnOutput(this, "EventsStreamName", new CfnOutputProps { Value = Events.StreamName });
        _ = new CfnOutput(this, "ForgetStreamName", new CfnOutputProps { Value = ForgetRequests.StreamName });
        _ = new CfnOutput(this, "EventsShardCount", new CfnOutputProps
        {
            Value = provisioned ? estimate.Shards.ToString(System.Globalization.CultureInfo.InvariantCulture) : "ON_DEMAND",
            Description = $"Decided by {estimate.DecidingConstraint}",
        });
    }

    /// <summary>Customer-managed key of both streams.</summary>
    public Key StreamKey { get; }

    /// <summary>The events stream.</summary>
    public Stream Events { get; }

    /// <summary>The forget control stream.</summary>
    public Stream ForgetRequests { get; }
}
