using System.Buffers;
using System.Diagnostics;
using System.Text;
using Cloud.Consumer;
using Cloud.Consumer.Events;

namespace Cloud.Functions.Aggregator;

/// <summary>
/// The Kinesis records of one invoke as the aggregator reads them: sequence number and decoded data per record.
/// Two sources: the objects of a deserialized <see cref="KinesisTimeWindowEvent"/>, or the slices of the event
/// buffer <see cref="WindowEventReader"/> decoded in place. Data handed out stays valid until the next call.
/// </summary>
internal abstract class InvokeRecords : IDisposable
{
    public abstract int Count { get; }

    /// <summary>Sequence number of record <paramref name="index"/>.</summary>
    public abstract string SequenceNumber(int index);

    /// <summary>Compares record <paramref name="index"/>'s sequence number with <paramref name="other"/> (as <see cref="SequenceNumberComparer"/>).</summary>
    public virtual int CompareSequenceNumber(int index, string other) => SequenceNumberComparer.Instance.Compare(SequenceNumber(index), other);

    /// <summary>Compares the sequence numbers of records <paramref name="index"/> and <paramref name="other"/>.</summary>
    public virtual int CompareSequenceNumbers(int index, int other) => SequenceNumberComparer.Instance.Compare(SequenceNumber(index), SequenceNumber(other));

    /// <summary>The record's decoded bytes; false when its <c>data</c> is not base64 (<paramref name="base64Chars"/> long).</summary>
    public abstract bool TryGetData(int index, out ReadOnlyMemory<byte> data, out int base64Chars);

    /// <summary>The shard named by the first record's event id, or null.</summary>
    public abstract string? FirstRecordShardId { get; }

    /// <summary>True when the data <see cref="TryGetData"/> hands out stays valid across calls (else only until the next call).</summary>
    public virtual bool DataStaysValid => false;

    /// <summary>Starts the invoke's span, continuing the producers' traces carried in KPL tags (null when nobody listens).</summary>
    public Activity? StartActivity()
    {
        ActivitySource source = Cloud.Telemetry.CloudActivitySources.Functions;
        if (!source.HasListeners())
        {
            return null;
        }

        var payloads = new List<ReadOnlyMemory<byte>>(Count);
        for (int i = 0; i < Count; i++)
        {
            if (TryGetData(i, out ReadOnlyMemory<byte> data, out _))
            {
                payloads.Add(data.ToArray());
            }
        }

        return KinesisTraceContext.StartActivity(source, Cloud.Telemetry.ActivityNames.Aggregate, KinesisTraceContext.Read(payloads));
    }

    public virtual void Dispose()
    {
    }
}

/// <summary>Records of a deserialized event: base64 decoded from each record's string into one reused buffer.</summary>
internal sealed class ObjectInvokeRecords(IReadOnlyList<KinesisEventRecord> records) : InvokeRecords
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(4096);

    public override int Count => records.Count;

    public override string? FirstRecordShardId => records.Count > 0 ? records[0].ShardId : null;

    public override string SequenceNumber(int index) => records[index].Kinesis?.SequenceNumber ?? "";

    public override bool TryGetData(int index, out ReadOnlyMemory<byte> data, out int base64Chars)
    {
        string base64 = records[index].Kinesis?.Data ?? "";
        int max = (base64.Length / 4 * 3) + 3;
        if (_buffer.Length < max)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(max);
        }

        if (!Convert.TryFromBase64String(base64, _buffer, out int length))
        {
            (data, base64Chars) = (default, base64.Length);
            return false;
        }

        (data, base64Chars) = (_buffer.AsMemory(0, length), -1);
        return true;
    }

    public override void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        base.Dispose();
    }
}

/// <summary>Records of an event read by <see cref="WindowEventReader"/>: slices of its buffer, already decoded.</summary>
internal sealed class BufferInvokeRecords(ParsedWindowEvent evt) : InvokeRecords
{
    public override int Count => evt.Records.Count;

    public override bool DataStaysValid => true;

    public override string? FirstRecordShardId
    {
        get
        {
            string? id = evt.Records.Count > 0 ? evt.FirstEventId : null;
            int colon = id?.IndexOf(':', StringComparison.Ordinal) ?? -1;
            return colon > 0 ? id![..colon] : null;
        }
    }

    public override string SequenceNumber(int index) => evt.SequenceNumber(index);

    // Sequence numbers are compared as their digits in the buffer: no string per record.
    public override int CompareSequenceNumber(int index, string other)
    {
        if (evt.Records[index].EscapedSequenceNumber >= 0 || !Ascii.IsValid(other))
        {
            return base.CompareSequenceNumber(index, other);
        }

        ReadOnlySpan<byte> a = evt.SequenceNumberUtf8(index).TrimStart((byte)'0');
        ReadOnlySpan<char> b = other.AsSpan().TrimStart('0');
        int byLength = a.Length.CompareTo(b.Length);
        if (byLength != 0)
        {
            return byLength;
        }

        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i])
            {
                return a[i].CompareTo((byte)b[i]);
            }
        }

        return 0;
    }

    public override int CompareSequenceNumbers(int index, int other)
    {
        if (evt.Records[index].EscapedSequenceNumber >= 0 || evt.Records[other].EscapedSequenceNumber >= 0)
        {
            return base.CompareSequenceNumbers(index, other);
        }

        ReadOnlySpan<byte> a = evt.SequenceNumberUtf8(index).TrimStart((byte)'0');
        ReadOnlySpan<byte> b = evt.SequenceNumberUtf8(other).TrimStart((byte)'0');
        int byLength = a.Length.CompareTo(b.Length);
        return byLength != 0 ? byLength : a.SequenceCompareTo(b);
    }

    public override bool TryGetData(int index, out ReadOnlyMemory<byte> data, out int base64Chars)
    {
        WindowRecord r = evt.Records[index];
        base64Chars = r.Base64Chars;
        data = r.Base64Chars < 0 ? evt.Buffer.AsMemory(r.DataOffset, r.DataLength) : default;
        return r.Base64Chars < 0;
    }
}
