using System.Buffers;

namespace Cloud.Records;

/// <summary>
/// Writes the aggregates of one PutRecords request and then their MD5 trailers all at once with
/// <see cref="MultiBufferMd5"/> (16 aggregates per pass on AVX-512), instead of one single-stream MD5 per aggregate.
/// The bytes are identical to <see cref="AggregateBuilder.WriteTo(Span{byte})"/>'s. Not thread-safe; reusable.
/// </summary>
/// <example>
/// <code>
/// var encoder = new AggregateBatchEncoder();
/// foreach (var builder in builders) { encoder.Write(builder, buffers[i]); }  // trailers still missing
/// encoder.Complete();                                                       // every aggregate is now final
/// </code>
/// </example>
public sealed class AggregateBatchEncoder
{
    private readonly List<ReadOnlyMemory<byte>> _bodies = [];
    private readonly List<Memory<byte>> _trailers = [];

    /// <summary>Aggregates written since the last <see cref="Complete"/>, whose trailers are not written yet.</summary>
    public int Pending => _bodies.Count;

    /// <summary>
    /// Writes <paramref name="builder"/>'s aggregate (magic and protobuf) into <paramref name="destination"/> and
    /// reserves its 16 trailer bytes, which <see cref="Complete"/> fills: until then the bytes are not a valid
    /// aggregate and <paramref name="destination"/> must stay as it is. The builder may be reset or reused at once.
    /// </summary>
    /// <returns>The bytes the aggregate takes (<see cref="AggregateBuilder.EncodedSize"/>).</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than the aggregate.</exception>
    public int Write(AggregateBuilder builder, Memory<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(builder);
        int size = builder.EncodedSize;
        if (destination.Length < size)
        {
            throw new ArgumentException($"Destination has {destination.Length} bytes; the aggregate needs {size}.", nameof(destination));
        }
        int trailer = builder.WriteWithoutDigest(destination.Span);
        _bodies.Add(destination[KplFormat.MagicLength..trailer]);
        _trailers.Add(destination.Slice(trailer, KplFormat.DigestLength));
        return size;
    }

    /// <summary>Hashes every pending aggregate's protobuf bytes and writes the trailers; the aggregates are then final.</summary>
    public void Complete()
    {
        int count = _bodies.Count;
        if (count == 0)
        {
            return;
        }
        byte[] digests = ArrayPool<byte>.Shared.Rent(count * KplFormat.DigestLength);
        try
        {
            MultiBufferMd5.HashData(_bodies, digests);
            for (int i = 0; i < count; i++)
            {
                digests.AsSpan(i * KplFormat.DigestLength, KplFormat.DigestLength).CopyTo(_trailers[i].Span);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(digests);
            _bodies.Clear();
            _trailers.Clear();
        }
    }

    /// <summary>Forgets pending aggregates without writing their trailers (their buffers are being discarded).</summary>
    public void Clear()
    {
        _bodies.Clear();
        _trailers.Clear();
    }
}
