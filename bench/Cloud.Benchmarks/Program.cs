using System.Globalization;
using BenchmarkDotNet.Running;
using Cloud.Benchmarks.Kinesis;

// Each capability keeps its benchmarks in its own folder (Kinesis/, Records/, Producer/, ...).
// Run: dotnet run -c Release --project bench/Cloud.Benchmarks -- --filter '*Records*'
// CPU per Kinesis call (process CPU time, robust on a loaded machine): ... -- cpu-probe
// Interleaved SDK vs Node vs raw HTTP on kinesis-local (CLOUD_KINESIS_ENDPOINT, NODE_PATH): ... -- local-probe [rounds]
// The side-by-side report (bench/run): ... -- report [--quick] [--out DIR] [--only id,id]
if (args is ["report", ..])
{
    return await Cloud.Benchmarks.Report.ReportRunner.RunAsync(args[1..]);
}

if (args is ["cpu-probe", ..])
{
    var (put, get, raw, allocated) = KinesisClientOverheadBenchmarks.MeasureCpu();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"AmazonKinesisClient CPU per call (best of 5 x 300): PutRecords 500x200B {put:F0} us ({allocated:F0} KiB allocated), GetRecords 500 {get:F0} us; raw HttpClient PutRecords {raw:F0} us"));
    return 0;
}

if (args is ["local-probe", ..])
{
    Console.WriteLine(await KinesisLocalThroughputBenchmarks.MeasureInterleavedAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 15));
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
