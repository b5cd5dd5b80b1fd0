using System.Diagnostics.Metrics;
using System.Globalization;

namespace Cloud.Telemetry;

/// <summary>
/// Turns counters of the project's meters into per-second rates for a live view (the pipeline's terminal and web
/// dashboards): records/s in from <c>cloud.producer.user_records</c>, throttles/s, retries/s, optionally broken
/// down by one tag (e.g. <c>shard</c>). Listens in-process through a <see cref="MeterListener"/>, so the libraries
/// need no change and nothing leaves the process. Thread-safe; <see cref="Sample"/> from one sampler loop.
/// </summary>
public sealed class CounterRateSampler : IDisposable
{
    private readonly HashSet<string> _instruments;
    private readonly string? _breakdownTag;
    private readonly TimeProvider _time;
    private readonly MeterListener _listener;
    private readonly object _gate = new();
    private Dictionary<string, double> _totals = new(StringComparer.Ordinal);
    private Dictionary<(string Instrument, string Tag), double> _byTag = [];
    private long _since;
    private bool _disposed;

    /// <summary>Starts listening to the counters named <paramref name="instrumentNames"/> of the <c>Cloud.*</c> meters.</summary>
    /// <param name="instrumentNames">Counter names, e.g. <c>ProducerMetricNames.UserRecords</c>.</param>
    /// <param name="breakdownTag">A tag key (one of <see cref="TelemetryTags"/>) to break the rates down by, or null.</param>
    /// <param name="timeProvider">Clock of the rate interval; <see cref="TimeProvider.System"/> when null.</param>
    public CounterRateSampler(IEnumerable<string> instrumentNames, string? breakdownTag = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(instrumentNames);
        _instruments = new HashSet<string>(instrumentNames, StringComparer.Ordinal);
        if (_instruments.Count == 0)
        {
            throw new ArgumentException("Name at least one counter.", nameof(instrumentNames));
        }
        if (breakdownTag is not null && !TelemetryTags.All.Contains(breakdownTag))
        {
            throw new ArgumentException($"Breakdown tag \"{breakdownTag}\" is not one of the project's tag keys ({string.Join(", ", TelemetryTags.All)}).", nameof(breakdownTag));
        }
        _breakdownTag = breakdownTag;
        _time = timeProvider ?? TimeProvider.System;
        _since = _time.GetTimestamp();
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name.StartsWith("Cloud.", StringComparison.Ordinal) && _instruments.Contains(instrument.Name) && !instrument.IsObservable)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        _listener.Start();
    }

    /// <summary>Rates per second since the previous sample (or since construction), then starts a new interval.
    /// Counters that did not move are reported as 0.</summary>
    public CounterRates Sample()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Dictionary<string, double> totals;
        Dictionary<(string, string), double> byTag;
        long now = _time.GetTimestamp();
        double seconds;
        lock (_gate)
        {
            totals = _totals;
            byTag = _byTag;
            _totals = new(StringComparer.Ordinal);
            _byTag = [];
            seconds = _time.GetElapsedTime(_since, now).TotalSeconds;
            _since = now;
        }
        var rates = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var name in _instruments)
        {
            rates[name] = seconds > 0 && totals.TryGetValue(name, out double t) ? t / seconds : 0;
        }
        var breakdown = new Dictionary<string, IReadOnlyDictionary<string, double>>(StringComparer.Ordinal);
        foreach (var ((instrument, tag), total) in byTag)
        {
            if (!breakdown.TryGetValue(instrument, out var perTag))
            {
                breakdown[instrument] = perTag = new Dictionary<string, double>(StringComparer.Ordinal);
            }
            ((Dictionary<string, double>)perTag)[tag] = seconds > 0 ? total / seconds : 0;
        }
        return new CounterRates(TimeSpan.FromSeconds(seconds), rates, breakdown);
    }

    /// <summary>Stops listening.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _listener.Dispose();
        }
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? tagValue = null;
        if (_breakdownTag is not null)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == _breakdownTag)
                {
                    tagValue = Convert.ToString(tag.Value, CultureInfo.InvariantCulture);
                    break;
                }
            }
        }
        lock (_gate)
        {
            _totals[instrument.Name] = _totals.GetValueOrDefault(instrument.Name) + value;
            if (tagValue is not null)
            {
                _byTag[(instrument.Name, tagValue)] = _byTag.GetValueOrDefault((instrument.Name, tagValue)) + value;
            }
        }
    }
}

/// <summary>One sample of <see cref="CounterRateSampler"/>.</summary>
/// <param name="Interval">Time the rates are over.</param>
/// <param name="PerSecond">Rate per second of each counter.</param>
/// <param name="PerSecondByTag">Per counter, rate per second for each value of the breakdown tag seen in the interval.</param>
public sealed record CounterRates(
    TimeSpan Interval,
    IReadOnlyDictionary<string, double> PerSecond,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> PerSecondByTag);
