'use strict';
// A canned Kinesis endpoint on loopback for the client comparison of bench/run (section "client"): answers
// PutRecords, GetShardIterator and GetRecords with fixed, valid JSON 1.1 documents (500 records of 200 bytes) after
// reading the whole request, so both clients do their full work (marshal, sign, send, parse) against the same server
// in its own process (its CPU is counted for neither client).
//   node canned-kinesis.js      -> prints "listening <port>" and serves until stdin closes
const http = require('node:http');

const records = 500;
const data = Buffer.alloc(200, 0x61).toString('base64');
const iterator = 'AAAAAAAAAAETYyAYzd665+8e0X7JTsASDM/Hr2rSwc0X2qz93iuA3udrjTH+ikQvpQk';
const seq = (i) => '49680494547992972950892070355576425501138339613913' + String(i).padStart(6, '0');
const answers = {
  'Kinesis_20131202.PutRecords': JSON.stringify({
    FailedRecordCount: 0,
    Records: Array.from({ length: records }, (_, i) => ({ SequenceNumber: seq(i), ShardId: 'shardId-000000000001' })),
  }),
  'Kinesis_20131202.GetShardIterator': JSON.stringify({ ShardIterator: iterator }),
  'Kinesis_20131202.GetRecords': JSON.stringify({
    NextShardIterator: iterator,
    MillisBehindLatest: 0,
    Records: Array.from({ length: records }, (_, i) => ({ SequenceNumber: seq(i), ApproximateArrivalTimestamp: 1545084650.987, Data: data, PartitionKey: `pk-${i}` })),
  }),
};

const server = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    const answer = answers[req.headers['x-amz-target']];
    if (!answer) {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: 'UnknownOperationException', message: 'not canned' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.resume();
