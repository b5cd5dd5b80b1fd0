using System.Collections;
using System.Globalization;
using System.Text.Json.Nodes;
using Constructs;

namespace Cloud.Infra;

/// <summary>
/// Reads CDK context (cdk.json "context" or <c>-c key=value</c>) as JSON. jsii hands objects over as dictionaries and
/// the CLI hands <c>-c</c> values over as strings, so both are turned into <see cref="JsonNode"/>.
/// </summary>
public static class ContextValues
{
    /// <summary>The context value under <paramref name="key"/> as JSON, or <see langword="null"/> when absent.</summary>
    public static JsonNode? Get(Node node, string key)
    {
        ArgumentNullException.ThrowIfNull(node);
        return ToJson(node.TryGetContext(key));
    }

    /// <summary>Converts a jsii context value (dictionary, array, string, number, bool) to JSON.</summary>
    public static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        JsonNode n => n,
        string s => ParseString(s),
        bool b => JsonValue.Create(b),
        double d => JsonValue.Create(d),
        float f => JsonValue.Create((double)f),
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        decimal m => JsonValue.Create(m),
        IDictionary dict => ToObject(dict),
        IEnumerable list => new JsonArray(list.Cast<object?>().Select(ToJson).ToArray()),
        _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };

    private static JsonObject ToObject(IDictionary dict)
    {
        var o = new JsonObject();
        foreach (DictionaryEntry e in dict)
        {
            o[Convert.ToString(e.Key, CultureInfo.InvariantCulture)!] = ToJson(e.Value);
        }

        return o;
    }

    // `-c cloud:workload={"peakRecordsPerSecond":1}` arrives as text; `-c cloud:retentionHours=48` as "48".
    private static JsonNode? ParseString(string s)
    {
        var t = s.Trim();
        if (t.Length > 0 && (t[0] is '{' or '[' || t is "true" or "false" || double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
        {
            try
            {
                return JsonNode.Parse(t);
            }
            catch (System.Text.Json.JsonException)
            {
                return JsonValue.Create(s);
            }
        }

        return JsonValue.Create(s);
    }
}
