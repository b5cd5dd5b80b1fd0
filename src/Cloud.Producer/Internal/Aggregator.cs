using System.Buffers;
using Cloud.Records;

namespace Cloud.Producer.Internal;

/// <summary>
/// Aggregator stage: plans the next Kinesis record of a shard (how many head records fit one KPL aggregate) and
/// writes it out, compressed in a self-describing frame when compression is on and pays off.
/// </summary>
/// <remarks>Threading: owned by the producer's loop (one <see cref="AggregateBuilder"/>, reused).</remarks>
internal sealed class Aggregator(KinesisProducerOptions options, ProducerMetrics metrics) : IDisposable
{
    private readonly AggregateBuilder _builder = new(BuilderOptions(options));
    private readonly AggregateBatchEncoder _encoder = new(); // the request's MD5 trailers, hashed together by Seal
    private UserRecord? _plannedHead; // head of the records _builder holds after Plan, until Take

    /// <summary>
    /// How aggregates are bounded. <see cref="AggregationSizeMode.MaxSize"/>: the encoded aggregate (magic + protobuf +
    /// MD5) is at most <see cref="KinesisProducerOptions.AggregationMaxSize"/>, the outer partition key not counted (KPL).
    /// <see cref="AggregationSizeMode.FillPayloadUnits"/>: the aggregate plus its outer (first record's) partition key is
    /// at most as many whole payload units as AggregationMaxSize holds, and at least one unit even when it holds none.
    /// </summary>
    private static AggregateBuilderOptions BuilderOptions(KinesisProducerOptions options)
    {
        if (options.AggregationMode == AggregationSizeMode.FillPayloadUnits)
        {
            int units = Math.Max(1, options.AggregationMaxSize / KinesisProducerOptions.PayloadUnitSize);
            return new AggregateBuilderOptions { MaxAggregateSize = units * KinesisProducerOptions.PayloadUnitSize, FillPayloadUnits = true };
        }
        return new AggregateBuilderOptions { MaxAggregateSize = options.AggregationMaxSize };
    }

    /// <summary>Kinesis records of this shard that are complete (need no more linger), by estimate.</summary>
    public long FullRecords(ShardState s) =>
        options.AggregationEnabled ? s.PendingBytes / options.AggregationMaxSize : s.Pending.Count;

    /// <summary>How many head records of the shard form its next Kinesis record, and that record's size.</summary>
    /// <param name="s">The shard.</param>
    /// <param name="size">The Kinesis record's size (data + outer partition key), as the rate limiter counts it.</param>
    /// <param name="complete">Whether it is full (more records wait behind it, or it reached its bound).</param>
    public int Plan(ShardState s, out long size, out bool complete)
    {
        var head = s.Pending.Front;
        if (!options.AggregationEnabled)
        {
            size = head.Size;
            complete = true;
            return 1;
        }
        // The builder encodes as it plans: when the records are taken, Take only writes the aggregate out.
        _builder.Reset();
        _plannedHead = null;
        int count = 0;
        while (count < s.Pending.Count)
        {
            var r = s.Pending[count];
            if (!_builder.TryAdd(r.PartitionKey, r.ExplicitHashKey, r.Data, r.Tags))
            {
                break;
            }
            count++;
        }
        // Only aggregates carry tags: a lone record with a trace context goes out as a one-record aggregate.
        if (count == 0 || (count == 1 && head.Tags.IsEmpty))
        {
            // A lone record (or one too big to aggregate) goes unaggregated with its own keys.
            size = head.Size;
            complete = count == 0 || s.Pending.Count > 1 || head.Size >= AggregateLimit(head);
            return 1;
        }
        _plannedHead = head;
        size = _builder.KinesisRecordSize; // encoded aggregate + the outer partition key (the head's)
        complete = count < s.Pending.Count;
        return count;
    }

