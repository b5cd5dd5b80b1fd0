using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Cloud.Privacy;
using Cloud.Records;

namespace Cloud.Benchmarks.Privacy;

/// <summary>Per-record cost of field encryption/decryption with a warm key cache (in-memory key store, local master key).</summary>
[MemoryDiagnoser]
[Config(typeof(InProcessShortRunConfig))]
public class PersonalDataBenchmarks
{
    // A ~330-byte clickstream event with four personal fields (one nested, one an object).
    private static readonly byte[] Record = Encoding.UTF8.GetBytes(
        """{"userId":"user-000042","eventType":"page_view","ts":"2026-11-23T15:00:00.123Z","page":"/products/42?ref=home","email":"ada.lovelace@example.com","name":"Ada Lovelace","device":{"ip":"203.0.113.42","os":"linux","browser":"firefox"},"address":{"street":"12 Analytical Row","city":"London","zip":"N1 9GU"},"durationMs":1534,"items":[1,2,3]}""");

    private PrivacyRuntime _runtime = null!;
    private byte[] _encrypted = null!;
    private readonly AggregateBuilder _builder = new();
    private readonly byte[] _aggregate = new byte[64 * 1024];

    [GlobalSetup]
    public void Setup()
    {
        var options = new PrivacyOptions { PersonalData = new PersonalDataOptions { Fields = ["email", "name", "device.ip", "address"] } };
        _runtime = PrivacyRuntime.Create(options, new InMemoryKeyStore(), new LocalMasterKeyProvider(RandomNumberGenerator.GetBytes(32)));
        _encrypted = _runtime.Protector.EncryptAsync(Record, "clicks").AsTask().GetAwaiter().GetResult().Json.ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runtime.Dispose();
        _builder.Dispose();
    }

    [Benchmark(Baseline = true, Description = "scan only (JSON walk, no personal fields)")]
    public int ScanOnly() => _runtime.Protector.DecryptAsync(Record, "clicks").AsTask().GetAwaiter().GetResult().Json.Length;

    // The pipeline's own per-record cost on the producer side: KPL aggregation + protobuf encode + MD5, per record.
    [Benchmark(OperationsPerInvoke = 100, Description = "aggregate + encode (per record, 100 per aggregate)")]
    public int AggregateEncode()
    {
        _builder.Reset();
        for (int i = 0; i < 100; i++)
        {
            _builder.TryAdd("user-000042", null, Record);
        }

        return _builder.WriteTo(_aggregate);
    }

    [Benchmark(Description = "encrypt record (4 fields)")]
    public int Encrypt() => _runtime.Protector.EncryptAsync(Record, "clicks").AsTask().GetAwaiter().GetResult().Json.Length;

    [Benchmark(Description = "decrypt record (4 fields)")]
    public int Decrypt() => _runtime.Protector.DecryptAsync(_encrypted, "clicks").AsTask().GetAwaiter().GetResult().Json.Length;

    [Benchmark(Description = "encrypt + decrypt record")]
    public int RoundTrip()
    {
        var e = _runtime.Protector.EncryptAsync(Record, "clicks").AsTask().GetAwaiter().GetResult();
        return _runtime.Protector.DecryptAsync(e.Json, "clicks").AsTask().GetAwaiter().GetResult().Json.Length;
    }
}

/// <summary>Raw AES-256-GCM throughput of System.Security.Cryptography.AesGcm, to compare with <c>openssl speed -evp aes-256-gcm</c>.</summary>
[Config(typeof(InProcessShortRunConfig))]
public class AesGcmThroughputBenchmarks
{
    private AesGcm _aes = null!;
    private byte[] _plain = null!;
    private byte[] _cipher = null!;
    private readonly byte[] _nonce = new byte[12];
    private readonly byte[] _tag = new byte[16];

    [Params(16, 1024, 16384)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _aes = new AesGcm(RandomNumberGenerator.GetBytes(32), 16);
        _plain = RandomNumberGenerator.GetBytes(Size);
        _cipher = new byte[Size];
        _buffer = new byte[FieldCiphertext.GetEncryptedLength(Size)];
    }

    [GlobalCleanup]
    public void Cleanup() => _aes.Dispose();

    [Benchmark(Description = "AesGcm.Encrypt (fixed nonce, like openssl speed)")]
    public void Encrypt() => _aes.Encrypt(_nonce, _plain, _cipher, _tag);

    [Benchmark(Description = "FieldCiphertext.Encrypt (random nonce, AAD, base64url)")]
    public int FieldEncrypt() => FieldCiphertext.Encrypt(_key, new FieldBinding("user-000042", "email", "clicks"), _plain, _buffer);

    private readonly UserDataKey _key = new("user-000042", 1, RandomNumberGenerator.GetBytes(32));
    private byte[] _buffer = [];
}

/// <summary>
/// Erase latency as another process sees it: process B has the key cached; process A forgets the user; the method
/// returns when B's lookup reports the user forgotten. With a 250 ms TTL the measured time is bounded by that TTL.
/// </summary>
[Config(typeof(EraseLatencyConfig))]
public class EraseLatencyBenchmarks
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMilliseconds(250);
    private UserKeyRing _a = null!;
    private UserKeyRing _b = null!;
    private LocalMasterKeyProvider _master = null!;
    private string _user = "";
    private int _n;

    [GlobalSetup]
    public void Setup()
    {
        var store = new InMemoryKeyStore();
        _master = new LocalMasterKeyProvider(RandomNumberGenerator.GetBytes(32));
        _a = new UserKeyRing(store, _master, new DataKeyCache(TimeProvider.System, Ttl, 1000));
        _b = new UserKeyRing(store, _master, new DataKeyCache(TimeProvider.System, Ttl, 1000));
    }

    [IterationSetup]
    public void CacheKeyInB()
    {
        _user = "user-" + _n++;
        _a.GetOrCreateKeyAsync(_user, default).AsTask().GetAwaiter().GetResult();
        // B caches the key at a random point of its TTL, as a busy consumer would.
        _b.FindKeyAsync(_user, default).AsTask().GetAwaiter().GetResult();
        Thread.Sleep(Random.Shared.Next(0, (int)Ttl.TotalMilliseconds));
    }

    [GlobalCleanup]
    public void Cleanup() => _master.Dispose();

    [Benchmark(Description = "forget in A until B refuses the key (TTL 250 ms)")]
    public async Task ForgetUntilOtherProcessRefuses()
    {
        await _a.ForgetAsync(_user, default);
        while (!(await _b.FindKeyAsync(_user, default)).IsForgotten)
        {
            await Task.Delay(1);
        }
    }
}

/// <summary>
/// ShortRun job executed in process: on this shared 2-core machine BenchmarkDotNet's generated-project build
/// exceeds its 2-minute build timeout, so the benchmarks run in the host process instead.
/// </summary>
public sealed class InProcessShortRunConfig : ManualConfig
{
    public InProcessShortRunConfig() => AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
}

/// <summary>One invocation per iteration (each forgets a fresh user), ten iterations, in process.</summary>
public sealed class EraseLatencyConfig : ManualConfig
{
    public EraseLatencyConfig() => AddJob(Job.Dry.WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(10)
        .WithInvocationCount(1).WithUnrollFactor(1).WithToolchain(InProcessEmitToolchain.Instance));
}
