namespace Cloud.Schemas.Tests;

/// <summary>
/// The seeds' examples ("Apache Avro" and "Schema Evolution and Compatibility" in the course notes): the stock ticker
/// price change schema, and BACKWARD / FORWARD / FULL as the notes define them:
/// <list type="bullet">
/// <item>backward: "consumer code developed against the most recent version ... can use data using the prior version";
/// "the deletion of a field or the addition of a new optional field is backward compatible";</item>
/// <item>forward: "consumer code developed against the previous version ... can consume data using the newest version";
/// "the deletion of an optional field or the addition of a new field is forward compatible";</item>
/// <item>full: both.</item>
/// </list>
/// (The notes' second "BACKWARD_TRANSITIVE" bullet under forward compatibility describes FORWARD_TRANSITIVE, Glue's
/// FORWARD_ALL; it is tested as such below.)
/// </summary>
public class CompatibilitySeedTests
{
    private const string StockV1 = """
        {
          "type": "record",
          "name": "stock.price_change",
          "namespace": "com.udacity",
          "fields": [
              {"name": "ticker", "type": "string"},
              {"name": "prev_price", "type": "int"},
              {"name": "price", "type": "int"},
              {"name": "cause", "type": ["null", "string"]}
          ]
        }
        """;

    private static string Stock(string fields) => $$"""{"type":"record","name":"stock.price_change","namespace":"com.udacity","fields":[{{fields}}]}""";

    private const string Ticker = """{"name": "ticker", "type": "string"}""";
    private const string Prev = """{"name": "prev_price", "type": "int"}""";
    private const string Price = """{"name": "price", "type": "int"}""";
    private const string Cause = """{"name": "cause", "type": ["null", "string"]}""";
    private const string CauseWithDefault = """{"name": "cause", "type": ["null", "string"], "default": null}""";

    private static SchemaVersion V(int number, string definition) => new()
    {
        VersionId = Guid.NewGuid(),
        SchemaName = "stock.price_change",
        VersionNumber = number,
        Format = SchemaFormat.Avro,
        Definition = SchemaDefinitions.Normalize(SchemaFormat.Avro, definition),
    };

    private static CompatibilityResult Check(CompatibilityMode mode, string next, params string[] earlier) =>
        CompatibilityChecker.Check(mode, SchemaFormat.Avro, next, earlier.Select((d, i) => V(i + 1, d)).ToList());

    [Fact]
    public void The_stock_ticker_schema_parses_and_a_record_round_trips()
    {
        GsrSerializer serializer = GsrSerializer.For(V(1, StockV1));
        byte[] bytes = serializer.Serialize("""{"ticker":"AMZN","prev_price":100,"price":101,"cause":null}""");
        Assert.Equal(GsrWireFormat.HeaderLength + 1 + 4 + 2 + 2 + 1, bytes.Length); // "AMZN" = len + 4, ints zig-zag
        var decoded = new GsrDeserializer(new InMemoryRegistry(serializer.Version)).DecodeAsync(bytes).AsTask().Result;
        Assert.Equal("""{"ticker":"AMZN","prev_price":100,"price":101,"cause":null}""", System.Text.Encoding.UTF8.GetString(decoded.Json.Span));
    }

    [Fact]
    public void Backward_deleting_a_field_is_compatible() =>
        Assert.True(Check(CompatibilityMode.Backward, Stock($"{Ticker},{Price},{Cause}"), StockV1).IsCompatible);

    [Fact]
    public void Backward_adding_an_optional_field_is_compatible() =>
        Assert.True(Check(CompatibilityMode.Backward, Stock($$"""{{Ticker}},{{Prev}},{{Price}},{{Cause}},{"name":"exchange","type":["null","string"],"default":null}"""), StockV1).IsCompatible);

    [Fact]
    public void Backward_adding_a_required_field_is_refused_with_the_field_rule_and_version()
    {
        CompatibilityResult result = Check(CompatibilityMode.Backward, Stock($$"""{{Ticker}},{{Prev}},{{Price}},{{Cause}},{"name":"exchange","type":"string"}"""), StockV1);
        CompatibilityViolation violation = Assert.Single(result.Violations);
        Assert.Equal("$.exchange", violation.Issue.Path);
        Assert.Equal("READER_FIELD_MISSING_DEFAULT_VALUE", violation.Issue.Rule);
        Assert.Equal(1, violation.AgainstVersion);
        Assert.Equal(CompatibilityDirection.NewReadsOld, violation.Direction);
    }

    [Fact]
    public void Forward_adding_a_new_field_is_compatible() =>
        Assert.True(Check(CompatibilityMode.Forward, Stock($$"""{{Ticker}},{{Prev}},{{Price}},{{Cause}},{"name":"exchange","type":"string"}"""), StockV1).IsCompatible);

