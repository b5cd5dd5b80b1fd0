using Amazon.CDK.Assertions;

namespace Cloud.Infra.Tests;

[Collection(DefaultStacksCollection.Name)]
public class ConsumersStackTests(DefaultStacksFixture f)
{
    [Fact]
    public void Aggregator_function_runs_the_published_handler_on_dotnet10()
    {
        f.Consumers.HasResourceProperties("AWS::Lambda::Function", T.O(
            ("FunctionName", "cloud-aggregator"),
            ("Runtime", "dotnet10"),
            ("Handler", "Cloud.Functions.Aggregator::Cloud.Functions.Aggregator.Function::FunctionHandler"),
            ("MemorySize", 1024),
            ("Timeout", 60),
            ("Environment", T.O(("Variables", Match.ObjectLike(T.O(("AGGREGATES_TABLE", Match.AnyValue()), ("SCHEMA_REGISTRY_TABLE", Match.AnyValue())))))),
            ("Code", T.O(("S3Bucket", Match.AnyValue()), ("S3Key", Match.StringLikeRegexp("\\.zip$"))))));
    }

    [Fact]
    public void Forget_function_runs_its_handler()
    {
        f.Consumers.HasResourceProperties("AWS::Lambda::Function", T.O(
            ("FunctionName", "cloud-forget"),
            ("Runtime", "dotnet10"),
            ("Handler", "Cloud.Functions.Forget::Cloud.Functions.Forget.ForgetFunction::FunctionHandler"),
            ("MemorySize", 512),
            ("Timeout", 30),
            ("Environment", T.O(("Variables", T.O(
                ("CLOUD_PRIVACY_KEY_TABLE", Match.AnyValue()),
                ("CLOUD_PRIVACY_MASTER_KEY", T.O(("Fn::Join", new object[] { "", Match.ArrayWith(new object[] { "kms:" }) }))),
                ("CLOUD_PRIVACY_KEY_CACHE_TTL_SECONDS", "300")))))));
    }

    [Fact]
    public void Aggregator_mapping_has_every_configured_parameter()
    {
        f.Consumers.HasResourceProperties("AWS::Lambda::EventSourceMapping", T.O(
            ("FunctionName", T.O(("Ref", FunctionId("cloud-aggregator")))),
            ("EventSourceArn", Match.ObjectLike(T.O(("Fn::ImportValue", Match.StringLikeRegexp("Events"))))),
            ("StartingPosition", "TRIM_HORIZON"),
            ("BatchSize", 500),
            ("MaximumBatchingWindowInSeconds", 1),
            ("BisectBatchOnFunctionError", true),
            ("MaximumRetryAttempts", 3),
            ("MaximumRecordAgeInSeconds", 3600),
            ("FunctionResponseTypes", new object[] { "ReportBatchItemFailures" }),
            ("TumblingWindowInSeconds", 60),
            ("ParallelizationFactor", 1),
            ("DestinationConfig", OnFailure("cloud-aggregator-failures"))));
    }

    [Fact]
    public void Forget_mapping_uses_its_own_settings_and_leaves_unlimited_values_out()
    {
        f.Consumers.HasResourceProperties("AWS::Lambda::EventSourceMapping", T.O(
            ("FunctionName", T.O(("Ref", FunctionId("cloud-forget")))),
            ("EventSourceArn", Match.ObjectLike(T.O(("Fn::ImportValue", Match.StringLikeRegexp("ForgetRequests"))))),
            ("BatchSize", 10),
            ("MaximumRetryAttempts", 10),
            ("MaximumRecordAgeInSeconds", Match.Absent()),
            ("TumblingWindowInSeconds", Match.Absent()),
            ("FunctionResponseTypes", new object[] { "ReportBatchItemFailures" }),
            ("DestinationConfig", OnFailure("cloud-forget-failures"))));
    }

    [Fact]
    public void Mapping_settings_come_from_context()
    {
        var settings = InfraTestEnvironment.CdkJsonSettings();
        settings["aggregatorEventSource"]!["batchSize"] = 1234;
        settings["aggregatorEventSource"]!["retryAttempts"] = -1;
        settings["aggregatorEventSource"]!["startingPosition"] = "LATEST";
        var (stacks, _) = InfraTestEnvironment.Build(settings);

        InfraTestEnvironment.TemplateOf(stacks.Consumers).HasResourceProperties("AWS::Lambda::EventSourceMapping", T.O(
            ("BatchSize", 1234),
            ("StartingPosition", "LATEST"),
            ("MaximumRetryAttempts", Match.Absent())));
    }

    [Fact]
    public void An_efo_consumer_in_context_maps_the_aggregator_through_it_with_its_grants()
    {
        var settings = InfraTestEnvironment.CdkJsonSettings();
        settings["aggregatorEventSource"]!["efoConsumer"] = "aggregator-efo";
        var (stacks, _) = InfraTestEnvironment.Build(settings);
        var template = InfraTestEnvironment.TemplateOf(stacks.Consumers);

        var consumer = T.Resources(template, "AWS::Kinesis::StreamConsumer").Single();
        Assert.Equal("aggregator-efo", (string?)consumer.Properties["ConsumerName"]);
        var consumerArn = T.O(("Fn::GetAtt", new object[] { consumer.Id, "ConsumerARN" }));
        template.HasResourceProperties("AWS::Lambda::EventSourceMapping", T.O(("BatchSize", 500), ("EventSourceArn", consumerArn)));
        // The forget mapping still polls its stream.
        template.HasResourceProperties("AWS::Lambda::EventSourceMapping", T.O(("BatchSize", 10), ("EventSourceArn", Match.ObjectLike(T.O(("Fn::ImportValue", Match.AnyValue()))))));
        template.HasResourceProperties("AWS::IAM::Policy", T.O(("PolicyDocument", T.O(("Statement", Match.ArrayWith(new object[]
        {
            Match.ObjectLike(T.O(("Action", new object[] { "kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer" }), ("Resource", consumerArn))),
        }))))));
    }

