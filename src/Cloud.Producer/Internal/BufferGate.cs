namespace Cloud.Producer.Internal;

/// <summary>
/// Bounds the records and bytes held by the producer: <see cref="WaitAsync"/> admits a record when both fit and
/// otherwise waits, first come first served, until completed records release their share.
/// </summary>
internal sealed class BufferGate
{
    private readonly long _maxRecords;
    private readonly long _maxBytes;
    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private long _records;
    private long _bytes;

    private sealed class Waiter(long bytes) : TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public long Bytes { get; } = bytes;
    }

    public BufferGate(long maxRecords, long maxBytes)
    {
        _maxRecords = maxRecords;
        _maxBytes = maxBytes;
    }

    public long Records => Volatile.Read(ref _records);

    public long Bytes => Volatile.Read(ref _bytes);

    private bool Fits(long bytes) => _records < _maxRecords && (_bytes + bytes <= _maxBytes || _records == 0);

    public ValueTask WaitAsync(long bytes, CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_lock)
        {
            if (_waiters.Count == 0 && Fits(bytes))
            {
                _records++;
                _bytes += bytes;
                return ValueTask.CompletedTask;
            }
            cancellationToken.ThrowIfCancellationRequested();
            waiter = new Waiter(bytes);
            _waiters.AddLast(waiter);
        }
        return new ValueTask(WaitSlowAsync(waiter, cancellationToken));
    }

    private async Task WaitSlowAsync(Waiter waiter, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            await waiter.Task.ConfigureAwait(false);
            return;
        }
        using (cancellationToken.UnsafeRegister(static (state, token) =>
        {
            var (gate, w) = ((BufferGate, Waiter))state!;
            bool removed;
            lock (gate._lock)
            {
                removed = gate._waiters.Remove(w);
            }
            if (removed)
            {
                w.TrySetCanceled(token);
            }
        }, (this, waiter)))
        {
            await waiter.Task.ConfigureAwait(false);
        }
    }

    public void Release(long bytes)
    {
        List<Waiter>? admitted = null;
        lock (_lock)
        {
            _records--;
            _bytes -= bytes;
            while (_waiters.First is { } node && Fits(node.Value.Bytes))
            {
                _waiters.RemoveFirst();
                _records++;
                _bytes += node.Value.Bytes;
                (admitted ??= []).Add(node.Value);
            }
        }
        if (admitted is not null)
        {
            foreach (var w in admitted)
            {
                w.TrySetResult();
            }
        }
    }
}
