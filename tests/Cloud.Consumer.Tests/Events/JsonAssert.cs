using System.Text.Json.Nodes;

namespace Cloud.Consumer.Tests.Events;

/// <summary>Structural JSON comparison: same properties, same order-insensitive objects, numbers by value.</summary>
internal static class JsonAssert
{
    /// <summary>
    /// Asserts <paramref name="actual"/> equals <paramref name="expected"/>. Inside objects named
    /// <c>state</c>, a number in the expected JSON may be a string with the same text in the actual JSON
    /// (the window state is a string map; AWS's examples show numbers).
    /// </summary>
    public static void Equivalent(JsonNode? expected, JsonNode? actual, string path = "$")
    {
        switch (expected)
        {
            case null:
                Assert.True(actual is null, $"{path}: expected null, got {actual?.ToJsonString()}");
                return;
            case JsonObject eo:
                var ao = Assert.IsType<JsonObject>(actual, exactMatch: false);
                Assert.True(eo.Count == ao.Count,
                    $"{path}: expected properties [{string.Join(",", eo.Select(p => p.Key))}] got [{string.Join(",", ao.Select(p => p.Key))}]");
                foreach (var (name, value) in eo)
                {
                    Assert.True(ao.ContainsKey(name), $"{path}: missing property '{name}'");
                    if (path.EndsWith(".state", StringComparison.Ordinal) && value is JsonValue ev && ev.GetValueKind() == System.Text.Json.JsonValueKind.Number)
                    {
                        Assert.Equal(ev.ToJsonString(), ao[name]!.GetValue<string>());
                        continue;
                    }

                    Equivalent(value, ao[name], $"{path}.{name}");
                }

                return;
            case JsonArray ea:
                var aa = Assert.IsType<JsonArray>(actual, exactMatch: false);
                Assert.True(ea.Count == aa.Count, $"{path}: expected {ea.Count} items, got {aa.Count}");
                for (int i = 0; i < ea.Count; i++)
                {
                    Equivalent(ea[i], aa[i], $"{path}[{i}]");
                }

                return;
            case JsonValue ev2:
                Assert.NotNull(actual);
                var av = Assert.IsType<JsonValue>(actual, exactMatch: false);
                Assert.True(ev2.GetValueKind() == av.GetValueKind(), $"{path}: expected {ev2.GetValueKind()} got {av.GetValueKind()}");
                if (ev2.GetValueKind() == System.Text.Json.JsonValueKind.Number)
                {
                    Assert.True(decimal.Parse(ev2.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture)
                                == decimal.Parse(av.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture),
                        $"{path}: expected {ev2.ToJsonString()} got {av.ToJsonString()}");
                }
                else
                {
                    Assert.True(ev2.ToJsonString() == av.ToJsonString(), $"{path}: expected {ev2.ToJsonString()} got {av.ToJsonString()}");
                }

                return;
        }
    }
}
