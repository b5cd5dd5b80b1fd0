using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Cloud.Benchmarks.Records;

/// <summary>
/// Per-thread CPU time (Linux CLOCK_THREAD_CPUTIME_ID), so figures can be compared with <c>openssl speed</c>,
/// which also reports CPU time, when the shared machine is loaded and wall-clock times are inflated.
/// </summary>
internal static partial class CpuTimeProbe
{
    private const int ClockThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 14)]
        public long[] Rest;
    }

    [DllImport("libc", EntryPoint = "getrusage")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int GetRUsage(int who, out RUsage usage);

    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>User + system CPU seconds of all reaped child processes (getrusage RUSAGE_CHILDREN).</summary>
    public static double ChildrenCpuSeconds()
    {
        if (GetRUsage(-1, out var u) != 0)
        {
            throw new InvalidOperationException("getrusage(RUSAGE_CHILDREN) failed.");
        }
        return u.UserSeconds + u.SystemSeconds + (u.UserMicroseconds + u.SystemMicroseconds) / 1e6;
    }

    /// <summary>Best (lowest) CPU nanoseconds per operation over <paramref name="rounds"/> rounds.</summary>
    public static double BestNsPerOp(Action action, int operations, int rounds = 20)
    {
        action();
        double best = double.MaxValue;
        for (int r = 0; r < rounds; r++)
        {
            long start = Now();
            action();
            best = Math.Min(best, (double)(Now() - start) / operations);
        }
        return best;
    }

    private static long Now()
    {
        if (!IsSupported)
        {
            return Stopwatch.GetTimestamp() * (1_000_000_000L / Stopwatch.Frequency);
        }
        if (ClockGetTime(ClockThreadCpuTimeId, out var t) != 0)
        {
            throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed.");
        }
        return t.Seconds * 1_000_000_000L + t.Nanoseconds;
    }
}
