using Amazon.CDK.Assertions;
using Cloud.Sizing;

namespace Cloud.Infra.Tests;

[Collection(DefaultStacksCollection.Name)]
public class StreamsStackTests(DefaultStacksFixture f)
{
    [Fact]
    public void Events_stream_shard_count_is_the_calculators_answer_for_the_cdk_json_profile()
    {
        var expected = new ShardCalculator().Calculate(f.Config.Workload).Shards;

        f.Streams.HasResourceProperties("AWS::Kinesis::Stream", T.O(
            ("Name", "cloud-events"),
            ("ShardCount", expected),
            ("StreamModeDetails", T.O(("StreamMode", "PROVISIONED")))));
        // The cdk.json profile: 10,000 records/s × 600 B at surge = 5.72 MiB/s → 6 shards, decided by write bytes.
        Assert.Equal(6, expected);
        Assert.Equal(SizingConstraint.WriteBytes, f.Stacks.Estimate.DecidingConstraint);
    }

    [Fact]
    public void Both_streams_are_kms_encrypted_with_the_stack_key_and_keep_their_retention()
    {
        var keyRef = T.O(("Fn::GetAtt", new object[] { KeyId(), "Arn" }));
        f.Streams.HasResourceProperties("AWS::Kinesis::Stream", T.O(
            ("Name", "cloud-events"),
            ("RetentionPeriodHours", 24),
            ("StreamEncryption", T.O(("EncryptionType", "KMS"), ("KeyId", keyRef)))));
        f.Streams.HasResourceProperties("AWS::Kinesis::Stream", T.O(
            ("Name", "cloud-forget"),
            ("ShardCount", 1),
            ("RetentionPeriodHours", 168),
            ("StreamEncryption", T.O(("EncryptionType", "KMS"), ("KeyId", keyRef)))));
        f.Streams.ResourceCountIs("AWS::Kinesis::Stream", 2);
    }

    [Fact]
    public void Stream_key_rotates_and_has_an_alias()
    {
        f.Streams.HasResourceProperties("AWS::KMS::Key", T.O(("EnableKeyRotation", true), ("PendingWindowInDays", 7)));
        f.Streams.HasResourceProperties("AWS::KMS::Alias", T.O(("AliasName", "alias/cloud/streams")));
    }

    [Fact]
    public void Retention_comes_from_context()
    {
        var settings = InfraTestEnvironment.CdkJsonSettings();
        settings["retentionHours"] = 72;
        var (stacks, _) = InfraTestEnvironment.Build(settings);

        InfraTestEnvironment.TemplateOf(stacks.Streams).HasResourceProperties("AWS::Kinesis::Stream", T.O(
            ("Name", "cloud-events"), ("RetentionPeriodHours", 72)));
    }

    [Fact]
    public void On_demand_mode_has_no_shard_count()
    {
        var settings = InfraTestEnvironment.CdkJsonSettings();
        settings["streamMode"] = "ON_DEMAND";
        var (stacks, _) = InfraTestEnvironment.Build(settings);

        InfraTestEnvironment.TemplateOf(stacks.Streams).HasResourceProperties("AWS::Kinesis::Stream", T.O(
            ("Name", "cloud-events"),
            ("ShardCount", Match.Absent()),
            ("StreamModeDetails", T.O(("StreamMode", "ON_DEMAND"))),
            ("StreamEncryption", Match.ObjectLike(T.O(("EncryptionType", "KMS"))))));
    }

    [Fact]
    public void A_heavier_profile_gives_more_shards()
    {
        var settings = InfraTestEnvironment.CdkJsonSettings();
        settings["workload"]!["peakRecordsPerSecond"] = 50_000;
        settings["workload"]!["surgeRecordsPerSecond"] = 0;
        var (stacks, config) = InfraTestEnvironment.Build(settings);
        var expected = new ShardCalculator().Calculate(config.Workload);

        Assert.True(expected.Shards > 6);
        InfraTestEnvironment.TemplateOf(stacks.Streams).HasResourceProperties("AWS::Kinesis::Stream", T.O(
            ("Name", "cloud-events"), ("ShardCount", expected.Shards)));
    }

    private string KeyId() => T.Resources(f.Streams, "AWS::KMS::Key").Single().Id;
}
