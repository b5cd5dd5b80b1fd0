using System.Diagnostics;
using System.IO.Compression;
using BenchmarkDotNet.Attributes;
using Cloud.Records;

namespace Cloud.Benchmarks.Records;

/// <summary>
/// Per-codec speed and ratio of the compressed frame on 4 MiB of clickstream JSON lines, versus the codec's own
/// command-line tool (gzip -6, zstd -3, lz4 -1) on the same bytes; the CLI figures are printed before the benchmarks.
/// Run: dotnet run -c Release --project bench/Cloud.Benchmarks -- --filter '*CodecBenchmarks*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private byte[] _input = [];
    private byte[] _frame = [];
    private byte[] _output = [];
    private int _frameLength;

    [Params(CompressionCodec.Gzip, CompressionCodec.Zstd, CompressionCodec.Lz4, CompressionCodec.Snappy)]
    public CompressionCodec Codec { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        using var ms = new MemoryStream();
        foreach (var e in RecordsBenchData.JsonEvents(40_000))
        {
            if (ms.Length + e.Json.Length + 1 > 4 * 1024 * 1024)
            {
                break;
            }
            ms.Write(e.Json);
            ms.WriteByte((byte)'\n');
        }
        _input = ms.ToArray();
        _frame = new byte[CompressedFrame.GetMaxEncodedLength(_input.Length, Codec)];
        _output = new byte[_input.Length];
        _frameLength = CompressedFrame.Encode(_input, Codec, _frame, CompressionLevel.Optimal);
        Console.WriteLine($"// {Codec}: {_input.Length:N0} bytes of JSON lines -> frame {_frameLength:N0} bytes, ratio {(double)_input.Length / _frameLength:F2}");
        double compressNs = CpuTimeProbe.BestNsPerOp(() => Compress(), 1, 5);
        double decompressNs = CpuTimeProbe.BestNsPerOp(() => Decompress(), 1, 5);
        Console.WriteLine($"// {Codec} frame CPU time: compress {_input.Length / compressNs * 1e3:F0} MB/s, decompress {_input.Length / decompressNs * 1e3:F0} MB/s (thread CPU clock, best of 5)");
        RunCli();
    }

    [Benchmark]
    public int Compress() => CompressedFrame.Encode(_input, Codec, _frame, CompressionLevel.Optimal);

    [Benchmark]
    public int Decompress() => CompressedFrame.Decode(_frame.AsSpan(0, _frameLength), _output);

    private void RunCli()
    {
        (string Tool, string[] Compress, string[] Decompress)? cli = Codec switch
        {
            CompressionCodec.Gzip => ("gzip", ["-6", "-c"], ["-d", "-c"]),
            CompressionCodec.Zstd => ("zstd", ["-3", "-c", "-q"], ["-d", "-c", "-q"]),
            CompressionCodec.Lz4 => ("lz4", ["-1", "-c", "-q"], ["-d", "-c", "-q"]),
            _ => null,
        };
        if (cli is null)
        {
            Console.WriteLine($"// {Codec}: no command-line tool on this machine to compare with.");
            return;
        }
        string input = Path.Combine(Path.GetTempPath(), $"codec-bench-{Environment.ProcessId}.jsonl");
        string packed = input + ".packed";
        File.WriteAllBytes(input, _input);
        try
        {
            double compress = BestSeconds(cli.Value.Tool, cli.Value.Compress, input, packed);
            double decompress = BestSeconds(cli.Value.Tool, cli.Value.Decompress, packed, null);
            long size = new FileInfo(packed).Length;
            Console.WriteLine($"// {Codec} CLI {cli.Value.Tool} {string.Join(' ', cli.Value.Compress)}: {size:N0} bytes, ratio {(double)_input.Length / size:F2}, " +
                $"compress {_input.Length / compress / 1e6:F0} MB/s, decompress {_input.Length / decompress / 1e6:F0} MB/s (child CPU time, best of 5, process start included)");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.WriteLine($"// {Codec}: {cli.Value.Tool} is not installed (apt-get install -y {cli.Value.Tool}).");
        }
        finally
        {
            File.Delete(input);
            File.Delete(packed);
        }
    }

    private static double BestSeconds(string tool, string[] args, string inputPath, string? outputPath)
    {
        double best = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
            foreach (var a in args)
            {
                start.ArgumentList.Add(a);
            }
            start.ArgumentList.Add(inputPath);
            double before = CpuTimeProbe.ChildrenCpuSeconds();
            using var process = Process.Start(start)!;
            process.StandardInput.Close();
            using (var sink = outputPath is null ? Stream.Null : File.Create(outputPath))
            {
                process.StandardOutput.BaseStream.CopyTo(sink);
            }
            process.WaitForExit();
            best = Math.Min(best, CpuTimeProbe.ChildrenCpuSeconds() - before);
        }
        return best;
    }
}
