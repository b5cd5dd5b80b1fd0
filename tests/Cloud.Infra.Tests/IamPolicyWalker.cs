using System.Text.Json.Nodes;

namespace Cloud.Infra.Tests;

/// <summary>Finds every policy document in a template (identity and resource policies) and its Allow actions.</summary>
internal static class IamPolicyWalker
{
    public sealed record Finding(string Resource, string Where, string Action);

    /// <summary>Policy documents: IAM policies, role inline and trust policies, managed policies, queue, topic, stream and key policies.</summary>
    public static IEnumerable<(string Resource, string Where, JsonObject Document)> Documents(JsonObject template)
    {
        foreach (var (id, node) in template["Resources"]?.AsObject() ?? [])
        {
            var type = (string?)node!["Type"];
            var props = node["Properties"] as JsonObject;
            if (props is null)
            {
                continue;
            }

            foreach (var (where, doc) in DocumentsOf(type, props))
            {
                if (doc is JsonObject o)
                {
                    yield return ($"{id} ({type})", where, o);
                }
            }
        }
    }

    /// <summary>Allow statements whose action (or NotAction) has a wildcard: "*", "service:*" or a prefix like "kms:ReEncrypt*".</summary>
    public static IEnumerable<Finding> WildcardAllows(JsonObject template)
    {
        foreach (var (resource, where, doc) in Documents(template))
        {
            foreach (var st in Statements(doc))
            {
                if ((string?)st["Effect"] != "Allow")
                {
                    continue;
                }

                if (st["NotAction"] is not null)
                {
                    yield return new Finding(resource, where, "NotAction " + st["NotAction"]!.ToJsonString());
                }

                foreach (var action in Actions(st["Action"]))
                {
                    if (action.Contains('*', StringComparison.Ordinal))
                    {
                        yield return new Finding(resource, where, action);
                    }
                }
            }
        }
    }

    public static IEnumerable<string> Actions(JsonNode? action) => action switch
    {
        null => [],
        JsonArray a => a.Select(x => x!.GetValue<string>()),
        _ => [action.GetValue<string>()],
    };

    private static IEnumerable<JsonObject> Statements(JsonObject doc) => doc["Statement"] switch
    {
        JsonArray a => a.OfType<JsonObject>(),
        JsonObject o => [o],
        _ => [],
    };

    private static IEnumerable<(string Where, JsonNode? Document)> DocumentsOf(string? type, JsonObject p)
    {
        switch (type)
        {
            case "AWS::IAM::Policy":
            case "AWS::IAM::ManagedPolicy":
            case "AWS::SQS::QueuePolicy":
            case "AWS::SNS::TopicPolicy":
                yield return ("PolicyDocument", p["PolicyDocument"]);
                break;
            case "AWS::IAM::Role":
            case "AWS::IAM::User":
            case "AWS::IAM::Group":
                yield return ("AssumeRolePolicyDocument", p["AssumeRolePolicyDocument"]);
                foreach (var inline in p["Policies"]?.AsArray() ?? [])
                {
                    yield return ("Policies", inline!["PolicyDocument"]);
                }

                break;
            case "AWS::KMS::Key":
                yield return ("KeyPolicy", p["KeyPolicy"]);
                break;
            case "AWS::Kinesis::ResourcePolicy":
            case "AWS::DynamoDB::ResourcePolicy":
                yield return ("ResourcePolicy", p["ResourcePolicy"]);
                break;
        }
    }
}
