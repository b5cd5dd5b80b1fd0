using System.Net;

namespace Cloud.Emulators;

/// <summary>
/// The plumbing the project's loopback HTTP servers share (the limit proxy of the local stack, the tests' fault proxy
/// and fake servers): an accept loop that hands each request to a handler, forwarding a request to a loopback
/// upstream with its headers, and writing an answer.
/// </summary>
public static class LoopbackHttp
{
    /// <summary>Accepts requests until <paramref name="stop"/> fires or the listener closes; each runs on the thread pool.</summary>
    public static async Task AcceptAsync(HttpListener listener, Func<HttpListenerContext, Task> handle, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(handle);
        while (!stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (stop.IsCancellationRequested || !listener.IsListening || ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => handle(context), CancellationToken.None);
        }
    }

    /// <summary>
    /// Stops a proxy built on <see cref="AcceptAsync"/>: cancels <paramref name="stop"/>, closes the listener (aborting
    /// requests in progress), waits for the accept loop, and disposes the upstream client and the token source.
    /// </summary>
    public static async ValueTask StopAsync(HttpListener listener, Task acceptLoop, HttpClient upstream, CancellationTokenSource stop)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(acceptLoop);
        ArgumentNullException.ThrowIfNull(upstream);
        ArgumentNullException.ThrowIfNull(stop);
        await stop.CancelAsync().ConfigureAwait(false);
        listener.Stop();
        listener.Close();
        try
        {
            await acceptLoop.ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }

        upstream.Dispose();
        stop.Dispose();
    }

    /// <summary>
    /// Sends <paramref name="body"/> to <paramref name="target"/> with the incoming request's path and headers (less
    /// the hop-by-hop ones) and returns the upstream's status, body and content type.
    /// </summary>
    public static async Task<(HttpStatusCode Status, string Body, string ContentType)> ForwardAsync(
        HttpClient upstream, Uri target, HttpListenerContext context, byte[] body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        ArgumentNullException.ThrowIfNull(context);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(target, context.Request.RawUrl ?? "/"));
        request.Content = new ByteArrayContent(body);
        foreach (string? name in context.Request.Headers.AllKeys)
        {
            if (name is null || name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Connection", StringComparison.OrdinalIgnoreCase) || name.Equals("Expect", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            string value = context.Request.Headers[name]!;
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                request.Content.Headers.TryAddWithoutValidation(name, value);
            }
            else
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }
        using var response = await upstream.SendAsync(request, cancellationToken).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return (response.StatusCode, text, response.Content.Headers.ContentType?.ToString() ?? "application/x-amz-json-1.1");
    }

    /// <summary>Writes a whole answer and closes the response.</summary>
    public static async Task WriteAsync(HttpListenerContext context, HttpStatusCode status, string body, string contentType = "application/x-amz-json-1.1")
    {
        ArgumentNullException.ThrowIfNull(context);
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(body);
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = contentType;
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        context.Response.Close();
    }
}
