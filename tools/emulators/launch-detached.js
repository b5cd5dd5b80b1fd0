// Starts a command detached from the caller (own session, stdio to a log file, stdin closed) and
// prints {"pid": N} on stdout. Used by `cloud local up`, whose emulators must outlive the CLI.
// Usage: node launch-detached.js <log-file> <cwd> <command> [args...]
// The child's environment is this process's environment.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');

const [logFile, cwd, command, ...args] = process.argv.slice(2);
if (!logFile || !cwd || !command) {
  process.stderr.write('usage: node launch-detached.js <log-file> <cwd> <command> [args...]\n');
  process.exit(2);
}

const log = fs.openSync(logFile, 'a');
const child = spawn(command, args, {
  cwd,
  detached: true,
  stdio: ['ignore', log, log],
  env: process.env,
  windowsHide: true,
});
child.on('error', (err) => {
  process.stderr.write(`cannot start ${command}: ${err.message}\n`);
  process.exit(1);
});
child.on('spawn', () => {
  process.stdout.write(JSON.stringify({ pid: child.pid }) + '\n');
  child.unref();
  fs.closeSync(log);
  process.exit(0);
});
