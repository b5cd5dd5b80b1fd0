using System.Text;
using CsCheck;

namespace Cloud.Schemas.Tests;

/// <summary>A small model of Avro schemas for generating random schemas and random evolutions of them.</summary>
internal abstract record AType
{
    public abstract string Json();

    public abstract string DefaultJson();
}

internal sealed record APrim(string Name) : AType
{
    public override string Json() => $"\"{Name}\"";

    public override string DefaultJson() => Name switch
    {
        "null" => "null",
        "boolean" => "false",
        "int" or "long" => "1",
        "float" or "double" => "1.5",
        _ => "\"x\"",
    };
}

internal sealed record AEnum(string Name, string[] Symbols, string? Default) : AType
{
    public override string Json() =>
        $"{{\"type\":\"enum\",\"name\":\"{Name}\",\"symbols\":[{string.Join(",", Symbols.Select(s => $"\"{s}\""))}]{(Default is null ? "" : $",\"default\":\"{Default}\"")}}}";

    public override string DefaultJson() => $"\"{Symbols[0]}\"";
}

internal sealed record AFixed(string Name, int Size) : AType
{
    public override string Json() => $"{{\"type\":\"fixed\",\"name\":\"{Name}\",\"size\":{Size}}}";

    public override string DefaultJson() => "\"" + string.Concat(Enumerable.Repeat("a", Size)) + "\"";
}

internal sealed record AArray(AType Items) : AType
{
    public override string Json() => $"{{\"type\":\"array\",\"items\":{Items.Json()}}}";

    public override string DefaultJson() => "[]";
}

internal sealed record AMap(AType Values) : AType
{
    public override string Json() => $"{{\"type\":\"map\",\"values\":{Values.Json()}}}";

    public override string DefaultJson() => "{}";
}

internal sealed record AUnion(AType[] Branches) : AType
{
    public override string Json() => "[" + string.Join(",", Branches.Select(b => b.Json())) + "]";

    public override string DefaultJson() => Branches[0].DefaultJson();
}

internal sealed record AField(string Name, AType Type, bool HasDefault, string[] Aliases)
{
    public string Json() =>
        $"{{\"name\":\"{Name}\",\"type\":{Type.Json()}{(HasDefault ? ",\"default\":" + Type.DefaultJson() : "")}{(Aliases.Length == 0 ? "" : ",\"aliases\":[" + string.Join(",", Aliases.Select(a => $"\"{a}\"")) + "]")}}}";
}

internal sealed record ARecord(string Name, AField[] Fields) : AType
{
    public override string Json() => $"{{\"type\":\"record\",\"name\":\"{Name}\",\"fields\":[{string.Join(",", Fields.Select(f => f.Json()))}]}}";

    public override string DefaultJson()
    {
        var sb = new StringBuilder("{");
        sb.AppendJoin(",", Fields.Select(f => $"\"{f.Name}\":{f.Type.DefaultJson()}"));
        return sb.Append('}').ToString();
    }
}

/// <summary>Generators. Named types get names unique within one schema; an evolution keeps or changes them.</summary>
internal static class AvroSchemaGen
{
    private static readonly string[] Primitives = ["null", "boolean", "int", "long", "float", "double", "string", "bytes"];
    private static readonly string[] Symbols = ["A", "B", "C", "D"];

    private static int s_names;

