using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Cloud.Benchmarks.Report;

/// <summary>The label every figure in the report carries: machine (cores, CPU model), date, commit, runtimes, load.</summary>
internal sealed record MachineInfo(string CpuModel, int Cores, double MemoryGiB, string Os, string Runtime, string Node, string Commit, DateTimeOffset Started, bool Avx512)
{
    public static MachineInfo Detect(string repositoryRoot)
    {
        string cpu = ReadCpuModel();
        double memory = ReadMemoryGiB();
        string commit = Git(repositoryRoot, "rev-parse --short=12 HEAD") is { Length: > 0 } sha
            ? sha + (Git(repositoryRoot, "status --porcelain --untracked-files=no") is { Length: > 0 } ? " (with uncommitted changes)" : "")
            : "unknown";
        string node = Run("node", "--version") ?? "not found";
        return new MachineInfo(cpu, Environment.ProcessorCount, memory, RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription, node, commit, DateTimeOffset.UtcNow, System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated);
    }

    /// <summary>1-minute load average (Linux), or NaN.</summary>
    public static double LoadAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.Parse(first, CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return double.NaN;
        }
        catch (UnauthorizedAccessException)
        {
            return double.NaN;
        }
    }

    /// <summary>The one-line label printed under every table and plot title.</summary>
    public string Label => string.Create(CultureInfo.InvariantCulture,
        $"{CpuModel}, {Cores} cores, {MemoryGiB:F0} GiB · {Started:yyyy-MM-dd HH:mm} UTC · commit {Commit}");

    private static string ReadCpuModel()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal))
                {
                    return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }

        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static double ReadMemoryGiB()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                {
                    var kb = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                    return kb / 1024.0 / 1024.0;
                }
            }
        }
        catch (IOException)
        {
        }

        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
    }

    private static string? Git(string root, string arguments) => Run("git", $"-C \"{root}\" {arguments}");

    private static string? Run(string file, string arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (process is null)
            {
                return null;
            }

            string output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
