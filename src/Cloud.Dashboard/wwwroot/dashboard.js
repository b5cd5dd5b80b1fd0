'use strict';
// Live view of the pipeline: reads snapshots from /events (server-sent events) and feeds uPlot charts.
// window.cloudDashboard exposes the state so tests (and curious users) can inspect what the charts hold.
(function () {
  const maxPoints = 300;
  const rates = [[], [], []];   // time (s), in, out
  const errors = [[], [], []];  // time (s), throttles, retries
  const state = { updates: 0, errors: 0, last: null, charts: {} };
  window.cloudDashboard = state;

  function size(el) { return { width: Math.max(300, el.clientWidth - 4), height: 220 }; }

  function lineChart(id, labels, colors, data) {
    const el = document.getElementById(id);
    const opts = Object.assign(size(el), {
      series: [{}].concat(labels.map((label, i) => ({ label, stroke: colors[i], width: 2 }))),
      axes: [{}, { size: 60 }],
    });
    return new uPlot(opts, data, el);
  }

  function shardChart() {
    const el = document.getElementById('chart-shards');
    const bars = uPlot.paths.bars({ size: [0.6, 60] });
    const opts = Object.assign(size(el), {
      scales: {
        x: { time: false, range: (u, min, max) => [(min ?? 0) - 0.5, (max ?? 0) + 0.5] },
        y: { range: (u, min, max) => [0, Math.max(1, (max ?? 0) * 1.15)] },
        lag: { range: (u, min, max) => [0, Math.max(1, (max ?? 0) * 1.15)] },
      },
      series: [
        { label: 'shard' },
        { label: 'records/s', stroke: '#0073bb', fill: 'rgba(0,115,187,.35)', paths: bars, points: { show: false } },
        { label: 'ms behind', stroke: '#d13212', scale: 'lag', width: 2 },
      ],
      axes: [
        { splits: u => u.data[0].slice(), values: (u, splits) => splits.map(i => (state.last && state.last.shards[i]) ? state.last.shards[i].shardId.replace('shardId-', '') : '') },
        { size: 60 },
        { side: 1, scale: 'lag', grid: { show: false }, size: 60 },
      ],
    });
    return new uPlot(opts, [[], [], []], el);
  }

  state.charts.rates = lineChart('chart-rates', ['in', 'out'], ['#0073bb', '#1d8102'], rates);
  state.charts.errors = lineChart('chart-errors', ['throttles', 'retries'], ['#d13212', '#ff9900'], errors);
  state.charts.shards = shardChart();

  function push(series, t, values) {
    series[0].push(t);
    values.forEach((v, i) => series[i + 1].push(v));
    if (series[0].length > maxPoints) { series.forEach(s => s.shift()); }
  }

  function cell(tr, text, numeric) {
    const td = document.createElement('td');
    td.textContent = text;
    if (numeric) { td.className = 'num'; }
    tr.appendChild(td);
  }

  function render(s) {
    const t = Date.parse(s.timestamp) / 1000;
    push(rates, t, [s.recordsInPerSecond || 0, s.recordsOutPerSecond || 0]);
    push(errors, t, [s.throttlesPerSecond || 0, s.retriesPerSecond || 0]);
    state.charts.rates.setData(rates);
    state.charts.errors.setData(errors);

    const shards = s.shards || [];
    state.charts.shards.setData([shards.map((_, i) => i), shards.map(x => x.recordsPerSecond), shards.map(x => x.millisBehindLatest)]);
    const shardBody = document.querySelector('#shards tbody');
    shardBody.replaceChildren();
    for (const x of shards) {
      const tr = document.createElement('tr');
      cell(tr, x.shardId); cell(tr, x.recordsPerSecond.toFixed(1), true); cell(tr, String(x.millisBehindLatest), true);
      shardBody.appendChild(tr);
    }

    const head = document.querySelector('#windows thead');
    const body = document.querySelector('#windows tbody');
    head.replaceChildren(); body.replaceChildren();
    if (s.windows) {
      const tr = document.createElement('tr');
      for (const c of s.windows.columns) { const th = document.createElement('th'); th.textContent = c; tr.appendChild(th); }
      head.appendChild(tr);
      for (const row of s.windows.rows) {
        const r = document.createElement('tr');
        row.forEach(v => cell(r, v, /^-?[\d.,]+$/.test(v)));
        body.appendChild(r);
      }
    }

    document.getElementById('stream').textContent = s.stream || '';
    document.getElementById('status').textContent = s.status || '';
    document.getElementById('forget-state').textContent = s.forget ? s.forget.state : '–';
    document.getElementById('forget-detail').textContent = s.forget && s.forget.detail ? s.forget.detail : '';
    document.getElementById('schema-name').textContent = s.schema ? s.schema.name + ' (' + s.schema.format + ')' : '–';
    document.getElementById('schema-definition').textContent = s.schema ? s.schema.definition : '';
  }

  const badge = document.getElementById('connection');
  const events = new EventSource('/events');
  events.onopen = () => { badge.textContent = 'live'; badge.className = 'badge live'; };
  events.onmessage = (e) => {
    const s = JSON.parse(e.data);
    state.last = s;
    state.updates++;
    render(s);
  };
  events.addEventListener('error', (e) => {
    if (e.data) {
      state.errors++;
      badge.textContent = 'sample failed: ' + JSON.parse(e.data).error;
      badge.className = 'badge error';
    } else {
      badge.textContent = 'reconnecting…';
      badge.className = 'badge';
    }
  });
  window.addEventListener('resize', () => {
    for (const id of ['rates', 'errors', 'shards']) {
      state.charts[id].setSize(size(document.getElementById('chart-' + id)));
    }
  });
})();