    [Fact]
    public void Forward_deleting_an_optional_field_is_compatible() =>
        Assert.True(Check(CompatibilityMode.Forward, Stock($"{Ticker},{Prev},{Price}"), Stock($"{Ticker},{Prev},{Price},{CauseWithDefault}")).IsCompatible);

    [Fact]
    public void Forward_deleting_a_required_field_is_refused()
    {
        CompatibilityResult result = Check(CompatibilityMode.Forward, Stock($"{Ticker},{Price},{Cause}"), StockV1);
        CompatibilityViolation violation = Assert.Single(result.Violations);
        Assert.Equal("$.prev_price", violation.Issue.Path);
        Assert.Equal(CompatibilityDirection.OldReadsNew, violation.Direction);
    }

    [Fact]
    public void Full_needs_both_directions()
    {
        Assert.True(Check(CompatibilityMode.Full, Stock($$"""{{Ticker}},{{Prev}},{{Price}},{{Cause}},{"name":"exchange","type":"string","default":"NYSE"}"""), StockV1).IsCompatible);
        Assert.False(Check(CompatibilityMode.Full, Stock($"{Ticker},{Price},{Cause}"), StockV1).IsCompatible); // backward yes, forward no
        Assert.False(Check(CompatibilityMode.Full, Stock($$"""{{Ticker}},{{Prev}},{{Price}},{{Cause}},{"name":"exchange","type":"string"}"""), StockV1).IsCompatible); // forward yes, backward no
    }

    [Fact]
    public void Backward_compares_with_the_latest_only_and_backward_all_with_every_version()
    {
        string v2 = Stock($"{Ticker},{Price},{Cause}"); // prev_price dropped
        string v3 = Stock($"{Ticker},{Prev},{Price},{Cause}"); // prev_price back, without default
        Assert.False(Check(CompatibilityMode.Backward, v3, StockV1, v2).IsCompatible);
        string v3WithDefault = Stock($$"""{{Ticker}},{"name":"prev_price","type":"int","default":0},{{Price}},{{Cause}}""");
        Assert.True(Check(CompatibilityMode.Backward, v3WithDefault, StockV1, v2).IsCompatible);

        string v2b = Stock($"{Ticker},{Prev},{Price},{Cause}");
        string v3b = Stock($$"""{{Ticker}},{{Price}},{{Cause}}""");
        Assert.True(Check(CompatibilityMode.Backward, v3b, StockV1, v2b).IsCompatible);
        Assert.True(Check(CompatibilityMode.BackwardAll, v3b, StockV1, v2b).IsCompatible);
    }

    [Fact]
    public void Forward_all_is_what_the_notes_call_transitive_data_from_the_latest_readable_by_every_earlier_consumer()
    {
        string v2 = Stock($$"""{{Ticker}},{{Prev}},{{Price}},{{CauseWithDefault}}""");
        string v3 = Stock($"{Ticker},{Prev},{Price}"); // drops cause: v2 has a default for it, v1 does not
        Assert.True(Check(CompatibilityMode.Forward, v3, StockV1, v2).IsCompatible);
        CompatibilityResult all = Check(CompatibilityMode.ForwardAll, v3, StockV1, v2);
        CompatibilityViolation violation = Assert.Single(all.Violations);
        Assert.Equal(1, violation.AgainstVersion);
        Assert.Equal("$.cause", violation.Issue.Path);
    }

    [Theory]
    [InlineData("long", true)]
    [InlineData("float", true)]
    [InlineData("double", true)]
    [InlineData("string", false)]
    public void Backward_type_promotion_of_prev_price_int(string to, bool compatible)
    {
        CompatibilityResult result = Check(CompatibilityMode.Backward, Stock($$"""{{Ticker}},{"name":"prev_price","type":"{{to}}"},{{Price}},{{Cause}}"""), StockV1);
        Assert.Equal(compatible, result.IsCompatible);
        if (!compatible)
        {
            Assert.Equal("TYPE_MISMATCH", Assert.Single(result.Violations).Issue.Rule);
        }
    }

    [Fact]
    public void Narrowing_long_to_int_is_refused_backward_and_accepted_forward()
    {
        string wide = Stock($$"""{{Ticker}},{"name":"prev_price","type":"long"},{{Price}},{{Cause}}""");
        Assert.False(Check(CompatibilityMode.Backward, StockV1, wide).IsCompatible);
        Assert.True(Check(CompatibilityMode.Forward, StockV1, wide).IsCompatible);
    }

