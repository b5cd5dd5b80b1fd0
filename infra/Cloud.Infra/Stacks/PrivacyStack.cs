using Amazon.CDK;
using Amazon.CDK.AWS.DynamoDB;
using Amazon.CDK.AWS.KMS;
using Constructs;

namespace Cloud.Infra.Stacks;

/// <summary>
/// The per-user data-key table and the KMS master key that wraps the keys. Point-in-time recovery is on with a
/// window shorter than the erase deadline: a restore can bring back a forgotten key only while the window lasts.
/// </summary>
public sealed class PrivacyStack : Stack
{
    /// <summary>Partition key of the key table (as the privacy key store writes it).</summary>
    public const string KeyTablePartitionKey = "userId";

    /// <summary>Creates the stack.</summary>
    public PrivacyStack(Construct scope, string id, InfraConfig config, IStackProps? props = null)
        : base(scope, id, props)
    {
        ArgumentNullException.ThrowIfNull(config);

        // Deleting this key makes every wrapped data key, and so all protected data, unreadable: it is retained.
        MasterKey = new Key(this, "MasterKey", new KeyProps
        {
            Description = $"{config.Name}: wraps per-user data keys (crypto-shredding)",
            EnableKeyRotation = true,
            Alias = $"alias/{config.Name.ToLowerInvariant()}/privacy-master",
            RemovalPolicy = RemovalPolicy.RETAIN,
        });
        KeyPolicies.UseExplicitPolicy(MasterKey);

        var pitr = config.Privacy.PointInTimeRecoveryDays > 0;
        KeyTable = new Table(this, "KeyTable", new TableProps
        {
            TableName = $"{config.Name.ToLowerInvariant()}-privacy-keys",
            PartitionKey = new Amazon.CDK.AWS.DynamoDB.Attribute { Name = KeyTablePartitionKey, Type = AttributeType.STRING },
            BillingMode = BillingMode.PAY_PER_REQUEST,
            Encryption = TableEncryption.AWS_MANAGED,
            PointInTimeRecovery = pitr,
            DeletionProtection = true,
            RemovalPolicy = RemovalPolicy.RETAIN,
        });

        if (pitr)
        {
            // RecoveryPeriodInDays (1–35) is newer than this CDK version's typed props: set it on the L1 resource.
            ((CfnTable)KeyTable.Node.DefaultChild!).AddPropertyOverride(
                "PointInTimeRecoverySpecification.RecoveryPeriodInDays", config.Privacy.PointInTimeRecoveryDays);
        }

        _ = new CfnOutput(this, "KeyTableName", new CfnOutputProps { Value = KeyTable.TableName });
        _ = new CfnOutput(this, "MasterKeyArn", new CfnOutputProps { Value = MasterKey.KeyArn });
    }

    /// <summary>The master key (KMS) that wraps data keys.</summary>
    public Key MasterKey { get; }

    /// <summary>The data-key table.</summary>
    public Table KeyTable { get; }
}
