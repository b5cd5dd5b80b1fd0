// Preload (`node -r ./bind-loopback.js <entry>`) that pins every TCP server to the loopback interface.
// kinesis-local hard-codes 0.0.0.0 as its listen host and has no setting for it; rewriting the host
// argument of net.Server.prototype.listen (which http/https/tls servers inherit) is the clean fix.
// IPC servers (a path) and already-bound handles/fds are left untouched.
'use strict';

const net = require('net');

const LOOPBACK = '127.0.0.1';
const originalListen = net.Server.prototype.listen;

function isPortValue(value) {
  return typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value));
}

function rewriteListenArgs(args) {
  // listen() / listen(callback): an ephemeral port on every interface.
  if (args.length === 0 || typeof args[0] === 'function') {
    return [0, LOOPBACK, ...args];
  }

  const first = args[0];

  // listen(options[, callback])
  if (first !== null && typeof first === 'object') {
    if (first.path !== undefined && first.path !== null) return args; // IPC socket
    const isHandle = first._handle !== undefined || first.fd !== undefined;
    if (isHandle && first.port === undefined) return args; // listen(handle) / listen({ fd })
    const options = { ...first, host: LOOPBACK };
    delete options.ipv6Only;
    return [options, ...args.slice(1)];
  }

  // listen(port[, host][, backlog][, callback]); a non-numeric string is an IPC path.
  if (first === undefined || first === null || isPortValue(first)) {
    const rest = args.slice(1);
    if (typeof rest[0] === 'string' || rest[0] === undefined || rest[0] === null) {
      // host given (or explicitly empty): replace it
      if (rest.length > 0) rest[0] = LOOPBACK;
      else rest.push(LOOPBACK);
    } else {
      // listen(port, backlog, cb) or listen(port, cb): insert the host
      rest.unshift(LOOPBACK);
    }
    return [first ?? 0, ...rest];
  }

  return args;
}

net.Server.prototype.listen = function listen(...args) {
  return originalListen.apply(this, rewriteListenArgs(args));
};

module.exports = { rewriteListenArgs, LOOPBACK };