    [Fact]
    public void Making_a_field_optional_is_backward_but_not_forward()
    {
        string optionalTicker = Stock($$"""{"name":"ticker","type":["null","string"],"default":null},{{Prev}},{{Price}},{{Cause}}""");
        Assert.True(Check(CompatibilityMode.Backward, optionalTicker, StockV1).IsCompatible);
        CompatibilityResult forward = Check(CompatibilityMode.Forward, optionalTicker, StockV1);
        Assert.Equal("$.ticker", Assert.Single(forward.Violations).Issue.Path);
    }

    [Fact]
    public void Renaming_a_field_with_an_alias_is_backward_compatible()
    {
        string renamed = Stock($$"""{"name":"symbol","type":"string","aliases":["ticker"]},{{Prev}},{{Price}},{{Cause}}""");
        Assert.True(Check(CompatibilityMode.Backward, renamed, StockV1).IsCompatible);
        Assert.False(Check(CompatibilityMode.Backward, Stock($$"""{"name":"symbol","type":"string"},{{Prev}},{{Price}},{{Cause}}"""), StockV1).IsCompatible);
    }

    [Fact]
    public void Enums_nested_records_and_disabled()
    {
        static string WithSide(string symbols, string? dflt = null)
        {
            string enumDefault = dflt is null ? "" : $",\"default\":\"{dflt}\"";
            string side = "{\"name\":\"side\",\"type\":{\"type\":\"record\",\"name\":\"Trade\",\"fields\":[{\"name\":\"kind\",\"type\":{\"type\":\"enum\",\"name\":\"Side\",\"symbols\":[" + symbols + "]" + enumDefault + "}}]}}";
            return Stock(Ticker + "," + side);
        }

        CompatibilityResult removed = Check(CompatibilityMode.Backward, WithSide("\"BUY\""), WithSide("\"BUY\",\"SELL\""));
        CompatibilityViolation v = Assert.Single(removed.Violations);
        Assert.Equal("$.side.kind", v.Issue.Path);
        Assert.Equal("MISSING_ENUM_SYMBOLS", v.Issue.Rule);
        Assert.True(Check(CompatibilityMode.Backward, WithSide("\"BUY\"", "BUY"), WithSide("\"BUY\",\"SELL\"")).IsCompatible);
        Assert.True(Check(CompatibilityMode.Backward, WithSide("\"BUY\",\"SELL\""), WithSide("\"BUY\"")).IsCompatible);

        Assert.Equal("VERSIONING_DISABLED", Assert.Single(Check(CompatibilityMode.Disabled, StockV1, StockV1).Violations).Issue.Rule);
        Assert.True(Check(CompatibilityMode.None, """{"type":"record","name":"x","fields":[]}""", StockV1).IsCompatible);
    }

    [Fact]
    public void Json_schema_subset()
    {
        static SchemaVersion J(int n, string d) => new() { VersionId = Guid.NewGuid(), SchemaName = "j", VersionNumber = n, Format = SchemaFormat.Json, Definition = d };
        const string v1 = """{"type":"object","properties":{"id":{"type":"integer"},"page":{"type":"string"}},"required":["id"]}""";
        string addOptional = """{"type":"object","properties":{"id":{"type":"integer"},"page":{"type":"string"},"ref":{"type":"string"}},"required":["id"]}""";
        string addRequired = """{"type":"object","properties":{"id":{"type":"integer"},"page":{"type":"string"},"ref":{"type":"string"}},"required":["id","ref"]}""";
        string widen = """{"type":"object","properties":{"id":{"type":"number"},"page":{"type":"string"}},"required":["id"]}""";
        Assert.True(CompatibilityChecker.Check(CompatibilityMode.Backward, SchemaFormat.Json, addOptional, [J(1, v1)]).IsCompatible);
        CompatibilityViolation required = Assert.Single(CompatibilityChecker.Check(CompatibilityMode.Backward, SchemaFormat.Json, addRequired, [J(1, v1)]).Violations);
        Assert.Equal(("$.ref", "READER_REQUIRES_FIELD"), (required.Issue.Path, required.Issue.Rule));
        Assert.True(CompatibilityChecker.Check(CompatibilityMode.Backward, SchemaFormat.Json, widen, [J(1, v1)]).IsCompatible);
        CompatibilityViolation narrow = Assert.Single(CompatibilityChecker.Check(CompatibilityMode.Forward, SchemaFormat.Json, widen, [J(1, v1)]).Violations);
        Assert.Equal(("$.id", "TYPE_MISMATCH"), (narrow.Issue.Path, narrow.Issue.Rule));
        Assert.Single(CompatibilityChecker.Check(CompatibilityMode.Backward, SchemaFormat.Json,
            """{"oneOf":[{"type":"string"},{"type":"integer"}]}""", [J(1, v1)]).Violations, v => v.Issue.Rule == "UNSUPPORTED_KEYWORD");
    }
}
