'use strict';
// Runs aws-kinesis-agg (the awslabs Node KPL-format library) on JSON from stdin, for the compatibility tests.
//   node kinesis-agg-compat.js aggregate   < [{partitionKey, explicitHashKey?, data(base64)}]
//     -> [{partitionKey, explicitHashKey, data(base64)}]   one entry per aggregated Kinesis record
//   node kinesis-agg-compat.js deaggregate < [{partitionKey, sequenceNumber, data(base64)}]
//     -> [{records: [{partitionKey, explicitHashKey, sequenceNumber, subSequenceNumber, data}]} | {error}]
const fs = require('fs');
const agg = require('aws-kinesis-agg');

const mode = process.argv[2];
const input = JSON.parse(fs.readFileSync(0, 'utf8'));

if (mode === 'aggregate') {
  const out = [];
  const aggregator = new agg.RecordAggregator();
  const records = input.map((r) => ({
    partitionKey: r.partitionKey,
    explicitHashKey: r.explicitHashKey === null ? undefined : r.explicitHashKey,
    data: Buffer.from(r.data, 'base64'),
  }));
  aggregator.aggregateRecords(records, true, (err, encoded) => {
    if (err) {
      throw err;
    }
    out.push({
      partitionKey: encoded.partitionKey,
      explicitHashKey: encoded.ExplicitHashKey === undefined ? null : encoded.ExplicitHashKey,
      data: encoded.data.toString('base64'),
    });
  });
  process.stdout.write(JSON.stringify(out));
} else if (mode === 'deaggregate') {
  const out = [];
  for (const rec of input) {
    agg.deaggregateSync(rec, true, (err, users) => {
      if (err) {
        out.push({ error: String(err.message || err) });
        return;
      }
      out.push({
        records: users.map((u) => ({
          partitionKey: u.partitionKey,
          explicitHashKey: u.explicitPartitionKey === undefined ? null : u.explicitPartitionKey,
          sequenceNumber: u.sequenceNumber,
          subSequenceNumber: u.subSequenceNumber === undefined ? null : u.subSequenceNumber,
          data: u.data,
        })),
      });
    });
  }
  process.stdout.write(JSON.stringify(out));
} else {
  process.stderr.write(`unknown mode '${mode}' (aggregate | deaggregate)\n`);
  process.exit(2);
}
