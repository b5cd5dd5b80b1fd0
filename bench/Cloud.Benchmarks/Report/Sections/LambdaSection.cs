using System.Text;
using System.Text.Json;
using Cloud.Benchmarks.Consumer;
using Cloud.Benchmarks.Records;
using Cloud.Consumer.Events;
using Cloud.Functions.Aggregator;
using Cloud.Schemas;

namespace Cloud.Benchmarks.Report.Sections;

/// <summary>
/// The Lambda bill: the Aggregator's full handler (event JSON stream in, response JSON out) in user records per CPU
/// second and allocated bytes per user record, for raw JSON, KPL, KPL+zstd and Avro events; and where the time goes.
/// </summary>
internal sealed class LambdaSection : IReportSection
{
    /// <summary>The handler's throughput before this round (bench/results/consumer.md, BenchmarkDotNet, 2026-11-23).</summary>
    private const double RawBefore = 125_000;

    /// <summary>Goal of issue 15 on KPL+zstd events.</summary>
    private const double ZstdGoal = 1_000_000;

    private const string ClickAvsc = """
        {"type":"record","name":"Click","namespace":"bench","fields":[
          {"name":"eventId","type":"string"},{"name":"type","type":"string"},{"name":"timestamp","type":"string"},
          {"name":"userId","type":"string"},{"name":"page","type":"string"},{"name":"referrer","type":"string"},
          {"name":"device","type":"string"},{"name":"country","type":"string"},{"name":"durationMs","type":"int"},
          {"name":"amount","type":"double"}]}
        """;

    public string Id => "lambda";

    public int Order => 30;

    public string Title => "The Lambda bill: the Aggregator handler per core";

    /// <summary>One kind of event the section measures.</summary>
    private sealed record Case(string Name, ConsumerBenchData.Packing Packing, bool Avro);

    private static readonly Case[] Cases =
    [
        new("raw JSON (one Kinesis record per event)", ConsumerBenchData.Packing.Raw, false),
        new("KPL aggregates", ConsumerBenchData.Packing.Aggregated, false),
        new("KPL + zstd", ConsumerBenchData.Packing.AggregatedZstd, false),
        new("Avro (GSR) in KPL + zstd", ConsumerBenchData.Packing.AggregatedZstd, true),
    ];

    /// <summary>What one case measured.</summary>
    private sealed record Measured(Case Case, int UserRecords, int KinesisRecords, int EventBytes, double NsPerInvoke, double BytesPerRecord, double ObjectPathNsPerInvoke, double ObjectPathBytesPerRecord)
    {
        public double RecordsPerSecond => UserRecords / (NsPerInvoke / 1e9);

        public double ObjectPathRecordsPerSecond => UserRecords / (ObjectPathNsPerInvoke / 1e9);
    }

