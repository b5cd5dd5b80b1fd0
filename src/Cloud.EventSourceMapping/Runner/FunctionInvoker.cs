namespace Cloud.EventSourceMapping.Runner;

/// <summary>
/// One invoke: writes the event JSON, calls the handler under the function timeout, reads and parses its
/// response. Never throws for the function's faults (they become a failed <see cref="FunctionResponse"/>); only the
/// caller's cancellation propagates. Thread-safe.
/// </summary>
internal sealed class FunctionInvoker
{
    private readonly Func<Stream, CancellationToken, Task<Stream>> _function;
    private readonly EventSourceMappingOptions _options;
    private readonly TimeProvider _time;
    private readonly MappingCounters _counters;

    public FunctionInvoker(Func<Stream, CancellationToken, Task<Stream>> function, EventSourceMappingOptions options, TimeProvider time, MappingCounters counters)
    {
        _function = function;
        _options = options;
        _time = time;
        _counters = counters;
    }

    public async Task<FunctionResponse> InvokeAsync(EventSource source, IReadOnlyList<StreamRecord> records, WindowContext? window, CancellationToken cancellationToken)
    {
        var payload = KinesisEventWriter.ToUtf8Bytes(source, records, window);
        FunctionResponse response;
        using var timeout = new CancellationTokenSource(_options.FunctionTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var started = _time.GetTimestamp();
        using var activity = Cloud.Telemetry.CloudActivitySources.EventSourceMapping.StartActivity(Cloud.Telemetry.ActivityNames.Invoke, System.Diagnostics.ActivityKind.Client);
        activity?.SetTag(Cloud.Telemetry.TelemetryTags.Shard, source.ShardId);
        activity?.SetTag("records", records.Count);
        try
        {
            using var input = new MemoryStream(payload, writable: false);
            var output = await _function(input, linked.Token).WaitAsync(_options.FunctionTimeout, _time, cancellationToken).ConfigureAwait(false);
            byte[] body;
            if (output is null)
            {
                body = [];
            }
            else
            {
                await using (output.ConfigureAwait(false))
                {
                    using var copy = new MemoryStream();
                    await output.CopyToAsync(copy, linked.Token).ConfigureAwait(false);
                    body = copy.ToArray();
                }
            }
            var final = window?.IsFinalInvokeForWindow == true;
            response = FunctionResponse.Parse(body, records, _options.ReportsBatchItemFailures, windowed: window is not null && !final);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && timeout.IsCancellationRequested))
        {
            response = FunctionResponse.Failure($"the function timed out after {_options.FunctionTimeout.TotalSeconds:0.###} s", functionError: true);
        }
        catch (Exception e)
        {
            response = FunctionResponse.Failure($"the function threw {e.GetType().Name}: {e.Message}", functionError: true);
        }
        _counters.Invoked(failed: response.Outcome != InvokeOutcome.Success, _time.GetElapsedTime(started));
        if (response.Outcome != InvokeOutcome.Success)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, response.Outcome.ToString());
        }
        return response;
    }
}
