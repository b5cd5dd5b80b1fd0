namespace Cloud.DataGenerator;

/// <summary>
/// The schemas of the generated events, as Avro and as JSON Schema (for the schema registry, <c>cloud pipeline
/// --schema-format</c> and the benchmarks). Field names and types follow <see cref="EventGenerator"/>'s output; the
/// generator's tests check every generated event against them.
/// </summary>
public static class EventSchemas
{
    /// <summary>The Avro schema of the generator's clickstream events (<c>cloud produce --generate</c>, the pipeline).</summary>
    public const string ClickstreamAvro = """
        {"type":"record","name":"ClickEvent","namespace":"cloud.clickstream","fields":[
          {"name":"eventId","type":"string"},
          {"name":"type","type":"string"},
          {"name":"timestamp","type":"string"},
          {"name":"userId","type":"string"},
          {"name":"name","type":"string"},
          {"name":"email","type":"string"},
          {"name":"ip","type":"string"},
          {"name":"page","type":"string"},
          {"name":"referrer","type":"string"},
          {"name":"device","type":"string"},
          {"name":"country","type":"string"},
          {"name":"durationMs","type":"int"},
          {"name":"amount","type":"double"},
          {"name":"sealedUserId","type":["null","string"],"default":null}]}
        """;

    /// <summary>The JSON Schema of the same events.</summary>
    public const string ClickstreamJsonSchema = """
        {"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
         "properties":{"eventId":{"type":"string"},"type":{"type":"string"},"timestamp":{"type":"string"},"userId":{"type":"string"},
           "name":{"type":"string"},"email":{"type":"string"},"ip":{"type":"string"},"page":{"type":"string"},"referrer":{"type":"string"},
           "device":{"type":"string"},"country":{"type":"string"},"durationMs":{"type":"integer"},"amount":{"type":"number"},
           "sealedUserId":{"type":"string"}},
         "required":["eventId","type","timestamp","userId","page"]}
        """;

    /// <summary>The Avro schema of the generator's ride-pricing events.</summary>
    public const string RidePricingAvro = """
        {"type":"record","name":"PriceQuote","namespace":"cloud.ridepricing","fields":[
          {"name":"eventId","type":"string"},
          {"name":"type","type":"string"},
          {"name":"timestamp","type":"string"},
          {"name":"userId","type":"string"},
          {"name":"name","type":"string"},
          {"name":"email","type":"string"},
          {"name":"ip","type":"string"},
          {"name":"zone","type":"string"},
          {"name":"weather","type":"string"},
          {"name":"cityEvent","type":"string"},
          {"name":"demand","type":"int"},
          {"name":"supply","type":"int"},
          {"name":"surgeMultiplier","type":"double"},
          {"name":"distanceKm","type":"double"},
          {"name":"price","type":"double"},
          {"name":"sealedUserId","type":["null","string"],"default":null}]}
        """;

    /// <summary>The JSON Schema of the ride-pricing events.</summary>
    public const string RidePricingJsonSchema = """
        {"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
         "properties":{"eventId":{"type":"string"},"zone":{"type":"string"},"demand":{"type":"integer"},"supply":{"type":"integer"},
           "surgeMultiplier":{"type":"number"},"distanceKm":{"type":"number"},"price":{"type":"number"}},
         "required":["eventId","zone","price"]}
        """;
}
