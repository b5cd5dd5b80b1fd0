using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Cloud.Functions.Aggregator;

/// <summary>
/// The Aggregator's window state, carried between invokes in Lambda's <c>state</c> map: one entry
/// <c>"k:&lt;key&gt;"</c> per key (compact text <c>count|sum,min,max,n|…|cat:count:error,…</c>) and one meta
/// entry <c>"m"</c> (format version, last applied sequence number, start of the current segment, record
/// count, and the field layout the entries use). Only configured fields are stored; never raw events.
/// </summary>
public sealed class WindowState
{
    /// <summary>Name of the meta entry.</summary>
    public const string MetaEntry = "m";

    /// <summary>Prefix of key entries.</summary>
    public const string KeyPrefix = "k:";

    /// <summary>Bytes reserved for the meta entry when checking the budget.</summary>
    internal const int MetaReserve = 1024;

    /// <summary>Most distinct categories kept in <see cref="_categories"/> before it starts over.</summary>
    private const int MaxInternedCategories = 65_536;

    // Keyed by string, searched by the UTF-8 bytes of the event's key field: no string per record.
    private readonly Dictionary<string, KeyAggregate> _keys = new(Utf8KeyComparer.Instance);
    private readonly Dictionary<string, string> _categories = new(Utf8KeyComparer.Instance);

    /// <summary>Creates an empty state with the given field layout.</summary>
    public WindowState(IReadOnlyList<string> sumFields, string? topKField, int topKCapacity)
    {
        SumFields = sumFields;
        TopKField = topKField;
        TopKCapacity = topKCapacity;
    }

    /// <summary>Creates an empty state with <paramref name="config"/>'s layout.</summary>
    public WindowState(AggregatorConfig config)
        : this(config.SumFields, config.TopKField, config.TopKCapacity)
    {
    }

    /// <summary>Numeric fields, in entry order.</summary>
    public IReadOnlyList<string> SumFields { get; }

    /// <summary>Categorical field, or null.</summary>
    public string? TopKField { get; }

    /// <summary>Categories tracked per key.</summary>
    public int TopKCapacity { get; }

    /// <summary>Sequence number of the last Kinesis record fully applied in this window (records at or below it are duplicates).</summary>
    public string? LastSequenceNumber { get; set; }

    /// <summary><c>sequence/sub</c> of the first user record of the current segment, or null when the segment is empty.</summary>
    public string? SegmentStart { get; set; }

    /// <summary>User records applied in the current segment.</summary>
    public long UserRecords { get; private set; }

    /// <summary>Aggregates per key.</summary>
    public IReadOnlyDictionary<string, KeyAggregate> Keys => _keys;

    /// <summary>Serialized size of the key entries in bytes (as JSON, object braces and commas included).</summary>
    public int KeyEntriesBytes { get; private set; } = 2;

    /// <summary>Upper bound of the serialized state size (key entries plus the meta reserve).</summary>
    public int EstimatedBytes => KeyEntriesBytes + MetaReserve;

    /// <summary>True when the layout equals <paramref name="config"/>'s.</summary>
    public bool HasLayoutOf(AggregatorConfig config) =>
        SumFields.SequenceEqual(config.SumFields, StringComparer.Ordinal)
        && string.Equals(TopKField, config.TopKField, StringComparison.Ordinal)
        && TopKCapacity == config.TopKCapacity;

