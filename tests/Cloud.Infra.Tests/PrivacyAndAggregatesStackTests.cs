using Amazon.CDK.Assertions;

namespace Cloud.Infra.Tests;

[Collection(DefaultStacksCollection.Name)]
public class PrivacyAndAggregatesStackTests(DefaultStacksFixture f)
{
    [Fact]
    public void Key_table_is_keyed_by_user_encrypted_retained_and_has_pitr_inside_the_erase_deadline()
    {
        f.Privacy.HasResourceProperties("AWS::DynamoDB::Table", T.O(
            ("TableName", "cloud-privacy-keys"),
            ("KeySchema", new object[] { T.O(("AttributeName", "userId"), ("KeyType", "HASH")) }),
            ("BillingMode", "PAY_PER_REQUEST"),
            ("SSESpecification", T.O(("SSEEnabled", true))),
            ("DeletionProtectionEnabled", true),
            ("PointInTimeRecoverySpecification", T.O(("PointInTimeRecoveryEnabled", true), ("RecoveryPeriodInDays", 7)))));
        f.Privacy.HasResource("AWS::DynamoDB::Table", T.O(("DeletionPolicy", "Retain"), ("UpdateReplacePolicy", "Retain")));
        Assert.True(f.Config.Privacy.PointInTimeRecoveryDays < f.Config.Privacy.EraseDeadlineDays);
    }

    [Fact]
    public void Master_key_rotates_is_retained_and_aliased()
    {
        f.Privacy.HasResource("AWS::KMS::Key", T.O(
            ("Properties", Match.ObjectLike(T.O(("EnableKeyRotation", true)))),
            ("DeletionPolicy", "Retain")));
        f.Privacy.HasResourceProperties("AWS::KMS::Alias", T.O(("AliasName", "alias/cloud/privacy-master")));
    }

    [Fact]
    public void Pitr_window_follows_context_and_can_be_turned_off()
    {
        var settings = InfraTestEnvironment.CdkJsonSettings();
        settings["privacy"]!["pointInTimeRecoveryDays"] = 0;
        var (stacks, _) = InfraTestEnvironment.Build(settings);
        var table = T.Single(InfraTestEnvironment.TemplateOf(stacks.Privacy), "AWS::DynamoDB::Table");

        Assert.True(table["PointInTimeRecoverySpecification"] is null
            || table["PointInTimeRecoverySpecification"]!["PointInTimeRecoveryEnabled"]!.GetValue<bool>() == false);
    }

    [Fact]
    public void Aggregates_table_is_encrypted_with_the_same_restore_window()
    {
        f.Aggregates.HasResourceProperties("AWS::DynamoDB::Table", T.O(
            ("TableName", "cloud-aggregates"),
            ("KeySchema", new object[]
            {
                T.O(("AttributeName", "pk"), ("KeyType", "HASH")),
                T.O(("AttributeName", "sk"), ("KeyType", "RANGE")),
            }),
            ("BillingMode", "PAY_PER_REQUEST"),
            ("SSESpecification", T.O(("SSEEnabled", true))),
            ("PointInTimeRecoverySpecification", T.O(("PointInTimeRecoveryEnabled", true), ("RecoveryPeriodInDays", 7)))));
    }
}
