using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Cloud.Records;

namespace Cloud.Benchmarks.Records;

/// <summary>
/// MD5 of a batch of KPL aggregates: one after the other with <see cref="MD5.HashData(ReadOnlySpan{byte}, Span{byte})"/>
/// (the single-stream bound every encoder and verifier is held to) vs 16 at a time in the lanes of Vector512.
/// Run: dotnet run -c Release --project bench/Cloud.Benchmarks -- --filter '*MultiBufferMd5*' --job short
/// </summary>
[MemoryDiagnoser]
public class MultiBufferMd5Benchmarks
{
    private List<ReadOnlyMemory<byte>> _buffers = [];
    private byte[] _digests = [];

    /// <summary>Aggregates per batch (a full PutRecords request holds up to 500).</summary>
    [Params(16, 500)]
    public int Count { get; set; }

    /// <summary>Bytes per aggregate: small (1 KB) and the KPL default bound (50 KiB).</summary>
    [Params(1_000, 51_200)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _buffers = [.. Enumerable.Range(0, Count).Select(_ =>
        {
            var bytes = new byte[Size - random.Next(0, Size / 10)];
            random.NextBytes(bytes);
            return (ReadOnlyMemory<byte>)bytes;
        })];
        _digests = new byte[Count * 16];
    }

    [Benchmark(Baseline = true)]
    public void SingleStream()
    {
        for (int i = 0; i < _buffers.Count; i++)
        {
#pragma warning disable CA5351 // the KPL checksum
            MD5.HashData(_buffers[i].Span, _digests.AsSpan(i * 16, 16));
#pragma warning restore CA5351
        }
    }

    [Benchmark]
    public void MultiBuffer() => MultiBufferMd5.HashData(_buffers, _digests);
}