    private static Gen<string> Pick(params string[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);

    private static string NewName(string prefix) => prefix + Interlocked.Increment(ref s_names);

    public static Gen<AType> Type(int depth) =>
        depth <= 0
            ? Pick(Primitives.Where(p => p != "null").ToArray()).Select(p => (AType)new APrim(p))
            : Gen.Int[0, 9].SelectMany(kind => kind switch
            {
                <= 3 => Pick(Primitives.Where(p => p != "null").ToArray()).Select(p => (AType)new APrim(p)),
                4 => Gen.Int[1, 4].SelectMany(n => Gen.Bool.Select(d => (AType)new AEnum(NewName("E"), Symbols[..n], d ? Symbols[0] : null))),
                5 => Gen.Int[1, 4].Select(n => (AType)new AFixed(NewName("F"), n)),
                6 => Type(depth - 1).Select(t => (AType)new AArray(t)),
                7 => Type(depth - 1).Select(t => (AType)new AMap(t)),
                8 => Pick("int", "string", "long", "double").SelectMany(p => Gen.Bool.Select(nullFirst =>
                    (AType)new AUnion(nullFirst ? [new APrim("null"), new APrim(p)] : [new APrim(p), new APrim("null")]))),
                _ => Record(depth - 1).Select(r => (AType)r),
            });

    public static Gen<ARecord> Record(int depth) =>
        Gen.Int[1, 4].SelectMany(n => Field(depth).Array[n]).Select(fields =>
            new ARecord(NewName("R"), fields.Select((f, i) => f with { Name = "f" + i }).ToArray()));

    private static Gen<AField> Field(int depth) =>
        Type(depth).SelectMany(t => Gen.Bool.Select(d => new AField("f", t, d, [])));

    /// <summary>One random change of the kind schema evolution makes (some compatible, some not).</summary>
    public static Gen<ARecord> Evolve(ARecord record) =>
        Gen.Int[0, 8].SelectMany(op => Gen.Int[0, 1000].SelectMany(pick => Type(1).Select(fresh => Apply(record, op, pick, fresh))));

    private static ARecord Apply(ARecord r, int op, int pick, AType fresh)
    {
        AField[] fields = r.Fields;
        int i = pick % fields.Length;
        switch (op)
        {
            case 0 when Taken(r, "n" + pick):
            case 4 when Taken(r, "m" + pick):
                return r;
            case 0: // add a field, with or without default
                return r with { Fields = [.. fields, new AField("n" + pick, fresh, pick % 2 == 0, [])] };
            case 1: // remove a field
                return fields.Length > 1 ? r with { Fields = fields.Where((_, k) => k != i).ToArray() } : r;
            case 2: // change a field's type to a fresh one
                return r with { Fields = Replace(fields, i, fields[i] with { Type = fresh }) };
            case 3: // promote / demote a primitive
                return r with { Fields = Replace(fields, i, fields[i] with { Type = Promote(fields[i].Type, pick) }) };
            case 4: // rename, keeping the old name as an alias (or not)
                return r with { Fields = Replace(fields, i, fields[i] with { Name = "m" + pick, Aliases = pick % 3 == 0 ? [] : [fields[i].Name] }) };
            case 5: // toggle a default
                return r with { Fields = Replace(fields, i, fields[i] with { HasDefault = !fields[i].HasDefault }) };
            case 6: // make optional / unwrap optional
                return r with
                {
                    Fields = Replace(fields, i, fields[i].Type is AUnion u
                        ? fields[i] with { Type = u.Branches.First(b => b is not APrim { Name: "null" }), HasDefault = false }
                        : fields[i] with { Type = new AUnion([new APrim("null"), fields[i].Type]), HasDefault = pick % 2 == 0 }),
                };
            case 7: // change inside a nested named type
                return r with { Fields = Replace(fields, i, fields[i] with { Type = EvolveInner(fields[i].Type, pick, fresh) }) };
            default:
                return r;
        }
    }

    private static AType EvolveInner(AType t, int pick, AType fresh) => t switch
    {
        AEnum e when pick % 3 == 0 && e.Symbols.Length > 1 => e with { Symbols = e.Symbols[..^1], Default = e.Default is { } d && Array.IndexOf(e.Symbols, d) < e.Symbols.Length - 1 ? d : null },
        AEnum e when pick % 3 == 1 && e.Symbols.Length < Symbols.Length => e with { Symbols = Symbols[..(e.Symbols.Length + 1)] },
        AEnum e => e with { Default = e.Default is null ? e.Symbols[0] : null },
        AFixed f => f with { Size = f.Size + (pick % 2 == 0 ? 1 : 0) },
        ARecord inner => Apply(inner, pick % 7, pick / 7, fresh),
        AArray a => a with { Items = Promote(a.Items, pick) },
        AMap m => m with { Values = Promote(m.Values, pick) },
        _ => t,
    };

    private static AType Promote(AType t, int pick)
    {
        string[] ladder = ["int", "long", "float", "double"];
        return t switch
        {
            APrim { Name: "string" } => new APrim("bytes"),
            APrim { Name: "bytes" } => new APrim("string"),
            APrim p when Array.IndexOf(ladder, p.Name) is var k and >= 0 => new APrim(ladder[(k + 1 + (pick % 3)) % 4]),
            _ => t,
        };
    }

    private static bool Taken(ARecord r, string name) => r.Fields.Any(f => f.Name == name || f.Aliases.Contains(name));

    private static AField[] Replace(AField[] fields, int i, AField with)
    {
        var copy = (AField[])fields.Clone();
        copy[i] = with;
        return copy;
    }
}
