using Cloud.Emulators;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Cloud.Testing.Kinesis;

/// <summary>One request the loopback server received.</summary>
/// <param name="Operation">The operation of <c>X-Amz-Target</c> (e.g. <c>ListStreams</c>).</param>
/// <param name="Body">The JSON body.</param>
/// <param name="Authorization">The <c>Authorization</c> header (SigV4), or null.</param>
public sealed record LoopbackRequest(string Operation, JsonElement Body, string? Authorization);

/// <summary>What the loopback server answers: an HTTP status, a JSON body and optional headers.</summary>
/// <param name="Status">HTTP status.</param>
/// <param name="Json">The body (JSON 1.1).</param>
/// <param name="Headers">Extra headers, e.g. <c>x-amzn-ErrorType</c>.</param>
public sealed record LoopbackResponse(HttpStatusCode Status, string Json, IReadOnlyDictionary<string, string>? Headers = null)
{
    /// <summary>A 200 with <paramref name="json"/>.</summary>
    public static LoopbackResponse Ok(string json) => new(HttpStatusCode.OK, json);

    /// <summary>
    /// An error in AWS's JSON 1.1 shape: <c>{"__type": "...", "message": "..."}</c> and the <c>x-amzn-ErrorType</c>
    /// header, as Kinesis (and the AWS front end for authentication errors) sends it.
    /// </summary>
    /// <param name="status">HTTP status.</param>
    /// <param name="code">The error code.</param>
    /// <param name="message">The message.</param>
    /// <param name="typeHeader">The <c>x-amzn-ErrorType</c> header (e.g. <c>Code:http://internal.amazon.com/...</c>); the code when null.</param>
    /// <param name="bodyType">The body's <c>__type</c> (e.g. <c>com.amazonaws.kinesis.v20131202#Code</c>); the code when null.</param>
    public static LoopbackResponse Error(HttpStatusCode status, string code, string message, string? typeHeader = null, string? bodyType = null) =>
        new(status, JsonSerializer.Serialize(new Dictionary<string, string> { ["__type"] = bodyType ?? code, ["message"] = message }),
            new Dictionary<string, string> { ["x-amzn-ErrorType"] = typeHeader ?? code, ["x-amzn-RequestId"] = Guid.NewGuid().ToString() });
}

/// <summary>
/// A minimal Kinesis JSON 1.1 endpoint on 127.0.0.1 for tests: AWS's own client (or the CLI with <c>--endpoint</c>)
/// talks to it over real HTTP, and <see cref="Handler"/> answers each operation. Lets tests reproduce what another
/// Kinesis implementation or the AWS front end answers (paging without NextToken, authentication errors) that the
/// emulators do not.
/// </summary>
public sealed class LoopbackKinesisServer : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly Task _loop;
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Starts listening on a free loopback port.</summary>
    /// <param name="handler">Answers one request; an exception becomes a 500 InternalFailure.</param>
    public LoopbackKinesisServer(Func<LoopbackRequest, LoopbackResponse> handler)
    {
        Handler = handler ?? throw new ArgumentNullException(nameof(handler));
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                _listener = listener;
                Endpoint = new Uri($"http://127.0.0.1:{port}/");
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                listener.Close(); // the port was taken between probing and binding: try another
            }
        }

        _loop = Task.Run(() => LoopbackHttp.AcceptAsync(_listener, context => Task.Run(() => Answer(context)), _stop.Token));
    }

    /// <summary>The endpoint, <c>http://127.0.0.1:port/</c>.</summary>
    public Uri Endpoint { get; }

    /// <summary>Answers each request.</summary>
    public Func<LoopbackRequest, LoopbackResponse> Handler { get; set; }

    /// <summary>Every request received, in order.</summary>
    public ConcurrentQueue<LoopbackRequest> Requests { get; } = new();

    /// <summary>The requests of one operation.</summary>
    public IReadOnlyList<LoopbackRequest> RequestsOf(string operation) => [.. Requests.Where(r => r.Operation == operation)];

    private void Answer(HttpListenerContext context)
    {
        LoopbackResponse response;
        try
        {
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var text = reader.ReadToEnd();
            using var body = JsonDocument.Parse(text.Length == 0 ? "{}" : text);
            var target = context.Request.Headers["X-Amz-Target"] ?? string.Empty;
            var request = new LoopbackRequest(target[(target.LastIndexOf('.') + 1)..], body.RootElement.Clone(), context.Request.Headers["Authorization"]);
            Requests.Enqueue(request);
            response = Handler(request);
        }
#pragma warning disable CA1031 // a test server turns any handler failure into the service's 500
        catch (Exception ex)
#pragma warning restore CA1031
        {
            response = LoopbackResponse.Error(HttpStatusCode.InternalServerError, "InternalFailure", ex.GetType().Name);
        }

        try
        {
            var bytes = Encoding.UTF8.GetBytes(response.Json);
            context.Response.StatusCode = (int)response.Status;
            context.Response.ContentType = "application/x-amz-json-1.1";
            foreach (var (name, value) in response.Headers ?? new Dictionary<string, string>())
            {
                context.Response.Headers[name] = value;
            }

            context.Response.ContentLength64 = bytes.Length;
            context.Response.OutputStream.Write(bytes);
            context.Response.Close();
        }
        catch (HttpListenerException)
        {
            // the client went away
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }
}
