using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cloud.Benchmarks.Records;

namespace Cloud.Benchmarks.Report;

/// <summary>What every section gets: the mode, where to write, the machine label, and helpers for plots and tools.</summary>
internal sealed class ReportContext
{
    public ReportContext(bool quick, string repositoryRoot, string outputDirectory, MachineInfo machine)
    {
        Quick = quick;
        RepositoryRoot = repositoryRoot;
        OutputDirectory = outputDirectory;
        Machine = machine;
    }

    /// <summary><c>--quick</c>: the whole report in under 5 minutes (smaller inputs, fewer rounds); full: under 30.</summary>
    public bool Quick { get; }

    public string RepositoryRoot { get; }

    /// <summary>bench/report (README.md and the PNGs).</summary>
    public string OutputDirectory { get; }

    public MachineInfo Machine { get; }

    /// <summary>The quick or the full value of a size or a count.</summary>
    public int Scale(int full, int quick) => Quick ? quick : full;

    /// <summary>The quick or the full duration.</summary>
    public TimeSpan Scale(TimeSpan full, TimeSpan quick) => Quick ? quick : full;

    /// <summary>Progress on the console (the report itself holds only results).</summary>
    public static void Log(string message) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{DateTime.UtcNow:HH:mm:ss}] {message}"));

    /// <summary>
    /// Draws a plot, labels it with the machine, date and commit, saves <c>{fileName}.png</c> in the report folder
    /// and returns the markdown that shows it.
    /// </summary>
    public string SavePlot(string fileName, string title, Action<ScottPlot.Plot> draw, int width = 900, int height = 420)
    {
        var plot = new ScottPlot.Plot();
        draw(plot);
        plot.Title(title + "\n" + Machine.Label, size: 13);
        string file = fileName + ".png";
        plot.SavePng(Path.Combine(OutputDirectory, file), width, height);
        return $"![{title}]({file})";
    }

    /// <summary>Absolute path of a file in the repository.</summary>
    public string PathOf(params string[] relative) => Path.Combine([RepositoryRoot, .. relative]);

    /// <summary>
    /// Runs an external tool (openssl, a codec CLI, node) to completion and returns its output and the CPU time its
    /// process tree used (getrusage of reaped children), so tool figures compare with our CPU-time figures.
    /// </summary>
    public static async Task<ToolRun> RunToolAsync(string file, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken, IDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        double cpuBefore = CpuTimeProbe.IsSupported ? CpuTimeProbe.ChildrenCpuSeconds() : 0;
        var clock = Stopwatch.StartNew();
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {file}.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new ToolRun(-1, "", $"{file}: {e.Message}", 0, TimeSpan.Zero, Started: false);
        }

        using (process)
        {
            var stdout = new StringBuilder();
            var stderr = new StringBuilder();
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeoutSource.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(timeoutSource.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
                cancellationToken.ThrowIfCancellationRequested();
                return new ToolRun(-1, stdout.ToString(), $"{file} timed out after {timeout.TotalSeconds:F0} s", 0, clock.Elapsed, Started: true);
            }

            double cpu = CpuTimeProbe.IsSupported ? CpuTimeProbe.ChildrenCpuSeconds() - cpuBefore : 0;
            return new ToolRun(process.ExitCode, stdout.ToString(), stderr.ToString(), cpu, clock.Elapsed, Started: true);
        }
    }
}

/// <summary>An external tool's run: exit code, output, CPU seconds of its process tree, wall time.</summary>
internal sealed record ToolRun(int ExitCode, string StandardOutput, string StandardError, double CpuSeconds, TimeSpan Elapsed, bool Started)
{
    public bool Succeeded => Started && ExitCode == 0;
}
