using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Cloud.Emulators.Faults;

/// <summary>Fault rates (0–1, per request unless noted) of <see cref="FaultInjectingProxy"/>.</summary>
public sealed record FaultOptions
{
    /// <summary>Seed of the fault dice, so a failing run can be replayed.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Per PutRecords entry: fail it with ProvisionedThroughputExceededException (the entry is not forwarded).</summary>
    public double ThrottleRecordRate { get; init; }

    /// <summary>Per PutRecords entry: fail it with InternalFailure (the entry is not forwarded).</summary>
    public double InternalFailureRecordRate { get; init; }

    /// <summary>Answer HTTP 500 InternalFailure without forwarding.</summary>
    public double ServerErrorRate { get; init; }

    /// <summary>Delay the request by <see cref="SlowDelay"/> before forwarding.</summary>
    public double SlowRate { get; init; }

    /// <summary>Delay of slow requests.</summary>
    public TimeSpan SlowDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Drop the connection without forwarding (the write did not happen).</summary>
    public double DropBeforeForwardRate { get; init; }

    /// <summary>Forward, then drop the connection (the write happened but the caller cannot know: duplicates follow).</summary>
    public double DropAfterForwardRate { get; init; }
}

/// <summary>Counts of faults injected so far.</summary>
public sealed class FaultCounters
{
    internal long _requests, _throttled, _internal, _serverErrors, _slow, _droppedBefore, _droppedAfter, _answersLost, _lostAnswerEntries;

    /// <summary>Requests received.</summary>
    public long Requests => Interlocked.Read(ref _requests);
    /// <summary>PutRecords entries failed with ProvisionedThroughputExceededException.</summary>
    public long ThrottledRecords => Interlocked.Read(ref _throttled);
    /// <summary>PutRecords entries failed with InternalFailure.</summary>
    public long InternalFailureRecords => Interlocked.Read(ref _internal);
    /// <summary>HTTP 500 answers.</summary>
    public long ServerErrors => Interlocked.Read(ref _serverErrors);
    /// <summary>Delayed requests.</summary>
    public long SlowRequests => Interlocked.Read(ref _slow);
    /// <summary>Connections dropped before forwarding.</summary>
    public long DroppedBeforeForward => Interlocked.Read(ref _droppedBefore);
    /// <summary>Connections dropped after forwarding.</summary>
    public long DroppedAfterForward => Interlocked.Read(ref _droppedAfter);

    /// <summary>Requests the emulator answered but whose answer never reached the caller (dropped after forwarding, or the
    /// caller had gone): their writes happened, so a retry duplicates them.</summary>
    public long AnswersLost => Interlocked.Read(ref _answersLost);
    /// <summary>Records stored by requests whose answer was lost (see <see cref="FaultInjectingProxy.LostAnswerRecords"/>).</summary>
    public long LostAnswerRecords => Interlocked.Read(ref _lostAnswerEntries);

    /// <inheritdoc />
    public override string ToString() =>
        $"requests={Requests} throttled={ThrottledRecords} internal={InternalFailureRecords} 500s={ServerErrors} slow={SlowRequests} dropped={DroppedBeforeForward}+{DroppedAfterForward} answersLost={AnswersLost} ({LostAnswerRecords} records)";
}

/// <summary>A record Kinesis stored whose PutRecords/PutRecord answer the caller never got.</summary>
/// <param name="ShardId">Where it was stored.</param>
/// <param name="SequenceNumber">Its sequence number.</param>
public readonly record struct LostAnswerRecord(string ShardId, string SequenceNumber);

