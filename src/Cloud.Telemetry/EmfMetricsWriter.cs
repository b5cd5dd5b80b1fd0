using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Cloud.Telemetry;

/// <summary>
/// Exports System.Diagnostics.Metrics measurements as CloudWatch Embedded Metric Format log lines: one JSON
/// object per line, which CloudWatch Logs turns into metrics with no agent and no API call
/// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
/// </summary>
/// <remarks>
/// Measurements are aggregated between <see cref="Flush"/> calls: counters and up-down counters are summed,
/// histogram values are kept (EMF value arrays, at most 100 values per member, more values go on further lines),
/// gauges keep their last value, observable counters export the change of their total since the last flush
/// (observable instruments are read at flush time). Measurements with the same tags share one line; their tag keys
/// are the line's dimensions. Call <see cref="Flush"/> at the end of every Lambda invocation.
/// Thread-safe: measurements may arrive on any thread while another flushes.
/// </remarks>
public sealed class EmfMetricsWriter : IDisposable
{
    /// <summary>Most metrics one EMF directive may hold.</summary>
    public const int MaxMetricsPerDirective = 100;
    /// <summary>Most values one metric member may hold.</summary>
    public const int MaxValuesPerMetric = 100;
    /// <summary>Most dimensions one dimension set may hold.</summary>
    public const int MaxDimensions = 30;

    private readonly EmfMetricsOptions _options;
    private readonly TextWriter _output;
    private readonly MeterListener _listener;
    private readonly HashSet<string> _meters;
    private readonly object _gate = new();
    private readonly Dictionary<string, Group> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _lastTotals = new(StringComparer.Ordinal);
    private long _droppedMeasurements;
    private bool _disposed;

