using Amazon.CDK;
using Amazon.CDK.AWS.DynamoDB;
using Constructs;

namespace Cloud.Infra.Stacks;

/// <summary>The table the aggregator writes window aggregates to.</summary>
public sealed class AggregatesStack : Stack
{
    /// <summary>Partition key of the aggregates table.</summary>
    public const string PartitionKey = "pk";

    /// <summary>Sort key of the aggregates table.</summary>
    public const string SortKey = "sk";

    /// <summary>Creates the stack.</summary>
    public AggregatesStack(Construct scope, string id, InfraConfig config, IStackProps? props = null)
        : base(scope, id, props)
    {
        ArgumentNullException.ThrowIfNull(config);
        Table = new Table(this, "Aggregates", new TableProps
        {
            TableName = $"{config.Name.ToLowerInvariant()}-aggregates",
            PartitionKey = new Amazon.CDK.AWS.DynamoDB.Attribute { Name = PartitionKey, Type = AttributeType.STRING },
            SortKey = new Amazon.CDK.AWS.DynamoDB.Attribute { Name = SortKey, Type = AttributeType.STRING },
            BillingMode = BillingMode.PAY_PER_REQUEST,
            Encryption = TableEncryption.AWS_MANAGED,
            PointInTimeRecovery = config.Privacy.PointInTimeRecoveryDays > 0,
            RemovalPolicy = RemovalPolicy.DESTROY,
        });

        // Aggregates are keyed by user: the same erase-deadline rule as the key table applies to restores.
        if (config.Privacy.PointInTimeRecoveryDays > 0)
        {
            ((CfnTable)Table.Node.DefaultChild!).AddPropertyOverride(
                "PointInTimeRecoverySpecification.RecoveryPeriodInDays", config.Privacy.PointInTimeRecoveryDays);
        }
        _ = new CfnOutput(this, "AggregatesTableName", new CfnOutputProps { Value = Table.TableName });
    }

    /// <summary>The aggregates table.</summary>
    public Table Table { get; }
}
