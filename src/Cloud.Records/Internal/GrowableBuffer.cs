using System.Buffers;

namespace Cloud.Records.Internal;

/// <summary>A byte buffer rented from <see cref="ArrayPool{T}"/> that grows by doubling and keeps its array across <see cref="Clear"/>.</summary>
internal struct GrowableBuffer
{
    private byte[]? _array;
    private int _length;

    public readonly int Length => _length;

    public readonly ReadOnlySpan<byte> WrittenSpan => _array is null ? default : _array.AsSpan(0, _length);

    public Span<byte> GetSpan(int size)
    {
        if (_array is null || _array.Length - _length < size)
        {
            Grow(size);
        }
        return _array.AsSpan(_length, size);
    }

    public void Advance(int count) => _length += count;

    public void Clear() => _length = 0;

    public void Release()
    {
        if (_array is not null)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = null;
        }
        _length = 0;
    }

    private void Grow(int size)
    {
        int needed = checked(_length + size);
        int newSize = Math.Max(needed, Math.Max(256, (_array?.Length ?? 0) * 2));
        var next = ArrayPool<byte>.Shared.Rent(newSize);
        if (_array is not null)
        {
            _array.AsSpan(0, _length).CopyTo(next);
            ArrayPool<byte>.Shared.Return(_array);
        }
        _array = next;
    }
}
