'use strict';
// Long-lived peer for the C# benchmark: runs the same Kinesis calls with @aws-sdk/client-kinesis (Node) against
// the same endpoint, one command per stdin line, one answer line per command, so both clients are measured in
// the same BenchmarkDotNet run without Node start-up cost.
//   node kinesis-worker.js <endpoint> <stream>
//   "put"            -> PutRecords of 500 records x 200 bytes  -> "ok <failedRecordCount>"
//   "get <shardId>"  -> GetShardIterator(TRIM_HORIZON) + GetRecords(Limit 500) -> "ok <recordCount>"
//   "loop put|get <n> [shardId]" -> n sequential calls -> "ok <wall ms> <cpu ms>" (this process's CPU, process.cpuUsage)
// @aws-sdk/client-kinesis is resolved through NODE_PATH (the harness's installed tools/emulators node_modules).
const readline = require('node:readline');
const { KinesisClient, PutRecordsCommand, GetShardIteratorCommand, GetRecordsCommand } = require('@aws-sdk/client-kinesis');
const { NodeHttpHandler } = require('@smithy/node-http-handler');

const [endpoint, stream] = process.argv.slice(2);
if (!endpoint || !stream) {
  process.stderr.write('usage: node kinesis-worker.js <endpoint> <stream>\n');
  process.exit(2);
}

const client = new KinesisClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 3,
  // The Kinesis client defaults to HTTP/2 (for SubscribeToShard); over cleartext to kinesis-local its large
  // responses fail with "Protocol error". HTTP/1.1 keep-alive is also what the C# client uses.
  requestHandler: new NodeHttpHandler({ httpAgent: new (require('node:http').Agent)({ keepAlive: true }) }),
});
const payload = Buffer.alloc(200, 0x61);
const records = Array.from({ length: 500 }, (_, i) => ({ Data: payload, PartitionKey: `pk-${i}` }));

const rl = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
rl.on('line', (line) => {
  queue = queue.then(() => handle(line.trim())).catch((err) => process.stdout.write(`error ${err.name}: ${err.message}\n`));
});
rl.on('close', () => queue.then(() => client.destroy()));

async function handle(line) {
  const [command, argument] = line.split(' ');
  if (command === 'put') {
    const response = await client.send(new PutRecordsCommand({ StreamName: stream, Records: records }));
    process.stdout.write(`ok ${response.FailedRecordCount}\n`);
  } else if (command === 'get') {
    const iterator = await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: argument, ShardIteratorType: 'TRIM_HORIZON' }));
    const response = await client.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator, Limit: 500 }));
    process.stdout.write(`ok ${response.Records.length}\n`);
  } else if (command === 'loop') {
    const [, what, count, shard] = line.split(' ');
    const n = Number(count);
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      if (what === 'put') {
        await client.send(new PutRecordsCommand({ StreamName: stream, Records: records }));
      } else {
        const it = await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard, ShardIteratorType: 'TRIM_HORIZON' }));
        await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 500 }));
      }
    }
    const wall = Number(process.hrtime.bigint() - start) / 1e6;
    const used = process.cpuUsage(cpu);
    process.stdout.write(`ok ${wall} ${(used.user + used.system) / 1000}\n`);
  } else if (command === 'ping') {
    process.stdout.write('ok\n');
  } else {
    process.stdout.write(`error unknown command ${command}\n`);
  }
}
