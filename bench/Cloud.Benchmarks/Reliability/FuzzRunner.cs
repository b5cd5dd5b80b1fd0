using System.Diagnostics;
using System.Globalization;

namespace Cloud.Benchmarks.Reliability;

/// <summary>One decoder under fuzzing: valid inputs, how to damage them, how to decode, and which exceptions are its own.</summary>
internal sealed class FuzzTarget
{
    /// <summary>Short name in the report.</summary>
    public required string Name { get; init; }

    /// <summary>The decoder call, as the report names it.</summary>
    public required string Decoder { get; init; }

    /// <summary>The exception types the decoder documents (report text).</summary>
    public required string Documented { get; init; }

    /// <summary>Valid inputs.</summary>
    public required IReadOnlyList<byte[]> Corpus { get; init; }

    /// <summary>Decodes one input: returns when accepted, throws when refused.</summary>
    public required Action<byte[]> Decode { get; init; }

    /// <summary>True for the decoder's documented exception types.</summary>
    public required Func<Exception, bool> IsTyped { get; init; }

    /// <summary>Mutated inputs to run.</summary>
    public required int Inputs { get; init; }

    /// <summary>Offsets of the input's length fields, for the length mutations; null when unknown (random offsets).</summary>
    public Func<byte[], IReadOnlyList<int>>? LengthFields { get; init; }

    /// <summary>Recomputes an integrity check (MD5, CRC) after a mutation, so most mutations reach the parser behind it.</summary>
    public Func<byte[], byte[]>? FixUp { get; init; }

    /// <summary>Accepted inputs the decoder answered with a per-record failure (a handler's batch item failure), if it reports them.</summary>
    public Func<long>? ReportedRecordFailures { get; init; }

    /// <summary>A format-aware mutation (e.g. of a JSON document's structure); null when the target has none.</summary>
    public Func<Random, byte[], byte[]>? Structured { get; init; }
}

/// <summary>What one target did with its mutated inputs.</summary>
internal sealed class FuzzOutcome
{
    public required FuzzTarget Target { get; init; }

    public long Inputs { get; set; }

    public long Accepted { get; set; }

    public Dictionary<string, long> Typed { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, long> Untyped { get; } = new(StringComparer.Ordinal);

    public Dictionary<MutationKind, long> ByKind { get; } = [];

    public long OutOfMemory { get; set; }

    /// <summary>The most bytes one input made the decoder allocate (a huge declared length shows up here).</summary>
    public long MaxAllocatedPerInput { get; set; }

    public MutationKind MaxAllocatedKind { get; set; }

    /// <summary>Managed heap at its highest while the target ran (sampled).</summary>
    public long PeakHeapBytes { get; set; }

    public double Seconds { get; set; }

    public double InputsPerSecond => Inputs / Math.Max(Seconds, 1e-9);

    /// <summary>The first untyped failures: enough to reproduce each one (iteration with the printed seed, the bytes).</summary>
    public List<string> Examples { get; } = [];
}

/// <summary>Runs one target: mutate, (fix up), decode, classify. Single-threaded so per-input allocation is exact.</summary>
internal static class FuzzRunner
{
    public static FuzzOutcome Run(FuzzTarget target, int seed)
    {
        var outcome = new FuzzOutcome { Target = target };
        var random = new Random(seed ^ StableHash(target.Name));
        GC.Collect(); // each target's peak heap is its own
        long peak = GC.GetTotalMemory(false);
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(false));
                try
                {
                    await Task.Delay(5, stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < target.Inputs; i++)
        {
            byte[] input = target.Corpus[random.Next(target.Corpus.Count)];
            byte[] mutated;
            MutationKind kind;
            int tries = 0;
            do
            {
                // A splice at the same cut (or cut at 0: the other input whole), a length rewritten to itself, or a second
                // flip of the same bit gives a valid input back: draw again, so every input run is damaged.
                (mutated, kind) = Damage(target, random, input);
            }
            while (IsValidInput(target, mutated) && ++tries < 16);
            outcome.ByKind[kind] = outcome.ByKind.GetValueOrDefault(kind) + 1;
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                target.Decode(mutated);
                outcome.Accepted++;
            }
            catch (OutOfMemoryException ex)
            {
                outcome.OutOfMemory++;
                Note(outcome, i, kind, mutated, ex);
            }
            catch (Exception ex) when (target.IsTyped(ex))
            {
                string name = ex.GetType().Name;
                outcome.Typed[name] = outcome.Typed.GetValueOrDefault(name) + 1;
            }
            catch (Exception ex)
            {
                string name = ex.GetType().Name;
                outcome.Untyped[name] = outcome.Untyped.GetValueOrDefault(name) + 1;
                Note(outcome, i, kind, mutated, ex);
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > outcome.MaxAllocatedPerInput)
            {
                outcome.MaxAllocatedPerInput = allocated;
                outcome.MaxAllocatedKind = kind;
            }
            outcome.Inputs++;
        }
        outcome.Seconds = clock.Elapsed.TotalSeconds;
        stop.Cancel();
        sampler.GetAwaiter().GetResult();
        outcome.PeakHeapBytes = peak;
        return outcome;
    }

    private static bool IsValidInput(FuzzTarget target, byte[] data)
    {
        foreach (var valid in target.Corpus)
        {
            if (valid.AsSpan().SequenceEqual(data))
            {
                return true;
            }
        }
        return false;
    }

    private static (byte[] Mutated, MutationKind Kind) Damage(FuzzTarget target, Random random, byte[] input)
    {
        byte[] mutated;
        MutationKind kind;
        if (target.Structured is not null && random.Next(2) == 0)
        {
            (mutated, kind) = (target.Structured(random, input), MutationKind.Structured);
        }
        else
        {
            (mutated, kind) = Mutator.Mutate(random, input, target.Corpus, target.LengthFields);
            if (random.Next(4) == 0)
            {
                (mutated, _) = Mutator.Mutate(random, mutated, target.Corpus, target.LengthFields); // stacked damage
            }
        }
        if (target.FixUp is not null && random.Next(8) != 0)
        {
            mutated = target.FixUp(mutated);
        }
        return (mutated, kind);
    }

    private static void Note(FuzzOutcome outcome, int iteration, MutationKind kind, byte[] input, Exception ex)
    {
        string type = ex.GetType().FullName!;
        if (outcome.Examples.Count(e => e.Contains(type + " at", StringComparison.Ordinal)) >= 2 || outcome.Examples.Count >= 8)
        {
            return; // two of each exception type are enough to reproduce
        }
        string frame = new StackTrace(ex, false).GetFrames().FirstOrDefault(f => f.GetMethod() is not null)?.GetMethod() is { } m ? m.DeclaringType?.Name + "." + m.Name : "?";
        string hex = Convert.ToHexString(input.AsSpan(0, Math.Min(input.Length, 96)));
        outcome.Examples.Add(string.Create(CultureInfo.InvariantCulture,
            $"input #{iteration} ({kind}, {input.Length} bytes): {ex.GetType().FullName} at {frame}: {ex.Message} — bytes {hex}{(input.Length > 96 ? "…" : "")}"));
        // The console (not the report) gets the whole input and stack, to turn into a unit test.
        Console.WriteLine($"fuzz: {outcome.Target.Name}: UNTYPED input #{iteration} ({kind}) base64 {Convert.ToBase64String(input)}\n{ex}");
    }

    /// <summary>A hash of the name that is the same in every process (string.GetHashCode is randomized).</summary>
    private static int StableHash(string text)
    {
        int hash = 17;
        foreach (char c in text)
        {
            hash = unchecked((hash * 31) + c);
        }
        return hash;
    }
}