    [Fact]
    public void The_aggregator_reads_the_schema_registry_table_and_cannot_write_it()
    {
        var statements = T.Resources(f.Consumers, "AWS::IAM::Policy")
            .SelectMany(p => p.Properties["PolicyDocument"]!["Statement"]!.AsArray())
            .Select(st => st!.ToJsonString())
            .Where(st => st.Contains("SchemaTable", StringComparison.Ordinal) || st.Contains("Schemas", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(statements);
        Assert.All(statements, st =>
        {
            Assert.Contains("dynamodb:GetItem", st, StringComparison.Ordinal);
            Assert.DoesNotContain("dynamodb:PutItem", st, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Without_an_efo_consumer_there_is_none()
    {
        f.Consumers.ResourceCountIs("AWS::Kinesis::StreamConsumer", 0);
    }

    [Fact]
    public void On_failure_queues_are_encrypted_and_refuse_plain_http()
    {
        foreach (var name in new[] { "cloud-aggregator-failures", "cloud-forget-failures" })
        {
            f.Consumers.HasResourceProperties("AWS::SQS::Queue", T.O(
                ("QueueName", name),
                ("SqsManagedSseEnabled", true),
                ("MessageRetentionPeriod", 14 * 24 * 3600)));
        }

        f.Consumers.ResourceCountIs("AWS::SQS::QueuePolicy", 2);
        f.Consumers.HasResourceProperties("AWS::SQS::QueuePolicy", T.O(("PolicyDocument", T.O(("Statement", Match.ArrayWith(new object[]
        {
            Match.ObjectLike(T.O(("Effect", "Deny"), ("Condition", T.O(("Bool", T.O(("aws:SecureTransport", "false"))))))),
        }))))));
    }

    [Fact]
    public void Functions_get_exactly_the_data_access_they_need()
    {
        var aggregator = Statements(RoleOf("cloud-aggregator"));
        var forget = Statements(RoleOf("cloud-forget"));

        Assert.Contains(aggregator, s => s.Actions.Contains("dynamodb:PutItem") && s.Resource.Contains("Aggregates", StringComparison.Ordinal));
        Assert.DoesNotContain(aggregator, s => s.Resource.Contains("KeyTable", StringComparison.Ordinal) || s.Resource.Contains("MasterKey", StringComparison.Ordinal));
        Assert.Contains(aggregator, s => s.Actions.Contains("kms:Decrypt") && s.Resource.Contains("StreamKey", StringComparison.Ordinal));
        Assert.Contains(aggregator, s => s.Actions.Contains("kinesis:GetRecords") && s.Resource.Contains("Events", StringComparison.Ordinal));
        Assert.Contains(aggregator, s => s.Actions.Contains("sqs:SendMessage"));
        Assert.Contains(forget, s => s.Actions.Contains("dynamodb:DeleteItem") && s.Resource.Contains("KeyTable", StringComparison.Ordinal));
        Assert.Contains(forget, s => s.Actions.Contains("kinesis:GetRecords") && s.Resource.Contains("ForgetRequests", StringComparison.Ordinal));
        Assert.DoesNotContain(forget, s => s.Resource.Contains("MasterKey", StringComparison.Ordinal) || s.Resource.Contains("Aggregates", StringComparison.Ordinal));
    }

    [Fact]
    public void Function_logs_are_kept_two_weeks()
    {
        f.Consumers.HasResourceProperties("AWS::Logs::LogGroup", T.O(("LogGroupName", "/aws/lambda/cloud-aggregator"), ("RetentionInDays", 14)));
        f.Consumers.HasResourceProperties("AWS::Logs::LogGroup", T.O(("LogGroupName", "/aws/lambda/cloud-forget"), ("RetentionInDays", 14)));
    }

    private Dictionary<string, object> OnFailure(string queueName)
        => T.O(("OnFailure", T.O(("Destination", T.O(("Fn::GetAtt", new object[] { QueueId(queueName), "Arn" }))))));

    private string FunctionId(string name)
        => T.Resources(f.Consumers, "AWS::Lambda::Function").Single(r => (string?)r.Properties["FunctionName"] == name).Id;

    private string QueueId(string name)
        => T.Resources(f.Consumers, "AWS::SQS::Queue").Single(r => (string?)r.Properties["QueueName"] == name).Id;

    private string RoleOf(string functionName)
    {
        var fn = T.Resources(f.Consumers, "AWS::Lambda::Function").Single(r => (string?)r.Properties["FunctionName"] == functionName);
        return fn.Properties["Role"]!["Fn::GetAtt"]![0]!.GetValue<string>();
    }

    private List<(HashSet<string> Actions, string Resource)> Statements(string roleId)
        => T.Resources(f.Consumers, "AWS::IAM::Policy")
            .Where(p => p.Properties["Roles"]!.AsArray().Any(r => (string?)r!["Ref"] == roleId))
            .SelectMany(p => p.Properties["PolicyDocument"]!["Statement"]!.AsArray())
            .Select(s => (IamPolicyWalker.Actions(s!["Action"]).ToHashSet(), s!["Resource"]!.ToJsonString()))
            .ToList();
}