    public Task<SectionResult> RunAsync(ReportContext context, CancellationToken cancellationToken)
    {
        // The same invoke in quick runs (20,000 records over 5,000 users: fewer records per key would change what is
        // measured); only the number of timed rounds shrinks.
        const int userRecords = 20_000;
        int rounds = context.Scale(15, 8);
        var version = new SchemaVersion
        {
            VersionId = Guid.Parse("0b8c2f8e-5f0e-4a36-9d55-2b1d0c6a7e11"),
            SchemaName = "clicks",
            VersionNumber = 1,
            Format = SchemaFormat.Avro,
            Definition = SchemaDefinitions.Normalize(SchemaFormat.Avro, ClickAvsc),
        };
        GsrSerializer avro = GsrSerializer.For(version);
        var config = new AggregatorConfig { TableName = "bench", SumFields = ["amount", "durationMs"], TopKField = "page" };

        var results = new List<Measured>();
        var stages = new List<(string Case, Stage[] Stages)>();
        foreach (Case c in Cases)
        {
            cancellationToken.ThrowIfCancellationRequested();
            KinesisTimeWindowEvent evt = ConsumerBenchData.WindowEvent(userRecords, c.Packing, c.Avro ? json => avro.Serialize(Encoding.UTF8.GetString(json)) : null);
            byte[] eventJson = JsonSerializer.SerializeToUtf8Bytes(evt, KinesisEventsJsonContext.Default.KinesisTimeWindowEvent);
            using var function = new Function(config, new NullSink(), null, null, c.Avro ? new SchemaDecoding(new OneVersionRegistry(version)) : null);

            long Handle()
            {
                using var input = new MemoryStream(eventJson, writable: false);
                using Stream output = function.FunctionHandler(input).GetAwaiter().GetResult();
                return output.Length;
            }

            // The shape of the handler before this round: the event deserialized into objects, then aggregated.
            long ObjectPath()
            {
                KinesisTimeWindowEvent parsed = JsonSerializer.Deserialize(eventJson, KinesisEventsJsonContext.Default.KinesisTimeWindowEvent)!;
                AggregationOutcome outcome = function.ProcessAsync(parsed, CancellationToken.None).GetAwaiter().GetResult();
                return JsonSerializer.SerializeToUtf8Bytes(outcome.Response, KinesisEventsJsonContext.Default.KinesisTimeWindowResponse).Length;
            }

            Check(function, evt, userRecords, c);
            WarmUp(() => Handle());
            WarmUp(() => ObjectPath());
            double ns = CpuTimeProbe.BestNsPerOp(() => Handle(), 1, rounds);
            double bytes = AllocatedPerRecord(() => Handle(), userRecords);
            double objectNs = CpuTimeProbe.BestNsPerOp(() => ObjectPath(), 1, rounds);
            double objectBytes = AllocatedPerRecord(() => ObjectPath(), userRecords);
            results.Add(new Measured(c, userRecords, evt.Records.Count, eventJson.Length, ns, bytes, objectNs, objectBytes));
            if (!c.Avro && c.Packing is ConsumerBenchData.Packing.Raw or ConsumerBenchData.Packing.AggregatedZstd)
            {
                stages.Add((c.Name, HandlerStages.Measure(eventJson, config, rounds, ns, objectNs)));
            }
            ReportContext.Log($"lambda: {c.Name}: {userRecords / (ns / 1e9):N0} user records/s, {bytes:N0} B/record");
        }

        Measured raw = results[0];
        Measured zstd = results[2];
        var rows = results.Select(m => (IReadOnlyList<string>)
        [
            m.Case.Name,
            Markdown.N(m.KinesisRecords),
            Markdown.N(m.EventBytes / 1024.0) + " KiB",
            Markdown.N(m.NsPerInvoke / 1e6, 1) + " ms",
            Markdown.N(m.RecordsPerSecond / 1000) + " k/s",
            Markdown.N(m.BytesPerRecord) + " B",
            Markdown.N(m.ObjectPathRecordsPerSecond / 1000) + " k/s",
            Markdown.N(m.ObjectPathBytesPerRecord) + " B",
        ]).ToList();

        string plot = context.SavePlot("lambda-handler", "Aggregator: handler (blue) and object path (gray), user records per CPU second; goal dashed", plt =>
        {
            var bars = new List<ScottPlot.Bar>();
            for (int i = 0; i < results.Count; i++)
            {
                bars.Add(new ScottPlot.Bar { Position = i * 3, Value = results[i].RecordsPerSecond / 1000, FillColor = ScottPlot.Colors.SteelBlue });
                bars.Add(new ScottPlot.Bar { Position = i * 3 + 1, Value = results[i].ObjectPathRecordsPerSecond / 1000, FillColor = ScottPlot.Colors.Gray });
            }

            plt.Add.Bars(bars);
            plt.Axes.Bottom.SetTicks(results.Select((_, i) => i * 3 + 0.5).ToArray(), ["raw JSON", "KPL", "KPL+zstd", "Avro KPL+zstd"]);
            plt.YLabel("k records / CPU s");
            var goal = plt.Add.HorizontalLine(ZstdGoal / 1000);
            goal.LinePattern = ScottPlot.LinePattern.Dashed;
            goal.Color = ScottPlot.Colors.Green;
            plt.Axes.Margins(bottom: 0);
        });

        var stageRows = new List<IReadOnlyList<string>>();
        foreach ((string name, Stage[] list) in stages)
        {
            double total = list[^1].CumulativeNs;
            double previous = 0;
            foreach (Stage st in list)
            {
                double own = st.CumulativeNs - previous;
                previous = st.IsAfter ? st.CumulativeNs : previous;
                stageRows.Add([name, st.Name, st.IsAfter ? Markdown.N(own / userRecords) + " ns" : "", st.IsAfter ? Markdown.Percent(own / total) : "",
                    Markdown.N(st.CumulativeNs / userRecords) + " ns"]);
            }
        }

        bool zstdMet = zstd.RecordsPerSecond >= ZstdGoal;
        bool rawMet = raw.RecordsPerSecond >= 2 * RawBefore;
        string markdown = Markdown.F($"""
            One non-final window invoke of {userRecords:N0} ~220-byte clickstream events over 5,000 users (sums over `amount` and
            `durationMs`, top-K over `page`, per user), packed four ways. **Handler** is the Lambda entry point
            `Function.FunctionHandler`: the event JSON as a stream in (base64 `data`), the response JSON stream out; no DynamoDB
            (the invoke is not final). Per core = CPU time of the calling thread (best of {rounds} invokes, measured after 33
            warm-up invokes so that tiered compilation has finished, as in a warm Lambda container; both paths alike); allocated = 
            `GC.GetAllocatedBytesForCurrentThread` over one invoke ÷ user records. **Object path** is the handler's shape before
            this round, run in the same process on the same bytes: the event deserialized into `KinesisTimeWindowEvent` objects
            (source-generated `JsonSerializer`), then `Function.ProcessAsync`, then the response serialized.

            {Markdown.Table(["event", "Kinesis records", "event JSON", "CPU / invoke", "handler", "allocated / record", "object path", "object path allocated / record"], rows)}
            {plot}

            **Where the time goes** (CPU per user record, same run, same bytes). The handler's stages are measured as prefixes
            of the invoke, each run on its own (best of {rounds}): read (the stream copied into the pooled buffer, the event
            walked with `Utf8JsonReader`, every record's base64 decoded in place), then + decode (compressed frames
            decompressed into pooled arrays, then the KPL aggregates of 32 records MD5-verified in one multi-buffer pass and split into slices with `RecordDecoder.DecodeDataBatch`),
            then + fields (the configured fields read from each user record: key bytes, numbers as decimals, category
            interned), and the whole handler (+ the per-key fold, the window state written into the response). "Own" is a
            stage's cost over the previous prefix (each prefix is its own best-of run, so on a loaded machine the split is
            approximate). The rows marked *before* are the object path's: `JsonSerializer` turning
            the event into `KinesisEventRecord` objects and base64 strings is what this round removed from the handler
            (with a `byte[]` per record for the base64, a `UserRecordContext` and partition-key string per user record,
            key and category strings per record, and a `Dictionary<string,string>` for the state; the object path still
            pays the first two and shares the rest of the new code, so its full figure understates the old handler:
            that one is in `bench/results/consumer.md`).

            {Markdown.Table(["event", "stage", "own", "share", "cumulative"], stageRows)}
            """);
        return Task.FromResult(new SectionResult(markdown,
        [
            new Headline("Aggregator handler, KPL+zstd events (user records / CPU s)", Markdown.N(zstd.RecordsPerSecond / 1000) + " k/s",
                "goal 1,000 k/s", Markdown.Ratio(zstd.RecordsPerSecond / ZstdGoal), "≥1M/s per core", zstdMet ? "met" : "missed"),
            new Headline("Aggregator handler, raw JSON events (user records / CPU s)", Markdown.N(raw.RecordsPerSecond / 1000) + " k/s",
                "before: 125 k/s", Markdown.Ratio(raw.RecordsPerSecond / RawBefore), "≥2× (≥250 k/s)", rawMet ? "met" : "missed"),
        ]));
    }

