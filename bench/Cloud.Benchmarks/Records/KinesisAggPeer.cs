using System.Diagnostics;

namespace Cloud.Benchmarks.Records;

/// <summary>Runs bench/node/records/kinesis-agg-bench.js (aws-kinesis-agg) on the same records, in the same run.</summary>
internal static class KinesisAggPeer
{
    public static void RunAndPrint(string[] keys, byte[][] data)
    {
        string? root = FindUp("bench/node/records/kinesis-agg-bench.js");
        string? tools = Environment.GetEnvironmentVariable("CLOUD_TOOLS_DIR") is { Length: > 0 } t ? t : FindUp("tools/emulators/package.json") is { } p ? Path.Combine(p, "tools", "emulators") : null;
        string? modules = tools is null ? null : Path.Combine(tools, "node_modules");
        if (root is null || modules is null || !Directory.Exists(Path.Combine(modules, "aws-kinesis-agg")))
        {
            Console.WriteLine("// aws-kinesis-agg peer: not installed (npm ci in tools/emulators, or set CLOUD_TOOLS_DIR); peer figures skipped.");
            return;
        }
        string input = Path.Combine(Path.GetTempPath(), $"records-bench-{Environment.ProcessId}.json");
        RecordsBenchData.WriteForNode(input, keys, data);
        try
        {
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("CLOUD_NODE") is { Length: > 0 } n ? n : "node")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(Path.Combine(root, "bench", "node", "records", "kinesis-agg-bench.js"));
            start.ArgumentList.Add(input);
            start.ArgumentList.Add("3");
            start.Environment["NODE_PATH"] = modules;
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
            }
            Console.WriteLine("// aws-kinesis-agg peer (same records, same run):");
            foreach (var line in (stdout + stderr.Result).Split('\n'))
            {
                Console.WriteLine("// " + line);
            }
        }
        finally
        {
            File.Delete(input);
        }
    }

    private static string? FindUp(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, relative)))
            {
                return dir.FullName;
            }
        }
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, relative)))
            {
                return dir.FullName;
            }
        }
        return null;
    }
}
