using System.Diagnostics;
using System.IO.Compression;
using Cloud.Benchmarks.Records;
using Cloud.Records;

namespace Cloud.Benchmarks.Report.Sections;

/// <summary>
/// The compressed-frame codecs of Cloud.Records (gzip, zstd, lz4, snappy) against their own command-line tools
/// (<c>gzip -6</c>, <c>zstd -3</c>, <c>lz4 -1</c>) on the same clickstream JSON: ratio and MB per CPU second.
/// </summary>
internal sealed class CodecsSection : IReportSection
{
    public string Id => "codecs";

    public int Order => 42;

    public string Title => "Codecs vs their command-line tools";

    public async Task<SectionResult> RunAsync(ReportContext context, CancellationToken cancellationToken)
    {
        byte[] input = JsonLines(4 * 1024 * 1024);
        int rounds = context.Scale(7, 3);
        string directory = Path.Combine(Path.GetTempPath(), $"codecs-section-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        string inputPath = Path.Combine(directory, "events.jsonl");
        await File.WriteAllBytesAsync(inputPath, input, cancellationToken);
        var baseline = await BestCpuAsync("true", rounds, cancellationToken);
        var rows = new List<IReadOnlyList<string>>();
        var plotData = new List<(string Codec, double Compress, double Decompress, double CliCompress, double CliDecompress)>();
        var headlines = new List<Headline>();
        try
        {
            foreach (var codec in new[] { CompressionCodec.Gzip, CompressionCodec.Zstd, CompressionCodec.Lz4, CompressionCodec.Snappy })
            {
                ReportContext.Log($"codecs: {codec}");
                var frame = new byte[CompressedFrame.GetMaxEncodedLength(input.Length, codec)];
                var output = new byte[input.Length];
                int frameLength = CompressedFrame.Encode(input, codec, frame, CompressionLevel.Optimal);
                if (CompressedFrame.Decode(frame.AsSpan(0, frameLength), output) != input.Length || !output.AsSpan().SequenceEqual(input))
                {
                    throw new InvalidOperationException($"{codec} frame did not round-trip.");
                }
                double compressNs = Best(() => CompressedFrame.Encode(input, codec, frame, CompressionLevel.Optimal), rounds);
                double decompressNs = Best(() => CompressedFrame.Decode(frame.AsSpan(0, frameLength), output), rounds);
                double ours = input.Length / compressNs * 1e3, oursDecompress = input.Length / decompressNs * 1e3;
                string ratio = Markdown.N((double)input.Length / frameLength, 2);

                (string Tool, string Compress, string Decompress)? cli = codec switch
                {
                    CompressionCodec.Gzip => ("gzip -6", "gzip -6 -c {0} > {1}", "gzip -d -c {1} > /dev/null"),
                    CompressionCodec.Zstd => ("zstd -3", "zstd -3 -q -f -c {0} > {1}", "zstd -d -q -c {1} > /dev/null"),
                    CompressionCodec.Lz4 => ("lz4 -1", "lz4 -1 -q -f -c {0} > {1}", "lz4 -d -q -c {1} > /dev/null"),
                    _ => null,
                };
                string packed = Path.Combine(directory, "events.packed");
                double? cliCompress = null, cliDecompress = null;
                long cliSize = 0;
                if (cli is { } c)
                {
                    cliCompress = await BestCpuAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, c.Compress, Quote(inputPath), Quote(packed)), rounds, cancellationToken);
                    if (cliCompress is not null && File.Exists(packed))
                    {
                        cliSize = new FileInfo(packed).Length;
                        cliDecompress = await BestCpuAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, c.Decompress, Quote(inputPath), Quote(packed)), rounds, cancellationToken);
                    }
                }
                double cliMb = cliCompress is { } cc ? input.Length / cc / 1e6 : double.NaN;
                double cliDecMb = cliDecompress is { } cd ? input.Length / cd / 1e6 : double.NaN;
                rows.Add([
                    codec.ToString().ToLowerInvariant(),
                    ratio,
                    Markdown.N(ours) + " MB/s",
                    Markdown.N(oursDecompress) + " MB/s",
                    cli is { } t ? "`" + t.Tool + "`" : "no CLI installed",
                    cliSize > 0 ? Markdown.N((double)input.Length / cliSize, 2) : "—",
                    double.IsFinite(cliMb) ? Markdown.N(cliMb) + " MB/s" : "—",
                    double.IsFinite(cliDecMb) ? Markdown.N(cliDecMb) + " MB/s" : "—",
                    Markdown.Ratio(ours / cliMb),
                    Markdown.Ratio(oursDecompress / cliDecMb),
                ]);
                plotData.Add((codec.ToString().ToLowerInvariant(), ours, oursDecompress, cliMb, cliDecMb));
                if (cli is { } h)
                {
                    headlines.Add(new Headline($"{codec.ToString().ToLowerInvariant()} compress vs `{h.Tool}` (ratio {ratio} vs {(cliSize > 0 ? Markdown.N((double)input.Length / cliSize, 2) : "—")})",
                        Markdown.N(ours) + " MB/s", double.IsFinite(cliMb) ? Markdown.N(cliMb) + " MB/s" : "not installed", Markdown.Ratio(ours / cliMb)));
                }
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        string plot = context.SavePlot("codecs", "Compressed frames vs the codecs' CLIs, MB per CPU second (4 MiB of JSON lines)", plt =>
        {
            var bars = new List<ScottPlot.Bar>();
            var ticks = new List<(double, string)>();
            for (int i = 0; i < plotData.Count; i++)
            {
                var d = plotData[i];
                double x = i * 5;
                bars.Add(new ScottPlot.Bar { Position = x, Value = d.Compress, FillColor = ScottPlot.Colors.SteelBlue });
                bars.Add(new ScottPlot.Bar { Position = x + 1, Value = double.IsFinite(d.CliCompress) ? d.CliCompress : 0, FillColor = ScottPlot.Colors.LightSteelBlue });
                bars.Add(new ScottPlot.Bar { Position = x + 2, Value = d.Decompress, FillColor = ScottPlot.Colors.SeaGreen });
                bars.Add(new ScottPlot.Bar { Position = x + 3, Value = double.IsFinite(d.CliDecompress) ? d.CliDecompress : 0, FillColor = ScottPlot.Colors.LightGreen });
                ticks.Add((x + 1.5, d.Codec));
            }
            plt.Add.Bars(bars);
            plt.Axes.Bottom.SetTicks(ticks.Select(t => t.Item1).ToArray(), ticks.Select(t => t.Item2).ToArray());
            plt.YLabel("MB / CPU s");
            foreach (var (label, color) in new[]
            {
                ("compress (frame)", ScottPlot.Colors.SteelBlue), ("compress (CLI)", ScottPlot.Colors.LightSteelBlue),
                ("decompress (frame)", ScottPlot.Colors.SeaGreen), ("decompress (CLI)", ScottPlot.Colors.LightGreen),
            })
            {
                plt.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = label, FillColor = color });
            }
            plt.Legend.Alignment = ScottPlot.Alignment.UpperLeft;
            plt.Axes.Margins(bottom: 0);
        });

        string markdown = $"""
            4 MiB of clickstream JSON lines (Cloud.DataGenerator, seeded) compressed into this project's frames at the default
            level (gzip = `CompressionLevel.Optimal`, level 6; zstd level 3; lz4 fast; snappy) and by the codecs' own tools on the
            same file. Ours: thread CPU time, best of {rounds} (after warm-up). CLIs: CPU time of the tool's process tree
            (getrusage of children), best of {rounds}, including process start and file I/O — a bare `sh -c true` costs
            {Markdown.N((baseline ?? 0) * 1e3, 1)} ms of CPU here, so small inputs would understate the tools; at 4 MiB it matters little.
            Ratios are directly comparable (same bytes, same levels).

            {Markdown.Table(["codec", "frame ratio", "compress", "decompress", "CLI", "CLI ratio", "CLI compress", "CLI decompress", "compress vs CLI", "decompress vs CLI"], rows)}
            {plot}
            """;
        return new SectionResult(markdown, headlines);
    }

    private static byte[] JsonLines(int bytes)
    {
        using var stream = new MemoryStream();
        foreach (var e in RecordsBenchData.JsonEvents(40_000))
        {
            if (stream.Length + e.Json.Length + 1 > bytes)
            {
                break;
            }
            stream.Write(e.Json);
            stream.WriteByte((byte)'\n');
        }
        return stream.ToArray();
    }

    private static double Best(Action action, int rounds)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 2 || clock.ElapsedMilliseconds < 600; i++)
        {
            action();
        }
        return CpuTimeProbe.BestNsPerOp(action, 1, rounds);
    }

    /// <summary>Lowest CPU seconds of <c>sh -c command</c> over the rounds, or null when it fails (tool missing).</summary>
    private static async Task<double?> BestCpuAsync(string command, int rounds, CancellationToken cancellationToken)
    {
        double best = double.MaxValue;
        for (int i = 0; i < rounds; i++)
        {
            var run = await ReportContext.RunToolAsync("sh", ["-c", command], TimeSpan.FromSeconds(60), cancellationToken);
            if (!run.Succeeded)
            {
                ReportContext.Log($"codecs: `{command}` failed: {run.StandardError.Trim()}");
                return null;
            }
            best = Math.Min(best, run.CpuSeconds);
        }
        return best;
    }

    private static string Quote(string path) => "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
