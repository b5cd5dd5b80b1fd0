using Amazon.CDK;
using Amazon.CDK.Assertions;
using Amazon.CDK.AWS.IAM;

namespace Cloud.Infra.Tests;

[Collection(DefaultStacksCollection.Name)]
public class SecurityTests(DefaultStacksFixture f)
{
    [Fact]
    public void No_policy_in_any_stack_allows_a_wildcard_action()
    {
        var documents = 0;
        var findings = new List<string>();
        foreach (var (name, template) in f.All)
        {
            var json = T.Json(template);
            documents += IamPolicyWalker.Documents(json).Count();
            findings.AddRange(IamPolicyWalker.WildcardAllows(json).Select(x => $"{name}: {x.Resource} {x.Where}: {x.Action}"));
        }

        Assert.True(findings.Count == 0, "Wildcard actions:\n" + string.Join("\n", findings));
        // 2 function policies + 2 roles + 2 queue policies + 2 key policies at least: the walk really saw them.
        Assert.True(documents >= 8, $"only {documents} policy documents found");
    }

    [Fact]
    public void The_walker_catches_wildcards_it_is_meant_to_catch()
    {
        _ = InfraTestEnvironment.RepositoryRoot;
        var app = new App(new AppProps { AnalyticsReporting = false });
        var stack = new Stack(app, "Probe");
        var role = new Role(stack, "Role", new RoleProps { AssumedBy = new ServicePrincipal("lambda.amazonaws.com") });
        role.AddToPolicy(new PolicyStatement(new PolicyStatementProps { Actions = ["kinesis:*"], Resources = ["*"] }));
        role.AddToPolicy(new PolicyStatement(new PolicyStatementProps { Actions = ["kms:GenerateDataKey*"], Resources = ["*"] }));
        role.AddToPolicy(new PolicyStatement(new PolicyStatementProps { Actions = ["*"], Resources = ["*"] }));
        role.AddToPolicy(new PolicyStatement(new PolicyStatementProps { Effect = Effect.DENY, Actions = ["sqs:*"], Resources = ["*"] }));

        var findings = IamPolicyWalker.WildcardAllows(T.Json(Template.FromStack(stack))).Select(x => x.Action).ToArray();

        Assert.Equal(["kinesis:*", "kms:GenerateDataKey*", "*"], findings);
    }

    [Fact]
    public void Every_stream_table_and_queue_is_encrypted()
    {
        var count = 0;
        foreach (var (name, template) in f.All)
        {
            foreach (var (id, p) in T.Resources(template, "AWS::Kinesis::Stream"))
            {
                count++;
                Assert.True((string?)p["StreamEncryption"]?["EncryptionType"] == "KMS", $"{name}/{id} stream not KMS-encrypted");
            }

            foreach (var (id, p) in T.Resources(template, "AWS::DynamoDB::Table"))
            {
                count++;
                Assert.True(p["SSESpecification"]?["SSEEnabled"]?.GetValue<bool>() == true, $"{name}/{id} table not KMS-encrypted");
            }

            foreach (var (id, p) in T.Resources(template, "AWS::SQS::Queue"))
            {
                count++;
                Assert.True(p["SqsManagedSseEnabled"]?.GetValue<bool>() == true || p["KmsMasterKeyId"] is not null, $"{name}/{id} queue not encrypted");
            }
        }

        Assert.Equal(2 + 3 + 2, count); // streams; key, aggregates and schema tables; failure queues
    }

    [Fact]
    public void Key_policies_name_their_actions_and_keep_administration_with_the_account()
    {
        foreach (var template in new[] { f.Streams, f.Privacy })
        {
            template.HasResourceProperties("AWS::KMS::Key", T.O(("KeyPolicy", T.O(("Statement", Match.ArrayWith(new object[]
            {
                Match.ObjectLike(T.O(("Sid", "KeyAdministration"), ("Action", Match.ArrayWith(new object[] { "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion" })))),
                Match.ObjectLike(T.O(("Sid", "UseThroughIamPolicies"), ("Action", Match.ArrayWith(new object[] { "kms:Decrypt", "kms:GenerateDataKey" })))),
            }))))));
        }
    }
}
