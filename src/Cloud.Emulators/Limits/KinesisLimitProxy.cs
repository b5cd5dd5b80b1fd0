using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Cloud.Emulators.Limits;

/// <summary>
/// A loopback HTTP proxy in front of kinesis-local that enforces Kinesis's per-shard limits, which the emulator does
/// not: PutRecords entries over a shard's 1,000 records/s or 1 MiB/s fail with ProvisionedThroughputExceededException
/// in their result entry (the others are written, as Kinesis does), a PutRecord over the limit and a sixth
/// GetRecords call on a shard within a second are refused with HTTP 400 and AWS's JSON 1.1 error shape.
/// Everything else is forwarded unchanged. JSON 1.1 only (the .NET and JavaScript SDKs); CBOR bodies pass unmetered.
/// </summary>
public sealed class KinesisLimitProxy : IAsyncDisposable
{
    private const string AccountId = "000000000000";
    private static readonly BigInteger MaxHash = (BigInteger.One << 128) - 1;

    private readonly Uri _target;
    private readonly HttpListener _listener = new();
    private readonly HttpClient _upstream = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromMinutes(2) };
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (List<(string ShardId, BigInteger Start, BigInteger End)> Shards, long LoadedAt)> _maps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Stream, string ShardId)> _iterators = new(StringComparer.Ordinal);
    private readonly Task _accept;

    private KinesisLimitProxy(Uri target, int port, TimeProvider time)
    {
        _target = target;
        _time = time;
        Limits = new KinesisThroughputLimits(time);
        Endpoint = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Endpoint.ToString());
        _listener.Start();
        _accept = Task.Run(() => LoopbackHttp.AcceptAsync(_listener, HandleAsync, _stop.Token));
    }

    /// <summary>Where clients connect (127.0.0.1 only).</summary>
    public Uri Endpoint { get; }

    /// <summary>The accounting (and the count of throttled records and calls).</summary>
    public KinesisThroughputLimits Limits { get; }

    /// <summary>Starts a proxy on a free loopback port forwarding to <paramref name="target"/> (a loopback address).</summary>
    /// <exception cref="ArgumentException">The target is not a loopback address.</exception>
    public static KinesisLimitProxy Start(Uri target, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!IPAddress.TryParse(target.Host, out var address) || !IPAddress.IsLoopback(address))
        {
            throw new ArgumentException($"The limit proxy only forwards to loopback addresses, not {target.Host}.", nameof(target));
        }
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new KinesisLimitProxy(target, port, time ?? TimeProvider.System);
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            byte[] body;
            using (var ms = new MemoryStream())
            {
                await context.Request.InputStream.CopyToAsync(ms, _stop.Token).ConfigureAwait(false);
                body = ms.ToArray();
            }
            string target = context.Request.Headers["X-Amz-Target"] ?? "";
            string operation = target[(target.LastIndexOf('.') + 1)..];
            bool json = (context.Request.ContentType ?? "").Contains("json", StringComparison.OrdinalIgnoreCase);
            if (json && operation == "PutRecords")
            {
                await PutRecordsAsync(context, body).ConfigureAwait(false);
                return;
            }
            if (json && operation == "PutRecord" && !await AdmitPutRecordAsync(body, context.Request.Headers).ConfigureAwait(false))
            {
                await ThrottledAsync(context, "write").ConfigureAwait(false);
                return;
            }
            if (json && operation == "GetRecords" && !AdmitGetRecords(body))
            {
                await ThrottledAsync(context, "read").ConfigureAwait(false);
                return;
            }
            var (status, text, type) = await ForwardAsync(context, body).ConfigureAwait(false);
            if (json && status == HttpStatusCode.OK && operation is "GetShardIterator" or "GetRecords")
            {
                Remember(operation, body, text);
            }
            await WriteAsync(context, status, text, type).ConfigureAwait(false);
        }
        catch (Exception)
        {
            try
            {
                context.Response.Abort();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private async Task PutRecordsAsync(HttpListenerContext context, byte[] body)
    {
        var request = JsonNode.Parse(body)!.AsObject();
        string stream = request["StreamName"]?.GetValue<string>() ?? StreamFromArn(request["StreamARN"]?.GetValue<string>());
        var records = request["Records"]?.AsArray() ?? [];
        var shards = await ShardsAsync(stream, context.Request.Headers).ConfigureAwait(false);
        var kept = new JsonArray();
        var refused = new Dictionary<int, string>();
        for (int i = 0; i < records.Count; i++)
        {
            var entry = records[i]!.AsObject();
            string key = entry["PartitionKey"]?.GetValue<string>() ?? "";
            string data = entry["Data"]?.GetValue<string>() ?? "";
            long bytes = Base64Length(data) + Encoding.UTF8.GetByteCount(key);
            string? shard = ShardOf(shards, key, entry["ExplicitHashKey"]?.GetValue<string>());
            if (shard is not null && !Limits.TryWrite(stream, shard, bytes))
            {
                refused[i] = shard;
                continue;
            }
            kept.Add(entry.DeepClone());
        }
        if (refused.Count == 0)
        {
            var (s, t, type) = await ForwardAsync(context, body).ConfigureAwait(false);
            await WriteAsync(context, s, t, type).ConfigureAwait(false);
            return;
        }
        JsonArray results;
        int failed = refused.Count;
        if (kept.Count > 0)
        {
            request["Records"] = kept;
            var (status, text, type) = await ForwardAsync(context, Encoding.UTF8.GetBytes(request.ToJsonString())).ConfigureAwait(false);
            if (status != HttpStatusCode.OK)
            {
                await WriteAsync(context, status, text, type).ConfigureAwait(false);
                return;
            }
            var upstream = JsonNode.Parse(text)!.AsObject();
            results = upstream["Records"]!.AsArray();
            failed += upstream["FailedRecordCount"]?.GetValue<int>() ?? 0;
        }
        else
        {
            results = [];
        }
        var merged = new JsonArray();
        for (int i = 0, next = 0; i < records.Count; i++)
        {
            merged.Add(refused.TryGetValue(i, out var shard)
                ? new JsonObject
                {
                    ["ErrorCode"] = "ProvisionedThroughputExceededException",
                    ["ErrorMessage"] = $"Rate exceeded for shard {shard} in stream {stream} under account {AccountId}.",
                }
                : results[next++]!.DeepClone());
        }
        var response = new JsonObject { ["FailedRecordCount"] = failed, ["Records"] = merged };
        await WriteAsync(context, HttpStatusCode.OK, response.ToJsonString(), "application/x-amz-json-1.1").ConfigureAwait(false);
    }

    private async Task<bool> AdmitPutRecordAsync(byte[] body, System.Collections.Specialized.NameValueCollection headers)
    {
        var request = JsonNode.Parse(body)!.AsObject();
        string stream = request["StreamName"]?.GetValue<string>() ?? StreamFromArn(request["StreamARN"]?.GetValue<string>());
        string key = request["PartitionKey"]?.GetValue<string>() ?? "";
        var shards = await ShardsAsync(stream, headers).ConfigureAwait(false);
        string? shard = ShardOf(shards, key, request["ExplicitHashKey"]?.GetValue<string>());
        long bytes = Base64Length(request["Data"]?.GetValue<string>() ?? "") + Encoding.UTF8.GetByteCount(key);
        return shard is null || Limits.TryWrite(stream, shard, bytes);
    }

    private bool AdmitGetRecords(byte[] body)
    {
        string? iterator = JsonNode.Parse(body)?["ShardIterator"]?.GetValue<string>();
        (string Stream, string ShardId) owner;
        lock (_lock)
        {
            if (iterator is null || !_iterators.TryGetValue(iterator, out owner))
            {
                return true; // an iterator this proxy did not see issued: not metered
            }
        }
        return Limits.TryRead(owner.Stream, owner.ShardId);
    }

    private void Remember(string operation, byte[] requestBody, string responseText)
    {
        var request = JsonNode.Parse(requestBody)!.AsObject();
        var response = JsonNode.Parse(responseText)?.AsObject();
        lock (_lock)
        {
            if (_iterators.Count > 100_000)
            {
                _iterators.Clear(); // bounded: an evicted iterator is merely not metered
            }
            if (operation == "GetShardIterator" && response?["ShardIterator"]?.GetValue<string>() is { } issued)
            {
                string stream = request["StreamName"]?.GetValue<string>() ?? StreamFromArn(request["StreamARN"]?.GetValue<string>());
                _iterators[issued] = (stream, request["ShardId"]!.GetValue<string>());
            }
            else if (operation == "GetRecords" && request["ShardIterator"]?.GetValue<string>() is { } used
                && _iterators.Remove(used, out var owner) && response?["NextShardIterator"]?.GetValue<string>() is { } next)
            {
                _iterators[next] = owner;
            }
        }
    }

    /// <summary>The open shards of a stream, listed upstream with the caller's credentials headers (cached for a second).</summary>
    private async Task<List<(string ShardId, BigInteger Start, BigInteger End)>> ShardsAsync(string stream, System.Collections.Specialized.NameValueCollection headers)
    {
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            if (_maps.TryGetValue(stream, out var cached) && now - cached.LoadedAt < _time.TimestampFrequency)
            {
                return cached.Shards;
            }
        }
        var shards = new List<(string, BigInteger, BigInteger)>();
        string? token = null;
        do
        {
            var request = token is null ? new JsonObject { ["StreamName"] = stream } : new JsonObject { ["NextToken"] = token };
            using var message = new HttpRequestMessage(HttpMethod.Post, _target) { Content = new StringContent(request.ToJsonString(), Encoding.UTF8) };
            message.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-amz-json-1.1");
            message.Headers.TryAddWithoutValidation("X-Amz-Target", "Kinesis_20131202.ListShards");
            // The emulator checks the shape of the signature, not its value: reuse the caller's headers.
            foreach (var name in new[] { "Authorization", "X-Amz-Date", "X-Amz-Security-Token" })
            {
                if (headers[name] is { } value)
                {
                    message.Headers.TryAddWithoutValidation(name, value);
                }
            }
            using var response = await _upstream.SendAsync(message, _stop.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return [];
            }
            var page = JsonNode.Parse(await response.Content.ReadAsStringAsync(_stop.Token).ConfigureAwait(false))!.AsObject();
            foreach (var shard in page["Shards"]?.AsArray() ?? [])
            {
                if (shard!["SequenceNumberRange"]?["EndingSequenceNumber"] is not null)
                {
                    continue; // closed
                }
                shards.Add((shard["ShardId"]!.GetValue<string>(),
                    BigInteger.Parse(shard["HashKeyRange"]!["StartingHashKey"]!.GetValue<string>(), CultureInfo.InvariantCulture),
                    BigInteger.Parse(shard["HashKeyRange"]!["EndingHashKey"]!.GetValue<string>(), CultureInfo.InvariantCulture)));
            }
            token = page["NextToken"]?.GetValue<string>();
        }
        while (token is not null);
        lock (_lock)
        {
            _maps[stream] = (shards, now);
        }
        return shards;
    }

    /// <summary>The open shard Kinesis routes a record to: explicit hash key, else MD5 of the partition key.</summary>
    internal static string? ShardOf(List<(string ShardId, BigInteger Start, BigInteger End)> shards, string partitionKey, string? explicitHashKey)
    {
        BigInteger hash;
        if (explicitHashKey is not null)
        {
            if (!BigInteger.TryParse(explicitHashKey, NumberStyles.None, CultureInfo.InvariantCulture, out hash) || hash > MaxHash)
            {
                return null; // Kinesis refuses it; let the emulator answer
            }
        }
        else
        {
#pragma warning disable CA5351 // Kinesis maps partition keys with MD5 by definition
            var digest = MD5.HashData(Encoding.UTF8.GetBytes(partitionKey));
#pragma warning restore CA5351
            hash = new BigInteger(digest, isUnsigned: true, isBigEndian: true);
        }
        foreach (var (id, start, end) in shards)
        {
            if (start <= hash && hash <= end)
            {
                return id;
            }
        }
        return null;
    }

    private static long Base64Length(string base64)
    {
        int padding = base64.EndsWith("==", StringComparison.Ordinal) ? 2 : base64.EndsWith('=') ? 1 : 0;
        return Math.Max(0, (base64.Length / 4 * 3) - padding);
    }

    private static string StreamFromArn(string? arn) => arn is null ? "" : arn[(arn.LastIndexOf('/') + 1)..];

    private static async Task ThrottledAsync(HttpListenerContext context, string kind)
    {
        string message = kind == "read" ? "Rate exceeded for Shard - GetRecords limit of 5 transactions per second." : "Rate exceeded for shard.";
        await WriteAsync(context, HttpStatusCode.BadRequest,
            new JsonObject { ["__type"] = "ProvisionedThroughputExceededException", ["message"] = message }.ToJsonString(),
            "application/x-amz-json-1.1").ConfigureAwait(false);
    }

    private Task<(HttpStatusCode Status, string Body, string ContentType)> ForwardAsync(HttpListenerContext context, byte[] body) =>
        LoopbackHttp.ForwardAsync(_upstream, _target, context, body, _stop.Token);

    private static Task WriteAsync(HttpListenerContext context, HttpStatusCode status, string body, string contentType) =>
        LoopbackHttp.WriteAsync(context, status, body, contentType);

    /// <summary>Stops listening and aborts requests in progress.</summary>
    public ValueTask DisposeAsync() => LoopbackHttp.StopAsync(_listener, _accept, _upstream, _stop);
}
