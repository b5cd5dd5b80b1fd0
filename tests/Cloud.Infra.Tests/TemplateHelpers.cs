using System.Text.Json.Nodes;
using Amazon.CDK.Assertions;

namespace Cloud.Infra.Tests;

internal static class T
{
    /// <summary>A JSON-like object for assertions: T.O(("Key", value), ...).</summary>
    public static Dictionary<string, object> O(params (string Key, object Value)[] entries)
        => entries.ToDictionary(e => e.Key, e => e.Value);

    /// <summary>The whole template as JSON.</summary>
    public static JsonObject Json(Template template) => ContextValues.ToJson(template.ToJSON())!.AsObject();

    /// <summary>Resources of one type: logical id → properties.</summary>
    public static IEnumerable<(string Id, JsonObject Properties)> Resources(Template template, string type)
        => Json(template)["Resources"]!.AsObject()
            .Where(kv => (string?)kv.Value!["Type"] == type)
            .Select(kv => (kv.Key, kv.Value!["Properties"]?.AsObject() ?? []));

    public static JsonObject Single(Template template, string type) => Resources(template, type).Single().Properties;
}