    /// <summary>Applies one user record's fields to its key.</summary>
    /// <param name="key">The aggregation key.</param>
    /// <param name="values">One entry per <see cref="SumFields"/>; null when the event lacks the field.</param>
    /// <param name="category">The top-K field's value, or null.</param>
    public void Apply(string key, ReadOnlySpan<decimal?> values, string? category)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!_keys.TryGetValue(key, out KeyAggregate? agg))
        {
            agg = AddKey(key);
        }

        Apply(agg, values, category);
    }

    /// <summary>Applies one user record whose key is given as (valid) UTF-8 bytes, as read from the event.</summary>
    internal void Apply(ReadOnlySpan<byte> keyUtf8, ReadOnlySpan<decimal?> values, string? category)
    {
        if (!_keys.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(keyUtf8, out KeyAggregate? agg))
        {
            // A key the JSON encoder leaves as it is (the usual case) needs no encoding to be measured.
            agg = AddKey(Encoding.UTF8.GetString(keyUtf8), JavaScriptEncoder.Default.FindFirstCharacterToEncodeUtf8(keyUtf8) < 0 ? keyUtf8.Length : -1);
        }

        Apply(agg, values, category);
    }

    /// <summary>The category for (valid) UTF-8 bytes: one string per distinct category, not one per record.</summary>
    internal string InternCategory(ReadOnlySpan<byte> categoryUtf8)
    {
        var lookup = _categories.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (lookup.TryGetValue(categoryUtf8, out string? category))
        {
            return category;
        }

        if (_categories.Count >= MaxInternedCategories)
        {
            _categories.Clear();
        }

        category = Encoding.UTF8.GetString(categoryUtf8);
        _categories[category] = category;
        return category;
    }

    /// <param name="key">The new key.</param>
    /// <param name="encodedLength">Its length once JSON-encoded when known, else -1.</param>
    private KeyAggregate AddKey(string key, int encodedLength = -1)
    {
        var agg = new KeyAggregate(SumFields.Count);
        _keys.Add(key, agg);
        // "k:<key>":"<value>",  → escaped key + prefix + 2 quotes + colon + 2 quotes + comma
        agg.EntryOverhead = (encodedLength >= 0 ? KeyPrefix.Length + encodedLength : JsonEncodedText.Encode(KeyPrefix + key).EncodedUtf8Bytes.Length) + 6;
        KeyEntriesBytes += agg.EntryOverhead;
        return agg;
    }

    private void Apply(KeyAggregate agg, ReadOnlySpan<decimal?> values, string? category)
    {
        agg.Count++;
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] is { } v)
            {
                agg.Fields[i].Add(v);
            }
        }

        if (category is not null && TopKField is not null)
        {
            agg.AddCategory(category, TopKCapacity);
        }

        UserRecords++;
        Remeasure(agg);
    }

    private void Remeasure(KeyAggregate agg)
    {
        int length = agg.MeasureEncoded(TopKField is not null); // ASCII, no JSON escaping needed
        KeyEntriesBytes += length - agg.EncodedLength;
        agg.EncodedLength = length;
    }

    /// <summary>Empties the key entries (after they were written out) and starts a new segment.</summary>
    public void ResetSegment()
    {
        _keys.Clear();
        KeyEntriesBytes = 2;
        SegmentStart = null;
        UserRecords = 0;
    }

    /// <summary>The state map to return to Lambda.</summary>
    public Dictionary<string, string> ToStateMap()
    {
        var map = new Dictionary<string, string>(_keys.Count + 1, StringComparer.Ordinal)
        {
            [MetaEntry] = EncodeMeta(),
        };
        var text = new CharBuffer();
        foreach ((string key, KeyAggregate agg) in _keys)
        {
            text.Clear();
            agg.Encode(text, TopKField is not null);
            map[KeyPrefix + key] = new string(text.Written);
        }

        return map;
    }

    /// <summary>
    /// Writes the state map <see cref="ToStateMap"/> returns as a JSON object, entry for entry in the same order, without
    /// making its strings (what the response serializer would write for it).
    /// </summary>
    internal void WriteStateMap(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString(MetaEntry, EncodeMeta());
        var name = new CharBuffer();
        var text = new CharBuffer();
        foreach ((string key, KeyAggregate agg) in _keys)
        {
            name.Clear();
            name.Append(KeyPrefix);
            name.Append(key);
            text.Clear();
            agg.Encode(text, TopKField is not null);
            writer.WriteString(name.Written, text.Written);
        }

        writer.WriteEndObject();
    }

    private string EncodeMeta()
    {
        var sb = new StringBuilder(256);
        sb.Append('1').Append('|').Append(LastSequenceNumber).Append('|').Append(SegmentStart).Append('|')
          .Append(UserRecords.ToString(CultureInfo.InvariantCulture)).Append('|');
        if (TopKField is not null)
        {
            StateText.AppendEscaped(sb, TopKField);
        }

        sb.Append('|').Append(TopKCapacity.ToString(CultureInfo.InvariantCulture)).Append('|');
        for (int i = 0; i < SumFields.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            StateText.AppendEscaped(sb, SumFields[i]);
        }

        return sb.ToString();
    }

    /// <summary>
    /// Reads a state map. An empty or missing map gives an empty state with <paramref name="config"/>'s layout;
    /// otherwise the layout recorded in the map is used (it may differ from the current configuration).
    /// </summary>
    /// <exception cref="AggregatorStateException">The map was not written by this Aggregator or is damaged.</exception>
    public static WindowState Parse(IReadOnlyDictionary<string, string>? map, AggregatorConfig config)
    {
        if (map is null || map.Count == 0)
        {
            return new WindowState(config);
        }

        if (!map.TryGetValue(MetaEntry, out string? meta))
        {
            throw new AggregatorStateException(MetaEntry, "the meta entry is missing (state not written by this Aggregator?)");
        }

        string[] parts = meta.Split('|');
        if (parts.Length != 7 || parts[0] != "1")
        {
            throw new AggregatorStateException(MetaEntry, "unknown meta format");
        }

        WindowState state;
        long userRecords;
        try
        {
            string[] fields = parts[6].Length == 0 ? [] : parts[6].Split(',').Select(f => StateText.Unescape(f)).ToArray();
            state = new WindowState(fields, parts[4].Length == 0 ? null : StateText.Unescape(parts[4]),
                int.Parse(parts[5], NumberStyles.None, CultureInfo.InvariantCulture));
            userRecords = long.Parse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            throw new AggregatorStateException(MetaEntry, "bad number or field name in meta entry", ex);
        }

        state.LastSequenceNumber = parts[1].Length == 0 ? null : parts[1];
        state.SegmentStart = parts[2].Length == 0 ? null : parts[2];

        foreach ((string entry, string value) in map)
        {
            if (entry == MetaEntry)
            {
                continue;
            }

            if (!entry.StartsWith(KeyPrefix, StringComparison.Ordinal))
            {
                throw new AggregatorStateException(entry, "unknown entry");
            }

            state.Restore(entry, entry[KeyPrefix.Length..], value);
        }

        state.UserRecords = userRecords;
        return state;
    }

    private void Restore(string entry, string key, string value)
    {
        string[] sections = value.Split('|');
        int expected = 1 + SumFields.Count + (TopKField is null ? 0 : 1);
        if (sections.Length != expected)
        {
            throw new AggregatorStateException(entry, $"expected {expected} sections, found {sections.Length}");
        }

        var agg = new KeyAggregate(SumFields.Count);
        try
        {
            agg.Count = long.Parse(sections[0], NumberStyles.None, CultureInfo.InvariantCulture);
            for (int i = 0; i < SumFields.Count; i++)
            {
                string s = sections[1 + i];
                if (s.Length == 0)
                {
                    continue;
                }

                string[] n = s.Split(',');
                if (n.Length != 4)
                {
                    throw new FormatException($"field section {i} needs 4 numbers");
                }

                agg.Fields[i] = new FieldStats
                {
                    Sum = decimal.Parse(n[0], NumberStyles.Number, CultureInfo.InvariantCulture),
                    Min = decimal.Parse(n[1], NumberStyles.Number, CultureInfo.InvariantCulture),
                    Max = decimal.Parse(n[2], NumberStyles.Number, CultureInfo.InvariantCulture),
                    Count = long.Parse(n[3], NumberStyles.None, CultureInfo.InvariantCulture),
                };
            }

            if (TopKField is not null)
            {
                ReadOnlySpan<char> top = sections[^1];
                if (top.StartsWith("~"))
                {
                    agg.MarkApproximate();
                    top = top[1..];
                }

                foreach (Range r in top.Split(','))
                {
                    ReadOnlySpan<char> item = top[r];
                    if (item.IsEmpty)
                    {
                        continue;
                    }

                    int c2 = item.LastIndexOf(':');
                    int c1 = c2 > 0 ? item[..c2].LastIndexOf(':') : -1;
                    if (c1 <= 0)
                    {
                        throw new FormatException("top entry needs category:count:error");
                    }

                    agg.RestoreTop(new TopEntry(StateText.Unescape(item[..c1]),
                        long.Parse(item[(c1 + 1)..c2], NumberStyles.None, CultureInfo.InvariantCulture),
                        long.Parse(item[(c2 + 1)..], NumberStyles.None, CultureInfo.InvariantCulture)));
                }
            }
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            throw new AggregatorStateException(entry, ex.Message, ex);
        }

        _keys.Add(key, agg);
        agg.EntryOverhead = JsonEncodedText.Encode(entry).EncodedUtf8Bytes.Length + 6;
        KeyEntriesBytes += agg.EntryOverhead;
        Remeasure(agg);
    }
}

/// <summary>The window state handed in by Lambda is not one this Aggregator wrote, or is damaged.</summary>
public sealed class AggregatorStateException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AggregatorStateException(string entry, string problem, Exception? innerException = null)
        : base($"Window state entry '{entry}': {problem}", innerException)
    {
        Entry = entry;
    }

    /// <summary>The state entry (map key) that is wrong.</summary>
    public string Entry { get; }
}