    /// <summary>One measured prefix of the handler.</summary>
    internal sealed record Stage(string Name, double CumulativeNs, bool IsAfter);

    private static void Check(Function function, KinesisTimeWindowEvent evt, int userRecords, Case c)
    {
        AggregationOutcome check = function.ProcessAsync(evt, CancellationToken.None).GetAwaiter().GetResult();
        if (check.AppliedUserRecords != userRecords || check.Failure is not null)
        {
            throw new InvalidOperationException($"{c.Name}: applied {check.AppliedUserRecords} of {userRecords}; failure: {check.Failure?.Message}");
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> until the JIT's tiered compilation has finished with it, as in a warm Lambda
    /// container: an invoke's loops otherwise run as tier-0 or on-stack-replaced code in the few invokes measured (a
    /// method moves to tier 1 after 30 calls, compiled in the background once 100 ms passed without new tier-0 code).
    /// </summary>
    internal static void WarmUp(Action action)
    {
        for (int i = 0; i < 32; i++)
        {
            action();
        }

        Thread.Sleep(300);
        action();
        Thread.Sleep(100);
    }

    private static double AllocatedPerRecord(Action action, int userRecords)
    {
        action();
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return (GC.GetAllocatedBytesForCurrentThread() - before) / (double)userRecords;
    }

    private sealed class NullSink : IAggregateSink
    {
        public Task WriteAsync(WindowSegment segment, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>A registry that knows one schema version (the section measures decoding, not registry calls).</summary>
    private sealed class OneVersionRegistry(SchemaVersion version) : ISchemaRegistry
    {
        public Task<SchemaVersion> GetVersionAsync(Guid versionId, CancellationToken cancellationToken = default) =>
            versionId == version.VersionId ? Task.FromResult(version) : Task.FromException<SchemaVersion>(new SchemaVersionNotFoundException(versionId));

        public Task<SchemaVersion> GetVersionAsync(string schemaName, int? versionNumber = null, CancellationToken cancellationToken = default) => Task.FromResult(version);

        public Task<RegistrationResult> RegisterAsync(string schemaName, SchemaFormat format, string definition, CompatibilityMode? compatibility = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public Task<CompatibilityResult> CheckAsync(string schemaName, string definition, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<SchemaInfo> DescribeAsync(string schemaName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<SchemaInfo>> ListSchemasAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<SchemaVersion>> ListVersionsAsync(string schemaName, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task UpdateCompatibilityAsync(string schemaName, CompatibilityMode compatibility, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
