using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Runtime.CompilerServices;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers;

namespace Cloud.Benchmarks.Report;

/// <summary>
/// A sampled CPU profile of this process's own work, as <c>dotnet-trace collect --profile dotnet-sampled-thread-time</c>
/// takes it: an EventPipe session on this process (Microsoft-DotNETCore-SampleProfiler, one stack per managed thread
/// per millisecond, method names from the runtime's rundown), parsed with TraceEvent. Only samples whose stack passes
/// through the work loop count, so idle threads and the session's own reader are left out.
/// </summary>
internal static class EventPipeProfiler
{
    /// <summary>One method's share of the work's samples: as the leaf (self) and anywhere on the stack (total).</summary>
    public sealed record Frame(string Method, double SelfShare, double TotalShare);

    /// <summary>The profile: samples taken in the work loop and the top frames by self share.</summary>
    public sealed record Profile(int Samples, IReadOnlyList<Frame> TopSelf, IReadOnlyList<Frame> TopTotal);

    private const string LoopMarker = nameof(WorkLoop);

    public static Profile Run(Action work, TimeSpan duration, string scratchDirectory, int top = 15)
    {
        Directory.CreateDirectory(scratchDirectory);
        string file = Path.Combine(scratchDirectory, $"profile-{Environment.ProcessId}-{Guid.NewGuid():N}.nettrace");
        var providers = new[]
        {
            new EventPipeProvider("Microsoft-DotNETCore-SampleProfiler", EventLevel.Informational),
            new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, (long)(ClrTraceEventParser.Keywords.Loader | ClrTraceEventParser.Keywords.Jit)),
        };
        try
        {
            var client = new DiagnosticsClient(Environment.ProcessId);
            using (var session = client.StartEventPipeSession(providers, requestRundown: true, circularBufferMB: 256))
            {
                var copy = Task.Run(() =>
                {
                    using var output = File.Create(file);
                    session.EventStream.CopyTo(output);
                });
                WorkLoop(work, duration);
                session.Stop();
                copy.Wait(TimeSpan.FromMinutes(2));
            }

            return Analyse(file, top);
        }
        finally
        {
            foreach (var path in new[] { file, Path.ChangeExtension(file, ".etlx") })
            {
                if (File.Exists(path))
                {
                    File.Delete(path);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void WorkLoop(Action work, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            work();
        }
    }

    private static Profile Analyse(string file, int top)
    {
        string etlx = TraceLog.CreateFromEventPipeDataFile(file);
        using var log = new TraceLog(etlx);
        var self = new Dictionary<string, int>(StringComparer.Ordinal);
        var total = new Dictionary<string, int>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var names = new List<string>();
        int samples = 0;
        foreach (var e in log.Events)
        {
            if (e.ProviderName != "Microsoft-DotNETCore-SampleProfiler" || !e.EventName.Contains("Sample", StringComparison.Ordinal))
            {
                continue;
            }

            names.Clear();
            bool inLoop = false;
            for (var frame = e.CallStack(); frame is not null; frame = frame.Caller)
            {
                string name = Name(frame.CodeAddress);
                if (name.Contains(LoopMarker, StringComparison.Ordinal) && name.Contains(nameof(EventPipeProfiler), StringComparison.Ordinal))
                {
                    inLoop = true;
                    break;
                }

                names.Add(name);
            }

            if (!inLoop || names.Count == 0)
            {
                continue;
            }

            samples++;
            self[names[0]] = self.GetValueOrDefault(names[0]) + 1;
            seen.Clear();
            foreach (var name in names)
            {
                if (seen.Add(name))
                {
                    total[name] = total.GetValueOrDefault(name) + 1;
                }
            }
        }

        List<Frame> Top(Dictionary<string, int> counts) => counts
            .OrderByDescending(kv => kv.Value)
            .Take(top)
            .Select(kv => new Frame(kv.Key, (double)self.GetValueOrDefault(kv.Key) / Math.Max(1, samples), (double)total[kv.Key] / Math.Max(1, samples)))
            .ToList();

        return new Profile(samples, Top(self), Top(total));
    }

    private static string Name(TraceCodeAddress address)
    {
        string method = address.FullMethodName;
        if (string.IsNullOrEmpty(method) || method == "?")
        {
            string module = address.ModuleName;
            return string.IsNullOrEmpty(module) ? "[native code]" : $"[native: {module}]";
        }

        // Drop the parameter list: a method's overloads count as one frame in the table.
        int paren = method.IndexOf('(', StringComparison.Ordinal);
        return paren > 0 ? method[..paren] : method;
    }
}