    /// <summary>Takes the planned records off the shard's queue and writes their Kinesis record.</summary>
    public Packed Take(ShardState s, int count)
    {
        var records = new UserRecord[count];
        for (int i = 0; i < count; i++)
        {
            var r = s.Dequeue();
            r.Attempts++;
            records[i] = r;
        }
        if (count == 1 && records[0].Tags.IsEmpty)
        {
            var r = records[0];
            var (rented, data) = Compress(null, new ReadOnlyMemory<byte>(r.Buffer, 0, r.Length));
            s.Limiter.Resize(r.Length, data.Length); // charged at its raw size by the collector
            return new Packed(s, records, rented, data, r.PartitionKey, r.ExplicitHashKey);
        }
        var first = records[0];
        if (!ReferenceEquals(_plannedHead, first) || _builder.Count != count)
        {
            // Not what Plan left in the builder (Take always follows its Plan, so not expected): plan these again.
            _builder.Reset();
            foreach (var r in records)
            {
                if (!_builder.TryAdd(r.PartitionKey, r.ExplicitHashKey, r.Data, r.Tags))
                {
                    throw new InvalidOperationException($"Records planned into one aggregate no longer fit its {_builder.SizeLimit}-byte bound.");
                }
            }
        }
        _plannedHead = null;
        int length = _builder.EncodedSize;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
        // The trailer (and so compression) waits for Seal: the whole request's aggregates are hashed in one multi-buffer pass.
        _encoder.Write(_builder, buffer.AsMemory(0, length));
        return new Packed(s, records, buffer, new ReadOnlyMemory<byte>(buffer, 0, length), first.PartitionKey, PartitionKeyHash.Format(first.Hash))
        {
            Aggregated = true,
            Unsealed = true,
        };
    }

    /// <summary>
    /// Finishes the request's aggregates: writes all their MD5 trailers at once (<see cref="AggregateBatchEncoder"/>,
    /// same bytes as one <see cref="AggregateBuilder.WriteTo(Span{byte})"/> each), then compresses each when compression is on.
    /// </summary>
    public void Seal(Batch batch)
    {
        _encoder.Complete();
        foreach (var p in batch.Entries)
        {
            if (!p.Unsealed)
            {
                continue;
            }
            p.Unsealed = false;
            int encoded = p.Data.Length;
            var (pooled, payload) = Compress(p.RentedBuffer, p.Data);
            p.ReplaceData(pooled, payload);
            // The collector charged the shard's byte bucket with the encoded aggregate; Kinesis counts what is stored.
            p.Shard.Limiter.Resize(encoded, payload.Length);
        }
    }

    /// <summary>Forgets aggregates written since the last <see cref="Seal"/> (their request failed to build).</summary>
    public void Discard() => _encoder.Clear();

    /// <summary>Bound on the encoded aggregate when <paramref name="first"/> heads it (its key is the outer key).</summary>
    private long AggregateLimit(UserRecord first) =>
        _builder.Options.FillPayloadUnits ? _builder.SizeLimit - first.PartitionKeyBytes : _builder.SizeLimit;

    /// <summary>
    /// Wraps a Kinesis record in a compressed frame when compression is on and it pays off. The whole aggregate is
    /// compressed (not each user record): one frame header and one codec context per Kinesis record, and the
    /// repetition across user records (same JSON field names) is what compresses.
    /// </summary>
    private (byte[]? Rented, ReadOnlyMemory<byte> Data) Compress(byte[]? rented, ReadOnlyMemory<byte> data)
    {
        if (options.Compression == CompressionCodec.None)
        {
            return (rented, data);
        }
        int max = CompressedFrame.GetMaxEncodedLength(data.Length, options.Compression);
        byte[] frame = ArrayPool<byte>.Shared.Rent(max);
        int written = CompressedFrame.Encode(data.Span, options.Compression, frame);
        if (written >= data.Length)
        {
            ArrayPool<byte>.Shared.Return(frame);
            return (rented, data); // incompressible: raw bytes keep the record within the size it was planned for
        }
        metrics.CompressionRatio.Record((double)data.Length / written, metrics.StreamTag);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
        return (frame, new ReadOnlyMemory<byte>(frame, 0, written));
    }

    public void Dispose() => _builder.Dispose();
}
