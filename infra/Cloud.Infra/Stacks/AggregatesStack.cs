using Amazon.CDK;
using Amazon.CDK.AWS.DynamoDB;
using Constructs;

namespace Cloud.Infra.Stacks;

/// <summary>The table the aggregator writes window aggregates to, and the embedded schema registry's table it reads.</summary>
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

        // The embedded schema registry (Cloud.Schemas.DynamoDbSchemaRegistry, the same layout as on dynalite): the
        // Aggregator resolves the schema version id of GSR records here.
        SchemaTable = new Table(this, "Schemas", new TableProps
        {
            TableName = $"{config.Name.ToLowerInvariant()}-schemas",
            PartitionKey = new Amazon.CDK.AWS.DynamoDB.Attribute { Name = PartitionKey, Type = AttributeType.STRING },
            SortKey = new Amazon.CDK.AWS.DynamoDB.Attribute { Name = SortKey, Type = AttributeType.STRING },
            BillingMode = BillingMode.PAY_PER_REQUEST,
            Encryption = TableEncryption.AWS_MANAGED,
            RemovalPolicy = RemovalPolicy.RETAIN, // schemas outlive a stack: old records still name their versions
        });
        _ = new CfnOutput(this, "SchemaTableName", new CfnOutputProps { Value = SchemaTable.TableName });
    }

    /// <summary>The embedded schema registry's table.</summary>
    public Table SchemaTable { get; }

    /// <summary>The aggregates table.</summary>
    public Table Table { get; }
}
