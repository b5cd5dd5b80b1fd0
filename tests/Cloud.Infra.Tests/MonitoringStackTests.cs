using Amazon.CDK.Assertions;

namespace Cloud.Infra.Tests;

[Collection(DefaultStacksCollection.Name)]
public class MonitoringStackTests(DefaultStacksFixture f)
{
    [Theory]
    [InlineData("IteratorAge", "AWS/Lambda", 60_000)]
    [InlineData("Errors", "AWS/Lambda", 1)]
    [InlineData("WriteProvisionedThroughputExceeded", "AWS/Kinesis", 1)]
    [InlineData("ReadProvisionedThroughputExceeded", "AWS/Kinesis", 1)]
    [InlineData("ApproximateNumberOfMessagesVisible", "AWS/SQS", 1)]
    public void Alarm_exists_for_each_function_stream_or_queue(string metric, string ns, double threshold)
    {
        var alarms = T.Resources(f.Monitoring, "AWS::CloudWatch::Alarm")
            .Where(a => (string?)a.Properties["MetricName"] == metric && (string?)a.Properties["Namespace"] == ns)
            .ToList();

        Assert.Equal(2, alarms.Count);
        Assert.All(alarms, a =>
        {
            Assert.Equal(threshold, a.Properties["Threshold"]!.GetValue<double>());
            Assert.Equal("GreaterThanOrEqualToThreshold", (string?)a.Properties["ComparisonOperator"]);
        });
    }

    [Fact]
    public void Iterator_age_alarm_watches_the_aggregator_function()
    {
        f.Monitoring.HasResourceProperties("AWS::CloudWatch::Alarm", T.O(
            ("MetricName", "IteratorAge"),
            ("Statistic", "Maximum"),
            ("Dimensions", new object[] { T.O(("Name", "FunctionName"), ("Value", Match.ObjectLike(T.O(("Fn::ImportValue", Match.StringLikeRegexp("Aggregator")))))) })));
    }

    [Theory]
    [InlineData("aggregator")]
    [InlineData("forget")]
    public void Failed_invocation_alarm_watches_the_functions_emf_metric_in_the_cdk_json_namespace(string function)
    {
        f.Monitoring.HasResourceProperties("AWS::CloudWatch::Alarm", T.O(
            ("MetricName", "cloud.functions.invocations"),
            ("Namespace", "Cloud/Pipeline"),
            ("Statistic", "Sum"),
            ("Dimensions", Match.ArrayWith(new object[] { T.O(("Name", "function"), ("Value", function)), T.O(("Name", "outcome"), ("Value", "error")) }))));
    }

    [Fact]
    public void Metrics_namespace_comes_from_context_into_the_functions_and_the_alarms()
    {
        var settings = InfraTestEnvironment.CdkJsonSettings();
        settings["metricsNamespace"] = "Team/Orders";
        var (stacks, _) = InfraTestEnvironment.Build(settings);

        InfraTestEnvironment.TemplateOf(stacks.Monitoring).HasResourceProperties("AWS::CloudWatch::Alarm", T.O(
            ("MetricName", "cloud.functions.invocations"), ("Namespace", "Team/Orders")));
        var consumers = InfraTestEnvironment.TemplateOf(stacks.Consumers);
        consumers.HasResourceProperties("AWS::Lambda::Function", T.O(("Environment", T.O(("Variables", Match.ObjectLike(T.O(("METRICS_NAMESPACE", "Team/Orders"))))))));
        Assert.Equal(2, T.Resources(consumers, "AWS::Lambda::Function").Count(r => r.Properties["Environment"]?["Variables"]?["METRICS_NAMESPACE"]?.GetValue<string>() == "Team/Orders"));
    }

    [Fact]
    public void Alarm_thresholds_come_from_context()
    {
        var settings = InfraTestEnvironment.CdkJsonSettings();
        settings["alarms"]!["iteratorAgeSeconds"] = 300;
        var (stacks, _) = InfraTestEnvironment.Build(settings);

        InfraTestEnvironment.TemplateOf(stacks.Monitoring).HasResourceProperties("AWS::CloudWatch::Alarm", T.O(
            ("MetricName", "IteratorAge"), ("Threshold", 300_000)));
    }

    [Fact]
    public void Dashboard_exists()
    {
        f.Monitoring.HasResourceProperties("AWS::CloudWatch::Dashboard", T.O(("DashboardName", "Cloud-pipeline")));
        f.Monitoring.ResourceCountIs("AWS::CloudWatch::Alarm", 12);
    }

    [Fact]
    public void Every_alarm_notifies_one_SNS_topic()
    {
        // Issue 12: alarms that notify nobody are not alarms.
        var topics = T.Resources(f.Monitoring, "AWS::SNS::Topic").ToList();
        var topic = Assert.Single(topics);
        var alarms = T.Resources(f.Monitoring, "AWS::CloudWatch::Alarm").ToList();
        Assert.Equal(12, alarms.Count);
        Assert.All(alarms, a =>
        {
            var actions = a.Properties["AlarmActions"]!.AsArray();
            var reference = Assert.Single(actions)!;
            Assert.Equal(topic.Id, (string?)reference["Ref"]);
        });
        // No address in cdk.json: no subscription.
        f.Monitoring.ResourceCountIs("AWS::SNS::Subscription", 0);
    }

    [Fact]
    public void An_alarm_email_in_context_subscribes_to_the_topic()
    {
        var settings = InfraTestEnvironment.CdkJsonSettings();
        settings["alarms"]!["email"] = "oncall@example.com";
        var (stacks, _) = InfraTestEnvironment.Build(settings);

        InfraTestEnvironment.TemplateOf(stacks.Monitoring).HasResourceProperties("AWS::SNS::Subscription", T.O(
            ("Protocol", "email"), ("Endpoint", "oncall@example.com")));
    }

    [Fact]
    public void A_malformed_alarm_email_is_refused_by_name()
    {
        var settings = InfraTestEnvironment.CdkJsonSettings();
        settings["alarms"]!["email"] = "not an address";
        var ex = Assert.Throws<InfraConfigException>(() => InfraConfig.FromJson(settings));
        Assert.Contains("cloud:alarms.email", ex.Message, StringComparison.Ordinal);
    }
}