    /// <summary>Starts listening to the meters named in <paramref name="options"/>.</summary>
    /// <param name="options">Namespace, meters, default dimensions and clock.</param>
    /// <param name="output">Where the lines go. In Lambda use <see cref="CreateStandardOutput"/>: the runtime's
    /// <see cref="Console.Out"/> prefixes each line with a timestamp and request id, which EMF does not accept.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public EmfMetricsWriter(EmfMetricsOptions options, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        options.Validate();
        _options = options;
        _output = output;
        _meters = new HashSet<string>(options.Meters, StringComparer.Ordinal);
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (_meters.Contains(instrument.Meter.Name))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<short>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<byte>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<float>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<decimal>((i, v, tags, _) => Record(i, (double)v, tags));
        _listener.Start();
    }

    /// <summary>Measurements dropped because they had more than <see cref="MaxDimensions"/> tags or a value that is not finite.</summary>
    public long DroppedMeasurements => Interlocked.Read(ref _droppedMeasurements);

    /// <summary>
    /// A writer over the process's raw standard output (auto-flushing, UTF-8 without BOM, <c>\n</c> line ends),
    /// bypassing the Lambda runtime's <see cref="Console.Out"/> line prefix.
    /// </summary>
    public static TextWriter CreateStandardOutput() =>
        new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };

    /// <summary>
    /// Reads the observable instruments, writes every metric recorded since the last flush as EMF lines and
    /// starts over. Writes nothing when nothing was recorded.
    /// </summary>
    /// <returns>The number of lines written.</returns>
    public int Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _listener.RecordObservableInstruments();
        List<Group> groups;
        lock (_gate)
        {
            groups = [.. _groups.Values.Where(g => g.Metrics.Count > 0)];
            _groups.Clear();
        }
        long timestamp = _options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        int lines = 0;
        var buffer = new MemoryStream();
        foreach (var group in groups)
        {
            foreach (var document in Pack(group))
            {
                buffer.SetLength(0);
                using (var json = new Utf8JsonWriter(buffer))
                {
                    WriteDocument(json, timestamp, group, document);
                }
                _output.Write(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
                _output.Write('\n');
                lines++;
            }
        }
        _output.Flush();
        return lines;
    }

    /// <summary>Stops listening. Does not flush: call <see cref="Flush"/> first.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _listener.Dispose();
        }
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!double.IsFinite(value) || tags.Length > MaxDimensions)
        {
            Interlocked.Increment(ref _droppedMeasurements);
            return;
        }
        var dimensions = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, v) in _options.DefaultDimensions)
        {
            dimensions[key] = v;
        }
        foreach (var tag in tags)
        {
            dimensions[tag.Key] = Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? string.Empty;
        }
        if (dimensions.Count > MaxDimensions)
        {
            Interlocked.Increment(ref _droppedMeasurements);
            return;
        }
        var groupKey = new StringBuilder();
        foreach (var (k, v) in dimensions)
        {
            groupKey.Append(k).Append('\u0001').Append(v).Append('\u0002');
        }
        var kind = KindOf(instrument);
        lock (_gate)
        {
            string key = groupKey.ToString();
            if (!_groups.TryGetValue(key, out var group))
            {
                _groups[key] = group = new Group(dimensions);
            }
            if (!group.Metrics.TryGetValue(instrument.Name, out var metric))
            {
                group.Metrics[instrument.Name] = metric = new Metric(instrument.Name, ToCloudWatchUnit(instrument.Unit), kind);
            }
            switch (kind)
            {
                case MetricKind.Values:
                    metric.Values.Add(value);
                    break;
                case MetricKind.Last:
                    metric.Values.Clear();
                    metric.Values.Add(value);
                    break;
                case MetricKind.Cumulative:
                    // Observable counters report running totals: export the change since the previous flush.
                    string totalKey = key + instrument.Name;
                    _lastTotals.TryGetValue(totalKey, out double previous);
                    _lastTotals[totalKey] = value;
                    metric.Values.Clear();
                    metric.Values.Add(value - previous);
                    break;
                default:
                    if (metric.Values.Count == 0)
                    {
                        metric.Values.Add(value);
                    }
                    else
                    {
                        metric.Values[0] += value;
                    }
                    break;
            }
        }
    }

    /// <summary>Splits a group into documents of at most 100 metrics with at most 100 values each.</summary>
    private static IEnumerable<List<(Metric Metric, int Start, int Count)>> Pack(Group group)
    {
        var metrics = group.Metrics.Values.OrderBy(m => m.Name, StringComparer.Ordinal).ToList();
        var offsets = new int[metrics.Count];
        while (true)
        {
            var document = new List<(Metric, int, int)>();
            for (int i = 0; i < metrics.Count && document.Count < MaxMetricsPerDirective; i++)
            {
                int remaining = metrics[i].Values.Count - offsets[i];
                if (remaining > 0)
                {
                    int take = Math.Min(remaining, MaxValuesPerMetric);
                    document.Add((metrics[i], offsets[i], take));
                    offsets[i] += take;
                }
            }
            if (document.Count == 0)
            {
                yield break;
            }
            yield return document;
        }
    }

    private void WriteDocument(Utf8JsonWriter json, long timestamp, Group group, List<(Metric Metric, int Start, int Count)> document)
    {
        json.WriteStartObject();
        json.WriteStartObject("_aws");
        json.WriteNumber("Timestamp", timestamp);
        json.WriteStartArray("CloudWatchMetrics");
        json.WriteStartObject();
        json.WriteString("Namespace", _options.Namespace);
        json.WriteStartArray("Dimensions");
        json.WriteStartArray();
        foreach (var key in group.Dimensions.Keys)
        {
            json.WriteStringValue(key);
        }
        json.WriteEndArray();
        json.WriteEndArray();
        json.WriteStartArray("Metrics");
        foreach (var (metric, _, _) in document)
        {
            json.WriteStartObject();
            json.WriteString("Name", metric.Name);
            json.WriteString("Unit", metric.Unit);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
        foreach (var (key, value) in group.Dimensions)
        {
            json.WriteString(key, value);
        }
        foreach (var (metric, start, count) in document)
        {
            if (metric.Kind == MetricKind.Values && (count > 1 || metric.Values.Count > 1))
            {
                json.WriteStartArray(metric.Name);
                for (int i = start; i < start + count; i++)
                {
                    json.WriteNumberValue(metric.Values[i]);
                }
                json.WriteEndArray();
            }
            else
            {
                json.WriteNumber(metric.Name, metric.Values[start]);
            }
        }
        json.WriteEndObject();
    }

    /// <summary>Maps a UCUM unit (as .NET and OpenTelemetry instruments use) to a CloudWatch unit.</summary>
    public static string ToCloudWatchUnit(string? unit) => unit switch
    {
        null or "" or "1" => "None",
        "ms" => "Milliseconds",
        "s" => "Seconds",
        "us" or "µs" => "Microseconds",
        "By" => "Bytes",
        "KiBy" or "kBy" => "Kilobytes",
        "MiBy" or "MBy" => "Megabytes",
        "bit" => "Bits",
        "%" => "Percent",
        "By/s" => "Bytes/Second",
        _ when unit.StartsWith('{') && unit.EndsWith("}/s", StringComparison.Ordinal) => "Count/Second",
        _ when unit.StartsWith('{') && unit.EndsWith('}') => "Count",
        _ => "None",
    };

    private static MetricKind KindOf(Instrument instrument) => instrument switch
    {
        Histogram<long> or Histogram<int> or Histogram<short> or Histogram<byte> or Histogram<double> or Histogram<float> or Histogram<decimal> => MetricKind.Values,
        ObservableGauge<long> or ObservableGauge<int> or ObservableGauge<short> or ObservableGauge<byte> or ObservableGauge<double> or ObservableGauge<float> or ObservableGauge<decimal> => MetricKind.Last,
        Gauge<long> or Gauge<int> or Gauge<short> or Gauge<byte> or Gauge<double> or Gauge<float> or Gauge<decimal> => MetricKind.Last,
        _ when instrument.IsObservable => MetricKind.Cumulative,
        _ => MetricKind.Sum,
    };

    private enum MetricKind
    {
        /// <summary>Counter / up-down counter: sum of the deltas.</summary>
        Sum,
        /// <summary>Histogram: every value.</summary>
        Values,
        /// <summary>Gauge: the last value.</summary>
        Last,
        /// <summary>Observable counter / up-down counter: running total, exported as the change since the last flush.</summary>
        Cumulative,
    }

    private sealed class Group(SortedDictionary<string, string> dimensions)
    {
        public SortedDictionary<string, string> Dimensions { get; } = dimensions;
        public Dictionary<string, Metric> Metrics { get; } = new(StringComparer.Ordinal);
    }

    private sealed class Metric(string name, string unit, MetricKind kind)
    {
        public string Name { get; } = name;
        public string Unit { get; } = unit;
        public MetricKind Kind { get; } = kind;
        public List<double> Values { get; } = [];
    }
}
