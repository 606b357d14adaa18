#!/usr/bin/env node
// Sends BYTES zero bytes to HOST:PORT, half-closes, and waits for the receiver's reply that it has read them all;
// prints the milliseconds from connect to that reply. Usage: node bench/net-send.js HOST PORT BYTES
'use strict';
const net = require('node:net');

const [host, port, total] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const chunk = Buffer.alloc(1 << 20);
const t0 = process.hrtime.bigint();
const sock = net.connect({ host, port });
let sent = 0;
let reply = '';
const pump = () => {
  while (sent < total) {
    const n = Math.min(chunk.length, total - sent);
    sent += n;
    if (!sock.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return sock.once('drain', pump);
  }
  sock.end();
};
sock.once('connect', pump);
sock.on('data', (d) => { reply += d; });
sock.once('end', () => {
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!reply.includes('done')) { process.stderr.write(`no reply from the receiver (got ${JSON.stringify(reply.slice(0, 80))})\n`); process.exit(1); }
  process.stdout.write(`${ms.toFixed(1)}\n`);
});
sock.once('error', (e) => { process.stderr.write(`${e.message}\n`); process.exit(1); });
setTimeout(() => { process.stderr.write('timed out\n'); process.exit(1); }, 300_000).unref();
