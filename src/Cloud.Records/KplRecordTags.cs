using System.Text;
using Cloud.Records.Internal;

namespace Cloud.Records;

/// <summary>
/// Per-record tags of the KPL aggregation format, encoded once: <c>repeated Tag tags = 4</c> in a Record,
/// <c>Tag { required string key = 1; optional string value = 2; }</c>. KPL deaggregators (KCL, aws-kinesis-agg)
/// skip them, so they carry metadata that other consumers do not trip over. <c>default</c> is "no tags".
/// </summary>
public readonly struct KplRecordTags
{
    private const byte TagField = (4 << 3) | ProtoWire.WireLengthDelimited;   // 0x22
    private const byte KeyField = (1 << 3) | ProtoWire.WireLengthDelimited;   // 0x0A
    private const byte ValueField = (2 << 3) | ProtoWire.WireLengthDelimited; // 0x12

    /// <summary>Most bytes the encoded tags of one record may take (they count towards the aggregate's size).</summary>
    public const int MaxEncodedLength = 1024;

    private readonly byte[]? _encoded;

    private KplRecordTags(byte[] encoded) => _encoded = encoded;

    /// <summary>The Record-field-4 bytes appended after the record's data; empty for <c>default</c>.</summary>
    public ReadOnlySpan<byte> Encoded => _encoded;

    /// <summary>True when there are no tags.</summary>
    public bool IsEmpty => _encoded is null || _encoded.Length == 0;

    /// <summary>Encodes tags. Keys must be non-empty; values may be null (the optional field is left out).</summary>
    /// <exception cref="ArgumentException">A key is empty or the tags encode to more than <see cref="MaxEncodedLength"/> bytes.</exception>
    public static KplRecordTags Create(params ReadOnlySpan<KeyValuePair<string, string?>> tags)
    {
        if (tags.IsEmpty)
        {
            return default;
        }
        var buffer = new List<byte>();
        for (int i = 0; i < tags.Length; i++)
        {
            var (key, value) = tags[i];
            if (string.IsNullOrEmpty(key))
            {
                throw new ArgumentException($"Tag {i} has an empty key; KPL tag keys are required.", nameof(tags));
            }
            int keyBytes = Encoding.UTF8.GetByteCount(key);
            int body = ProtoWire.LengthDelimitedSize(keyBytes) + (value is null ? 0 : ProtoWire.LengthDelimitedSize(Encoding.UTF8.GetByteCount(value)));
            int entry = ProtoWire.LengthDelimitedSize(body);
            if (buffer.Count + entry > MaxEncodedLength)
            {
                throw new ArgumentException($"Tags encode to more than {MaxEncodedLength} bytes (at tag {i}, key \"{key}\").", nameof(tags));
            }
            Span<byte> span = new byte[entry];
            int pos = 0;
            span[pos++] = TagField;
            pos += ProtoWire.WriteVarint(span[pos..], (uint)body);
            pos += WriteString(span[pos..], KeyField, key);
            if (value is not null)
            {
                pos += WriteString(span[pos..], ValueField, value);
            }
            buffer.AddRange(span[..pos]);
        }
        return new KplRecordTags([.. buffer]);
    }

    /// <summary>
    /// Finds the value of the first tag named <paramref name="key"/> in a Record message body
    /// (<see cref="KplSubRecord.Body"/>). Returns false, never throws, when there is none or the tags are malformed:
    /// tags are optional metadata and must not fail a record.
    /// </summary>
    public static bool TryGetValue(ReadOnlySpan<byte> recordBody, string key, out string? value)
    {
        ArgumentNullException.ThrowIfNull(key);
        value = null;
        byte[] keyBytes = Encoding.UTF8.GetBytes(key);
        int pos = 0;
        while (pos < recordBody.Length)
        {
            if (ProtoWire.TryReadVarint(recordBody, ref pos, out ulong tag) != VarintStatus.Ok)
            {
                return false;
            }
            int wire = (int)(tag & 7);
            if (wire == ProtoWire.WireVarint)
            {
                if (ProtoWire.TryReadVarint(recordBody, ref pos, out _) != VarintStatus.Ok)
                {
                    return false;
                }
                continue;
            }
            if (wire != ProtoWire.WireLengthDelimited
                || ProtoWire.TryReadVarint(recordBody, ref pos, out ulong length) != VarintStatus.Ok
                || length > (ulong)(recordBody.Length - pos))
            {
                return false; // the record reader accepts fixed32/64 fields too, but Record defines none
            }
            var field = recordBody.Slice(pos, (int)length);
            pos += (int)length;
            if (tag >> 3 == 4 && TryReadTag(field, out var k, out var v, out bool hasValue) && k.SequenceEqual(keyBytes))
            {
                value = hasValue ? Encoding.UTF8.GetString(v) : null;
                return true;
            }
        }
        return false;
    }

    private static bool TryReadTag(ReadOnlySpan<byte> tag, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value, out bool hasValue)
    {
        key = default;
        value = default;
        hasValue = false;
        bool hasKey = false;
        int pos = 0;
        while (pos < tag.Length)
        {
            if (ProtoWire.TryReadVarint(tag, ref pos, out ulong t) != VarintStatus.Ok
                || (t & 7) != ProtoWire.WireLengthDelimited
                || ProtoWire.TryReadVarint(tag, ref pos, out ulong length) != VarintStatus.Ok
                || length > (ulong)(tag.Length - pos))
            {
                return false;
            }
            var bytes = tag.Slice(pos, (int)length);
            pos += (int)length;
            if (t >> 3 == 1)
            {
                key = bytes;
                hasKey = true;
            }
            else if (t >> 3 == 2)
            {
                value = bytes;
                hasValue = true;
            }
        }
        return hasKey;
    }

    private static int WriteString(Span<byte> destination, byte fieldTag, string text)
    {
        int bytes = Encoding.UTF8.GetByteCount(text);
        destination[0] = fieldTag;
        int pos = 1 + ProtoWire.WriteVarint(destination[1..], (uint)bytes);
        return pos + Encoding.UTF8.GetBytes(text, destination[pos..]);
    }
}
