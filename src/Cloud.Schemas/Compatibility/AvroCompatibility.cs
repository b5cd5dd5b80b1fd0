using Avro;

namespace Cloud.Schemas.Compatibility;

/// <summary>
/// Decides whether an Avro reader schema can read data written with a writer schema, following the Avro
/// specification's schema resolution rules (https://avro.apache.org/docs/1.12.0/specification/#schema-resolution):
/// <list type="bullet">
/// <item>primitives: equal types, or the promotions int→long/float/double, long→float/double, float→double, string↔bytes;</item>
/// <item>records: same full name (or the writer's name among the reader's aliases); each reader field is read from the
/// writer field of the same name (or one of the reader field's aliases) or else needs a default; writer fields the reader
/// lacks are skipped;</item>
/// <item>enums: same name; every writer symbol is a reader symbol, unless the reader has an enum default;</item>
/// <item>arrays/maps: the items/values resolve; fixed: same name and size;</item>
/// <item>unions: every branch of a writer union must resolve; a non-union writer must match some reader branch.</item>
/// </list>
/// Unlike Apache.Avro's <c>Schema.CanRead</c> (a boolean), it returns every reason, with the field path.
/// </summary>
public static class AvroCompatibility
{
    /// <summary>The reasons <paramref name="reader"/> cannot read data written with <paramref name="writer"/>; empty when it can.</summary>
    public static IReadOnlyList<CompatibilityIssue> Check(Schema reader, Schema writer)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(writer);
        var issues = new List<CompatibilityIssue>();
        Check(reader, writer, "$", issues, new HashSet<(string, string)>());
        return issues;
    }

    private static void Check(Schema reader, Schema writer, string path, List<CompatibilityIssue> issues, HashSet<(string, string)> visiting)
    {
        reader = reader is LogicalSchema lr ? lr.BaseSchema : reader;
        writer = writer is LogicalSchema lw ? lw.BaseSchema : writer;

        if (writer is UnionSchema writerUnion)
        {
            // Each branch the writer may have picked must be readable.
            for (int i = 0; i < writerUnion.Count; i++)
            {
                Check(reader, writerUnion.Schemas[i], path, issues, visiting);
            }

            return;
        }

        if (reader is UnionSchema readerUnion)
        {
            Schema? match = readerUnion.Schemas.FirstOrDefault(b => Matches(b is LogicalSchema l ? l.BaseSchema : b, writer));
            if (match is null)
            {
                issues.Add(new CompatibilityIssue(path, "MISSING_UNION_BRANCH",
                    $"the reader's union [{string.Join(", ", readerUnion.Schemas.Select(Name))}] has no branch for the writer's {Name(writer)}"));
                return;
            }

            Check(match, writer, path, issues, visiting);
            return;
        }

        if (!Matches(reader, writer))
        {
            string rule = reader.Tag == writer.Tag && reader is NamedSchema ? "NAME_MISMATCH" : "TYPE_MISMATCH";
            issues.Add(new CompatibilityIssue(path, rule, $"the reader expects {Name(reader)} but the writer wrote {Name(writer)}"));
            return;
        }

        switch (reader)
        {
            case RecordSchema readerRecord:
                {
                    var writerRecord = (RecordSchema)writer;
                    if (!visiting.Add((readerRecord.Fullname, writerRecord.Fullname)))
                    {
                        return; // a recursive record already under check
                    }

                    foreach (Field readerField in readerRecord.Fields)
                    {
                        string fieldPath = path + "." + readerField.Name;
                        Field? writerField = FindWriterField(writerRecord, readerField);
                        if (writerField is not null)
                        {
                            Check(readerField.Schema, writerField.Schema, fieldPath, issues, visiting);
                        }
                        else if (readerField.DefaultValue is null)
                        {
                            issues.Add(new CompatibilityIssue(fieldPath, "READER_FIELD_MISSING_DEFAULT_VALUE",
                                $"the reader's field '{readerField.Name}' is not in the writer's record {writerRecord.Fullname} and has no default"));
                        }
                    }

                    visiting.Remove((readerRecord.Fullname, writerRecord.Fullname));
                    return;
                }

            case EnumSchema readerEnum:
                {
                    var writerEnum = (EnumSchema)writer;
                    if (readerEnum.Default is not null)
                    {
                        return; // unknown symbols resolve to the reader's default
                    }

                    List<string> missing = writerEnum.Symbols.Where(s => !readerEnum.Contains(s)).ToList();
                    if (missing.Count > 0)
                    {
                        issues.Add(new CompatibilityIssue(path, "MISSING_ENUM_SYMBOLS",
                            $"the reader's enum {readerEnum.Fullname} lacks the writer's symbols {string.Join(", ", missing)} and has no default"));
                    }

                    return;
                }

            case ArraySchema readerArray:
                Check(readerArray.ItemSchema, ((ArraySchema)writer).ItemSchema, path + "[]", issues, visiting);
                return;
            case MapSchema readerMap:
                Check(readerMap.ValueSchema, ((MapSchema)writer).ValueSchema, path + "{}", issues, visiting);
                return;
            case FixedSchema readerFixed:
                {
                    var writerFixed = (FixedSchema)writer;
                    if (readerFixed.Size != writerFixed.Size)
                    {
                        issues.Add(new CompatibilityIssue(path, "FIXED_SIZE_MISMATCH",
                            $"the reader's fixed {readerFixed.Fullname} has {readerFixed.Size} bytes, the writer's {writerFixed.Size}"));
                    }

                    return;
                }
        }
    }

    private static Field? FindWriterField(RecordSchema writer, Field readerField)
    {
        if (writer.TryGetField(readerField.Name, out Field? byName))
        {
            return byName;
        }

        foreach (string alias in readerField.Aliases ?? [])
        {
            if (writer.TryGetField(alias, out Field? byAlias))
            {
                return byAlias;
            }
        }

        return null;
    }

    /// <summary>The spec's "match" of a reader and a (non-union) writer schema, before recursion.</summary>
    private static bool Matches(Schema reader, Schema writer)
    {
        if (reader is UnionSchema)
        {
            return false;
        }

        return (reader.Tag, writer.Tag) switch
        {
            (Schema.Type.Record, Schema.Type.Record) or (Schema.Type.Enumeration, Schema.Type.Enumeration) or (Schema.Type.Fixed, Schema.Type.Fixed)
                => NamesMatch((NamedSchema)reader, (NamedSchema)writer),
            (Schema.Type.Array, Schema.Type.Array) or (Schema.Type.Map, Schema.Type.Map) => true,
            (Schema.Type.Long, Schema.Type.Int) => true,
            (Schema.Type.Float, Schema.Type.Int or Schema.Type.Long) => true,
            (Schema.Type.Double, Schema.Type.Int or Schema.Type.Long or Schema.Type.Float) => true,
            (Schema.Type.String, Schema.Type.Bytes) or (Schema.Type.Bytes, Schema.Type.String) => true,
            var (r, w) => r == w && reader is PrimitiveSchema,
        };
    }

    private static bool NamesMatch(NamedSchema reader, NamedSchema writer) =>
        reader.Fullname == writer.Fullname || Aliases(reader).Any(alias =>
            alias == writer.Fullname || (!alias.Contains('.', StringComparison.Ordinal) && QualifiedIn(reader.Namespace, alias) == writer.Fullname));

    private static string QualifiedIn(string? space, string name) => string.IsNullOrEmpty(space) ? name : space + "." + name;

    // Apache.Avro keeps a named schema's aliases non-public; they are read back from its JSON rendering.
    private static IEnumerable<string> Aliases(NamedSchema schema)
    {
        var json = Newtonsoft.Json.Linq.JObject.Parse(schema.ToString());
        return json["aliases"] is Newtonsoft.Json.Linq.JArray aliases
            ? aliases.Select(a => a.ToString())
            : [];
    }

    private static string Name(Schema schema) => schema switch
    {
        NamedSchema named => $"{named.Tag.ToString().ToLowerInvariant()} {named.Fullname}",
        LogicalSchema logical => logical.LogicalTypeName,
        UnionSchema union => $"union [{string.Join(", ", union.Schemas.Select(Name))}]",
        _ => schema.Tag.ToString().ToLowerInvariant(),
    };
}
