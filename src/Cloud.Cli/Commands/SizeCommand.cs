using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Cloud.Cli.Infrastructure;
using Cloud.Sizing;
using Spectre.Console;

namespace Cloud.Cli.Commands;

/// <summary><c>cloud size</c> — the shard calculator (and Kafka's partition formula with <c>--kafka</c>).</summary>
public static class SizeCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Create(CliConsole console)
    {
        var rate = new Option<double?>("--records-per-second") { Description = "Average user records per second written" };
        var peak = new Option<double?>("--peak-records-per-second") { Description = "Peak records per second (default: the average)" };
        var bytes = new Option<double?>("--record-bytes") { Description = "Average user record size in bytes (or measured with --sample)" };
        var consumers = new Option<int>("--consumers") { Description = "Shared-throughput (polling) consumers, e.g. Lambda mappings", DefaultValueFactory = _ => 1 };
        var efo = new Option<int>("--efo-consumers") { Description = "Enhanced fan-out consumers (own 2 MB/s per shard each)" };
        var speed = new Option<double>("--consumer-records-per-second") { Description = "Records/s one consumer worker processes per shard", DefaultValueFactory = _ => 10_000 };
        var latency = new Option<double>("--max-latency-seconds") { Description = "Largest tolerated consumer delay in seconds", DefaultValueFactory = _ => 60 };
        var surge = new Option<double>("--surge-records-per-second") { Description = "Records/s during a surge (0 = none)" };
        var surgeSeconds = new Option<double>("--surge-seconds") { Description = "Surge duration in seconds" };
        var retention = new Option<int>("--retention-hours") { Description = "Retention period", DefaultValueFactory = _ => 24 };
        var aggregation = new Option<double?>("--aggregation-ratio") { Description = "User records per Kinesis record (default 1; measured with --sample)" };
        var compression = new Option<double?>("--compression-ratio") { Description = "Uncompressed ÷ compressed bytes (default 1; measured with --sample)" };
        var sample = new Option<FileInfo?>("--sample") { Description = "JSON-lines file of real records: measures record size and the producer's aggregation/compression ratios" };
        var codec = new Option<string>("--compress") { Description = "Codec assumed when measuring --sample: none, gzip, zstd, lz4, snappy", DefaultValueFactory = _ => "none" };
        codec.AcceptOnlyFromAmong("none", "gzip", "zstd", "lz4", "snappy");
        var kafka = new Option<bool>("--kafka") { Description = "Kafka partitions = max(T ÷ p, T ÷ c) instead of Kinesis shards" };
        var throughput = new Option<double?>("--throughput") { Description = "Kafka: target throughput T (any unit, e.g. MB/s)" };
        var producerPartition = new Option<double?>("--producer-partition-throughput") { Description = "Kafka: throughput p one producer reaches on ONE partition" };
        var consumerPartition = new Option<double?>("--consumer-partition-throughput") { Description = "Kafka: throughput c one consumer reaches on ONE partition" };
        var command = new Command("size", "Shard calculator: shard count, the deciding constraint, and provisioned vs on-demand cost")
        {
            rate, peak, bytes, consumers, efo, speed, latency, surge, surgeSeconds, retention, aggregation, compression, sample, codec, kafka, throughput, producerPartition, consumerPartition,
        };
        Option[] kinesisOnly = [rate, peak, bytes, consumers, efo, speed, latency, surge, surgeSeconds, retention, aggregation, compression, sample, codec];
        Option[] kafkaOnly = [throughput, producerPartition, consumerPartition];
        command.Validators.Add(result =>
        {
            // A flag of the other calculator would be silently ignored: say so instead.
            var given = (result.GetValue(kafka) ? kinesisOnly : kafkaOnly).Where(o => result.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
            if (given.Count > 0)
            {
                result.AddError(result.GetValue(kafka)
                    ? $"{string.Join(", ", given)} size Kinesis shards and do not apply with --kafka."
                    : $"{string.Join(", ", given)} apply only with --kafka.");
            }

            if (result.GetValue(kafka))
            {
                foreach (var (option, name) in new[] { (throughput, "--throughput"), (producerPartition, "--producer-partition-throughput"), (consumerPartition, "--consumer-partition-throughput") })
                {
                    if (result.GetValue(option) is null)
                    {
                        result.AddError($"--kafka needs {name}.");
                    }
                }
            }
            else
            {
                if (result.GetValue(rate) is null)
                {
                    result.AddError("--records-per-second is required (or use --kafka).");
                }

                if (result.GetValue(bytes) is null && result.GetValue(sample) is null)
                {
                    result.AddError("--record-bytes or --sample FILE is required.");
                }
            }
        });

        command.SetAction(async (parse, ct) =>
        {
            var json = parse.GetValue(GlobalOptions.Json);
            if (parse.GetValue(kafka))
            {
                var estimate = KafkaPartitionCalculator.Calculate(new KafkaPartitionInput(parse.GetValue(throughput)!.Value, parse.GetValue(producerPartition)!.Value, parse.GetValue(consumerPartition)!.Value));
                if (json)
                {
                    console.WriteJsonLine(w =>
                    {
                        w.WriteStartObject();
                        w.WriteNumber("partitions", estimate.Partitions);
                        w.WriteString("decidingConstraint", estimate.DecidingBound == KafkaBound.Producer ? "producerThroughput" : "consumerThroughput");
                        w.WriteString("model", "max(T/p, T/c)");
                        w.WriteNumber("producerTerm", estimate.ProducerTerm);
                        w.WriteNumber("consumerTerm", estimate.ConsumerTerm);
                        w.WriteEndObject();
                    });
                }
                else
                {
                    console.Out.WriteLine($"Partitions: {estimate.Partitions} (max(T/p = {estimate.ProducerTerm:0.##}, T/c = {estimate.ConsumerTerm:0.##}), decided by the {estimate.DecidingBound.ToString().ToLowerInvariant()} side)");
                }

                return ExitCodes.Success;
            }

            var average = parse.GetValue(rate)!.Value;
            var profile = new WorkloadProfile
            {
                AverageRecordsPerSecond = average,
                PeakRecordsPerSecond = parse.GetValue(peak) ?? average,
                AverageRecordBytes = parse.GetValue(bytes) ?? 1,
                SurgeRecordsPerSecond = parse.GetValue(surge),
                SurgeDurationSeconds = parse.GetValue(surgeSeconds),
                RetentionHours = parse.GetValue(retention),
                AggregationRatio = parse.GetValue(aggregation) ?? 1,
                CompressionRatio = parse.GetValue(compression) ?? 1,
                Consumers = Consumers(parse.GetValue(consumers), parse.GetValue(efo), parse.GetValue(speed), parse.GetValue(latency)),
            };
            RecordSampleMeasurement? measured = null;
            if (parse.GetValue(sample) is { } file)
            {
                if (!file.Exists)
                {
                    throw CliException.NotFound($"--sample: file '{file.FullName}' does not exist.");
                }

                measured = await RecordSampleMeasurer.MeasureFileAsync(file.FullName, new RecordSampleOptions { Codec = Codec(parse.GetValue(codec)!) }, ct).ConfigureAwait(false);
                profile = profile.WithMeasurement(measured);
                if (parse.GetValue(bytes) is { } given)
                {
                    profile = profile with { AverageRecordBytes = given };
                }
            }

            ShardEstimate result;
            try
            {
                result = new ShardCalculator().Calculate(profile);
            }
            catch (SizingValidationException ex)
            {
                throw CliException.InvalidInput(ex.Message, ex);
            }

            if (json)
            {
                console.WriteJsonLine(w => WriteJson(w, result, measured));
            }
            else
            {
                WriteHuman(console, result, measured);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Records.CompressionCodec Codec(string name) => name switch
    {
        "gzip" => Records.CompressionCodec.Gzip,
        "zstd" => Records.CompressionCodec.Zstd,
        "lz4" => Records.CompressionCodec.Lz4,
        "snappy" => Records.CompressionCodec.Snappy,
        _ => Records.CompressionCodec.None,
    };

    private static List<ConsumerProfile> Consumers(int shared, int efo, double speed, double latency)
    {
        if (shared < 0 || efo < 0)
        {
            throw CliException.Usage("--consumers and --efo-consumers must not be negative.");
        }

        var list = new List<ConsumerProfile>();
        for (var i = 1; i <= shared; i++)
        {
            list.Add(new ConsumerProfile($"shared-{i}", ConsumerMode.SharedThroughput, speed, latency));
        }

        for (var i = 1; i <= efo; i++)
        {
            list.Add(new ConsumerProfile($"efo-{i}", ConsumerMode.EnhancedFanOut, speed, latency));
        }

        return list;
    }

    /// <summary>A constraint as named in <c>--json</c> output (<c>writeBytes</c>, <c>sharedRead</c>, ...).</summary>
    public static string Camel(SizingConstraint c)
    {
        var name = c.ToString();
        return char.ToLowerInvariant(name[0]) + name[1..];
    }

    private static void WriteJson(Utf8JsonWriter w, ShardEstimate r, RecordSampleMeasurement? measured)
    {
        w.WriteStartObject();
        w.WriteNumber("shards", r.Shards);
        w.WriteString("decidingConstraint", Camel(r.DecidingConstraint));
        w.WriteStartArray("constraints");
        foreach (var c in r.Constraints)
        {
            w.WriteStartObject();
            w.WriteString("constraint", Camel(c.Constraint));
            w.WriteNumber("requiredShards", c.RequiredShards);
            w.WriteNumber("minimumShards", c.MinimumShards);
            w.WriteNumber("utilization", c.Utilization);
            w.WriteNumber("headroom", c.Headroom);
            w.WriteString("detail", c.Detail);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (measured is not null)
        {
            w.WriteStartObject("sample");
            w.WriteNumber("userRecords", measured.UserRecords);
            w.WriteNumber("averageRecordBytes", measured.AverageUserRecordBytes);
            w.WriteNumber("aggregationRatio", measured.AggregationRatio);
            w.WriteNumber("compressionRatio", measured.CompressionRatio);
            w.WriteEndObject();
        }

        w.WriteStartObject("cost");
        w.WriteString("currency", "USD");
        w.WriteString("cheaper", r.Cost.Cheaper == CapacityMode.OnDemand ? "onDemand" : "provisioned");
        WriteCost(w, "provisioned", r.Cost.Provisioned);
        WriteCost(w, "onDemand", r.Cost.OnDemand);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteCost(Utf8JsonWriter w, string name, CostEstimate cost)
    {
        w.WriteStartObject(name);
        w.WriteNumber("monthlyTotal", cost.MonthlyTotal);
        w.WriteStartArray("lines");
        foreach (var line in cost.Lines)
        {
            w.WriteStartObject();
            w.WriteString("item", line.Item);
            w.WriteNumber("quantity", line.Quantity);
            w.WriteString("unit", line.Unit);
            w.WriteNumber("unitPrice", line.UnitPrice);
            w.WriteNumber("monthly", line.Monthly);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteHuman(CliConsole console, ShardEstimate r, RecordSampleMeasurement? measured)
    {
        var ci = CultureInfo.InvariantCulture;
        console.Human.MarkupLine($"[bold]{r.Shards} shards[/], decided by [bold]{Camel(r.DecidingConstraint)}[/]");
        if (measured is not null)
        {
            console.Human.MarkupLine(Markup.Escape(string.Format(ci, "Sample: {0:N0} records, {1:0.#} bytes average, aggregation {2:0.#}:1, compression {3:0.##}:1", measured.UserRecords, measured.AverageUserRecordBytes, measured.AggregationRatio, measured.CompressionRatio)));
        }

        var constraints = new Table().AddColumns("Constraint", "Shards needed", "Utilization", "Headroom", "How");
        foreach (var c in r.Constraints)
        {
            constraints.AddRow(Camel(c.Constraint), c.RequiredShards.ToString("0.##", ci), c.Utilization.ToString("P0", ci), c.Headroom.ToString("P0", ci), Markup.Escape(c.Detail));
        }

        console.Human.Write(constraints);
        var cost = new Table().AddColumns("Mode", "Item", "Quantity", "Unit price (USD)", "Monthly (USD)");
        foreach (var estimate in new[] { r.Cost.Provisioned, r.Cost.OnDemand })
        {
            foreach (var line in estimate.Lines)
            {
                cost.AddRow(estimate.Mode.ToString(), Markup.Escape(line.Item), Markup.Escape(string.Format(ci, "{0:N1} {1}", line.Quantity, line.Unit)), line.UnitPrice.ToString("0.######", ci), line.Monthly.ToString("N2", ci));
            }

            cost.AddRow(estimate.Mode.ToString(), "[bold]total[/]", string.Empty, string.Empty, $"[bold]{estimate.MonthlyTotal.ToString("N2", ci)}[/]");
        }

        console.Human.Write(cost);
        console.Human.MarkupLine($"Cheaper: [bold]{r.Cost.Cheaper}[/]");
    }
}
