using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cloud.Infra;

/// <summary>Thrown when the CDK context has invalid settings; lists every problem with its context key.</summary>
public sealed class InfraConfigException : Exception
{
    /// <summary>Creates the exception from the problems found.</summary>
    public InfraConfigException(IReadOnlyList<string> problems)
        : base("Invalid CDK context (" + problems.Count + " problem" + (problems.Count == 1 ? "" : "s") + "):\n  - " + string.Join("\n  - ", problems))
    {
        Problems = problems;
    }

    /// <summary>Creates the exception with one message.</summary>
    public InfraConfigException(string message)
        : base(message)
    {
        Problems = [message];
    }

    /// <summary>Creates the exception with one message and an inner exception.</summary>
    public InfraConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    /// <summary>Creates the exception with a generic message.</summary>
    public InfraConfigException()
        : this("Invalid CDK context.")
    {
    }

    /// <summary>Every problem, each starting with the context key it concerns (e.g. <c>cloud:aggregatorEventSource.batchSize</c>).</summary>
    public IReadOnlyList<string> Problems { get; }
}

/// <summary>Reads typed values out of JSON context objects, collecting problems instead of stopping at the first.</summary>
internal sealed class ConfigReader
{
    public List<string> Problems { get; } = [];

    public void Add(string path, string message) => Problems.Add($"{path}: {message}");

    /// <summary>The object at <paramref name="path"/>, or an empty one when absent; reports keys not in <paramref name="known"/>.</summary>
    public JsonObject Object(JsonNode? node, string path, params string[] known)
    {
        if (node is null)
        {
            return [];
        }

        if (node is not JsonObject o)
        {
            Add(path, $"must be a JSON object, got {Describe(node)}.");
            return [];
        }

        foreach (var kv in o)
        {
            if (!known.Contains(kv.Key, StringComparer.Ordinal))
            {
                Add($"{path}.{kv.Key}", $"is not a known setting (known: {string.Join(", ", known)}).");
            }
        }

        return o;
    }

    public double Number(JsonObject o, string path, string name, double? fallback, double min, double max)
    {
        var full = $"{path}.{name}";
        if (!o.TryGetPropertyValue(name, out var n) || n is null)
        {
            if (fallback is null)
            {
                Add(full, "is required.");
                return double.NaN;
            }

            return fallback.Value;
        }

        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.Number && TryNumber(v, out var d))
        {
            if (d < min || d > max || !double.IsFinite(d))
            {
                Add(full, $"must be between {F(min)} and {F(max)}, got {F(d)}.");
            }

            return d;
        }

        Add(full, $"must be a number, got {Describe(n)}.");
        return fallback ?? double.NaN;
    }

    public int Int(JsonObject o, string path, string name, int fallback, int min, int max)
    {
        var full = $"{path}.{name}";
        if (!o.TryGetPropertyValue(name, out var n) || n is null)
        {
            return fallback;
        }

        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.Number && TryNumber(v, out var d))
        {
            if (d != Math.Floor(d))
            {
                Add(full, $"must be a whole number, got {F(d)}.");
                return fallback;
            }

            if (d < min || d > max)
            {
                Add(full, $"must be between {min} and {max}, got {F(d)}.");
                return fallback;
            }

            return (int)d;
        }

        Add(full, $"must be a whole number, got {Describe(n)}.");
        return fallback;
    }

    public bool Bool(JsonObject o, string path, string name, bool fallback)
    {
        if (!o.TryGetPropertyValue(name, out var n) || n is null)
        {
            return fallback;
        }

        if (n is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
        {
            return v.GetValue<bool>();
        }

        Add($"{path}.{name}", $"must be true or false, got {Describe(n)}.");
        return fallback;
    }

    public string String(JsonObject o, string path, string name, string fallback, params string[] allowed)
    {
        if (!o.TryGetPropertyValue(name, out var n) || n is null)
        {
            return fallback;
        }

        return StringValue(n, $"{path}.{name}", fallback, allowed);
    }

    public string StringValue(JsonNode? n, string path, string fallback, params string[] allowed)
    {
        if (n is null)
        {
            return fallback;
        }

        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            var s = v.GetValue<string>();
            if (allowed.Length > 0 && !allowed.Contains(s, StringComparer.Ordinal))
            {
                Add(path, $"must be one of {string.Join(", ", allowed)}, got '{s}'.");
                return fallback;
            }

            return s;
        }

        Add(path, $"must be a string, got {Describe(n)}.");
        return fallback;
    }

    public int IntValue(JsonNode? n, string path, int fallback, int min, int max)
    {
        if (n is null)
        {
            return fallback;
        }

        var wrapper = new JsonObject { ["v"] = n.DeepClone() };
        var problemsBefore = Problems.Count;
        var value = Int(wrapper, path, "v", fallback, min, max);
        for (var i = problemsBefore; i < Problems.Count; i++)
        {
            Problems[i] = Problems[i].Replace($"{path}.v:", $"{path}:", StringComparison.Ordinal);
        }

        return value;
    }

    public void ThrowIfAny()
    {
        if (Problems.Count > 0)
        {
            throw new InfraConfigException(Problems.ToArray());
        }
    }

    // A JsonValue built from an int (not parsed) refuses TryGetValue<double>; its JSON text is always a number.
    private static bool TryNumber(JsonValue v, out double d)
        => double.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out d);

    private static string F(double d) => d.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Describe(JsonNode n) => n switch
    {
        JsonObject => "an object",
        JsonArray => "an array",
        JsonValue v => v.GetValueKind() == JsonValueKind.String ? $"'{v.GetValue<string>()}'" : v.ToJsonString(),
        _ => n.ToJsonString(),
    };
}
