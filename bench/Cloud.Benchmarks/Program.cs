using BenchmarkDotNet.Running;

// Each capability keeps its benchmarks in its own folder (Kinesis/, Records/, Producer/, ...).
// Run: dotnet run -c Release --project bench/Cloud.Benchmarks -- --filter '*Records*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
