'use strict';
// aws-kinesis-agg 4.2.8 doing the same work as KplAggregationBenchmarks on the same records:
// aggregate+encode all user records, and deaggregate (checksums verified) the aggregates it produced.
// Usage: NODE_PATH=<tools/emulators/node_modules> node kinesis-agg-bench.js records.json [seconds]
// records.json: [{partitionKey, data(base64)}] written by the C# benchmark setup (RecordsBenchData.WriteForNode).
const fs = require('fs');
const agg = require('aws-kinesis-agg');

const file = process.argv[2];
const seconds = Number(process.argv[3] || 3);
const records = JSON.parse(fs.readFileSync(file, 'utf8')).map((r) => ({
  partitionKey: r.partitionKey,
  data: Buffer.from(r.data, 'base64'),
}));

function aggregateAll() {
  const out = [];
  const aggregator = new agg.RecordAggregator();
  aggregator.aggregateRecords(records, true, (err, encoded) => {
    if (err) throw err;
    out.push(encoded);
  });
  return out;
}

// Wall time and process CPU time (comparable with openssl speed when the machine is shared): best of several rounds.
function measure(name, fn, perRun) {
  fn(); // warm-up
  let bestWall = Infinity;
  let bestCpu = Infinity;
  const deadline = Date.now() + seconds * 1000;
  do {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    const wall = Number(process.hrtime.bigint() - t0);
    const cpu = process.cpuUsage(cpu0);
    bestWall = Math.min(bestWall, wall / perRun);
    bestCpu = Math.min(bestCpu, ((cpu.user + cpu.system) * 1000) / perRun);
  } while (Date.now() < deadline);
  return {
    name,
    wallNsPerRecord: Math.round(bestWall),
    wallRecordsPerSecond: Math.round(1e9 / bestWall),
    cpuNsPerRecord: Math.round(bestCpu),
    cpuRecordsPerSecond: Math.round(1e9 / bestCpu),
  };
}

const encoded = aggregateAll();
const kinesisRecords = encoded.map((e, i) => ({
  partitionKey: e.partitionKey,
  sequenceNumber: String(49000 + i),
  data: e.data.toString('base64'),
}));
let deaggregated = 0;
const results = [
  measure('aggregate+encode', aggregateAll, records.length),
  measure('deaggregate (md5 verified, base64 in)', () => {
    deaggregated = 0;
    for (const r of kinesisRecords) {
      agg.deaggregateSync(r, true, (err, users) => {
        if (err) throw err;
        deaggregated += users.length;
      });
    }
  }, records.length),
];
if (deaggregated !== records.length) throw new Error(`deaggregated ${deaggregated} of ${records.length}`);
process.stdout.write(JSON.stringify({ node: process.version, records: records.length, aggregates: encoded.length, results }, null, 1) + '\n');