/// <summary>
/// A loopback HTTP proxy in front of a Kinesis emulator (which never throttles) that injects the failures real
/// Kinesis produces: partial PutRecords failures (the failed entries are removed from the forwarded request and
/// answered as ProvisionedThroughputExceededException / InternalFailure, so a failed entry was really not written),
/// HTTP 500s, slow answers and dropped connections. Seeded; binds 127.0.0.1 only.
/// </summary>
public sealed class FaultInjectingProxy : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly HttpClient _upstream;
    private readonly Uri _target;
    private readonly Random _random;
    private readonly Lock _diceLock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;

    private FaultInjectingProxy(Uri target, FaultOptions options, int port)
    {
        _target = target;
        Options = options;
        _random = new Random(options.Seed);
        _upstream = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 64 }) { Timeout = TimeSpan.FromMinutes(2) };
        Endpoint = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Endpoint.ToString());
        _listener.Start();
        _acceptLoop = Task.Run(() => LoopbackHttp.AcceptAsync(_listener, HandleAsync, _stop.Token));
    }

    /// <summary>Address to give the Kinesis client instead of the emulator's.</summary>
    public Uri Endpoint { get; }

    /// <summary>Current fault rates.</summary>
    public FaultOptions Options { get; set; }

    /// <summary>What was injected so far.</summary>
    public FaultCounters Counters { get; } = new();

    /// <summary>
    /// Every record the emulator stored whose answer did not reach the caller (a dropped-after-forward connection, or a
    /// caller that had given up): the at-least-once duplicates a retrying producer can make are exactly re-sends of these.
    /// </summary>
    public IReadOnlyCollection<LostAnswerRecord> LostAnswerRecords => _lostAnswers;

    private readonly ConcurrentQueue<LostAnswerRecord> _lostAnswers = new();

    /// <summary>Starts a proxy on a free loopback port forwarding to <paramref name="target"/>.</summary>
    public static FaultInjectingProxy Start(Uri target, FaultOptions options)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        if (!IPAddress.IsLoopback(IPAddress.Parse(target.Host)))
        {
            throw new ArgumentException($"The proxy only forwards to loopback addresses, not {target.Host}.", nameof(target));
        }
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new FaultInjectingProxy(target, options, port);
    }

    private double Roll()
    {
        lock (_diceLock)
        {
            return _random.NextDouble();
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        string? stored = null; // the emulator's answer, once forwarded and not yet delivered to the caller
        bool put = false;
        try
        {
            Interlocked.Increment(ref Counters._requests);
            var options = Options;
            byte[] body;
            using (var ms = new MemoryStream())
            {
                await context.Request.InputStream.CopyToAsync(ms, _stop.Token).ConfigureAwait(false);
                body = ms.ToArray();
            }
            string target = context.Request.Headers["X-Amz-Target"] ?? "";
            if (Roll() < options.SlowRate)
            {
                Interlocked.Increment(ref Counters._slow);
                await Task.Delay(options.SlowDelay, _stop.Token).ConfigureAwait(false);
            }
            if (Roll() < options.DropBeforeForwardRate)
            {
                Interlocked.Increment(ref Counters._droppedBefore);
                await DropAsync(context).ConfigureAwait(false);
                return;
            }
            if (Roll() < options.ServerErrorRate)
            {
                Interlocked.Increment(ref Counters._serverErrors);
                await WriteAsync(context, HttpStatusCode.InternalServerError, "{\"__type\":\"InternalFailure\",\"message\":\"injected by FaultInjectingProxy\"}").ConfigureAwait(false);
                return;
            }
            bool putRecords = target.EndsWith(".PutRecords", StringComparison.Ordinal);
            List<int>? failed = null;
            List<string>? codes = null;
            if (putRecords && (options.ThrottleRecordRate > 0 || options.InternalFailureRecordRate > 0))
            {
                (body, failed, codes) = RemoveFailedEntries(body, options);
            }
            var (status, responseBody, contentType) = await ForwardAsync(context, body).ConfigureAwait(false);
            put = status == HttpStatusCode.OK && (putRecords || target.EndsWith(".PutRecord", StringComparison.Ordinal));
            stored = responseBody;
            if (failed is { Count: > 0 } && status == HttpStatusCode.OK)
            {
                responseBody = MergeFailures(responseBody, failed, codes!);
            }
            if (Roll() < options.DropAfterForwardRate)
            {
                Interlocked.Increment(ref Counters._droppedAfter);
                RecordLostAnswer(put, stored);
                stored = null;
                await DropAsync(context).ConfigureAwait(false);
                return;
            }
            await WriteAsync(context, status, responseBody, contentType).ConfigureAwait(false);
            stored = null;
        }
        catch (Exception)
        {
            RecordLostAnswer(put, stored);
            try
            {
                context.Response.Abort();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>Notes the records a PutRecord(s) answer that never reached the caller says were stored.</summary>
    private void RecordLostAnswer(bool put, string? answer)
    {
        if (answer is null)
        {
            return;
        }
        Interlocked.Increment(ref Counters._answersLost);
        if (!put)
        {
            return;
        }
        try
        {
            var json = JsonNode.Parse(answer)?.AsObject();
            IEnumerable<JsonNode?> entries = json?["Records"] is JsonArray records ? records : [json];
            foreach (var entry in entries)
            {
                if (entry?["SequenceNumber"]?.GetValue<string>() is { } sequence && entry["ShardId"]?.GetValue<string>() is { } shard)
                {
                    _lostAnswers.Enqueue(new LostAnswerRecord(shard, sequence));
                    Interlocked.Increment(ref Counters._lostAnswerEntries);
                }
            }
        }
        catch (System.Text.Json.JsonException)
        {
            // not a JSON 1.1 answer (CBOR): counted as a lost answer, records unknown
        }
    }

    /// <summary>
    /// Breaks the connection mid-answer: headers promising a body, a fragment of it, then the connection is closed.
    /// (HttpListener's managed Abort() alone answers an empty 200 on Linux, which a client reads as a valid response.)
    /// </summary>
    private static async Task DropAsync(HttpListenerContext context)
    {
        try
        {
            context.Response.StatusCode = (int)HttpStatusCode.OK;
            context.Response.ContentType = "application/x-amz-json-1.1";
            context.Response.ContentLength64 = 4096;
            await context.Response.OutputStream.WriteAsync("{\"Fai"u8.ToArray()).ConfigureAwait(false);
            await context.Response.OutputStream.FlushAsync().ConfigureAwait(false);
        }
        catch (HttpListenerException)
        {
            // the client already went away
        }
        finally
        {
            context.Response.Abort();
        }
    }

    private (byte[] Body, List<int> Failed, List<string> Codes) RemoveFailedEntries(byte[] body, FaultOptions options)
    {
        var json = JsonNode.Parse(body)!.AsObject();
        var records = json["Records"]!.AsArray();
        var failed = new List<int>();
        var codes = new List<string>();
        var kept = new JsonArray();
        for (int i = 0; i < records.Count; i++)
        {
            double roll = Roll();
            string? code = roll < options.ThrottleRecordRate ? "ProvisionedThroughputExceededException"
                : roll < options.ThrottleRecordRate + options.InternalFailureRecordRate ? "InternalFailure" : null;
            if (code is null)
            {
                kept.Add(records[i]!.DeepClone());
                continue;
            }
            failed.Add(i);
            codes.Add(code);
            Interlocked.Increment(ref code == "InternalFailure" ? ref Counters._internal : ref Counters._throttled);
        }
        json["Records"] = kept;
        return (Encoding.UTF8.GetBytes(json.ToJsonString()), failed, codes);
    }

    private static string MergeFailures(string upstreamBody, List<int> failed, List<string> codes)
    {
        var json = JsonNode.Parse(upstreamBody)!.AsObject();
        var results = json["Records"]!.AsArray();
        var merged = new JsonArray();
        int next = 0, failedCount = json["FailedRecordCount"]?.GetValue<int>() ?? 0;
        int total = results.Count + failed.Count;
        for (int i = 0, f = 0; i < total; i++)
        {
            if (f < failed.Count && failed[f] == i)
            {
                merged.Add(new JsonObject
                {
                    ["ErrorCode"] = codes[f],
                    ["ErrorMessage"] = codes[f] == "InternalFailure" ? "Internal service failure (injected)." : "Rate exceeded for shard (injected).",
                });
                f++;
                failedCount++;
            }
            else
            {
                merged.Add(results[next++]!.DeepClone());
            }
        }
        json["Records"] = merged;
        json["FailedRecordCount"] = failedCount;
        return json.ToJsonString();
    }

    private Task<(HttpStatusCode Status, string Body, string ContentType)> ForwardAsync(HttpListenerContext context, byte[] body) =>
        LoopbackHttp.ForwardAsync(_upstream, _target, context, body, _stop.Token);

    private static Task WriteAsync(HttpListenerContext context, HttpStatusCode status, string body, string contentType = "application/x-amz-json-1.1") =>
        LoopbackHttp.WriteAsync(context, status, body, contentType);

    /// <summary>Stops listening and aborts requests in progress.</summary>
    public ValueTask DisposeAsync() => LoopbackHttp.StopAsync(_listener, _acceptLoop, _upstream, _stop);
}
