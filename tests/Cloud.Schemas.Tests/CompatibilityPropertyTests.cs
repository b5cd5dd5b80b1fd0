using Avro;
using Cloud.Schemas.Compatibility;
using CsCheck;
using Xunit.Abstractions;

namespace Cloud.Schemas.Tests;

/// <summary>
/// Random Avro schemas and random evolutions of them: the checker's verdict agrees with Apache.Avro's own
/// <c>Schema.CanRead(writer)</c> (the test oracle, a boolean) on every pair the oracle decides, in both directions.
/// Apache.Avro 1.12's <c>CanRead</c> does not decide three cases the specification does, and defers them to read time:
/// a primitive or union reader against a writer union (<c>PrimitiveSchema.CanRead</c> and <c>UnionSchema.CanRead</c> return true for any writer union),
/// enum symbols (<c>EnumSchema.CanRead</c> compares names only) and the string/bytes promotion (which it lacks).
/// Pairs touching those are counted, not compared; the seed tests cover those rules with exact reasons.
/// </summary>
public class CompatibilityPropertyTests(ITestOutputHelper output)
{
    [Fact]
    public void Checker_agrees_with_Apache_Avro_CanRead_on_random_evolutions()
    {
        int compatible = 0, incompatible = 0, undecided = 0;
        Gen.Int[0, 3].SelectMany(d => AvroSchemaGen.Record(d))
            .SelectMany(v1 => AvroSchemaGen.Evolve(v1).SelectMany(AvroSchemaGen.Evolve).Select(v2 => (v1, v2)))
            .Sample(pair =>
            {
                Schema a = Schema.Parse(pair.v1.Json());
                Schema b = Schema.Parse(pair.v2.Json() .Replace(pair.v2.Name, pair.v1.Name, StringComparison.Ordinal));
                foreach ((Schema reader, Schema writer) in new[] { (b, a), (a, b) })
                {
                    bool ours = AvroCompatibility.Check(reader, writer).Count == 0;
                    if (OracleBlind(reader, writer, []))
                    {
                        undecided++;
                        continue;
                    }

                    bool oracle = reader.CanRead(writer);
                    if (ours != oracle)
                    {
                        throw new Xunit.Sdk.XunitException($"checker {ours}, Apache.Avro CanRead {oracle}\nreader {reader}\nwriter {writer}\nissues: {string.Join("; ", AvroCompatibility.Check(reader, writer))}");
                    }

                    if (ours)
                    {
                        compatible++;
                    }
                    else
                    {
                        incompatible++;
                    }
                }
            }, iter: 5000);
        output.WriteLine($"compatible pairs {compatible}, incompatible pairs {incompatible}, not decided by the oracle {undecided}");
        Assert.True(compatible > 500 && incompatible > 500, $"the generator must produce both kinds (compatible {compatible}, incompatible {incompatible})");
    }

    /// <summary>True when resolving <paramref name="reader"/> against <paramref name="writer"/> reaches a case CanRead does not decide.</summary>
    private static bool OracleBlind(Schema reader, Schema writer, HashSet<(string, string)> seen)
    {
        if (writer is UnionSchema wu)
        {
            if (reader is PrimitiveSchema or UnionSchema)
            {
                return true;
            }

            return wu.Schemas.Any(b => OracleBlind(reader, b, seen));
        }

        if (reader is UnionSchema ru)
        {
            return ru.Schemas.Any(b => OracleBlind(b, writer, seen));
        }

        if ((reader.Tag, writer.Tag) is (Schema.Type.String, Schema.Type.Bytes) or (Schema.Type.Bytes, Schema.Type.String))
        {
            return true;
        }

        switch (reader, writer)
        {
            case (EnumSchema re, EnumSchema we):
                return re.Fullname == we.Fullname && we.Symbols.Any(sym => !re.Contains(sym));
            case (ArraySchema ra, ArraySchema wa):
                return OracleBlind(ra.ItemSchema, wa.ItemSchema, seen);
            case (MapSchema rm, MapSchema wm):
                return OracleBlind(rm.ValueSchema, wm.ValueSchema, seen);
            case (RecordSchema rr, RecordSchema wr) when rr.Fullname == wr.Fullname && seen.Add((rr.Fullname, wr.Fullname)):
                foreach (Field f in rr.Fields)
                {
                    Field? w = wr.TryGetField(f.Name, out Field? byName) ? byName : f.Aliases?.Select(a => wr.TryGetField(a, out Field? x) ? x : null).FirstOrDefault(x => x is not null);
                    if (w is not null && OracleBlind(f.Schema, w.Schema, seen))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }
}
