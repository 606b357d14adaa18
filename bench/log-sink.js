#!/usr/bin/env node
// A counting log receiver on loopback for bench/logging.sh: counts the messages of one protocol and the bytes they
// took on the wire, and writes "<messages> <bytes> <ms since the first>" to OUT whenever 1,000 more arrived (and
// every 200 ms). Decodes just enough to count messages: msgpack entries (fluentd forward), GELF chunks reassembled
// by ID (UDP) or null-delimited frames (TCP), syslog datagrams (UDP) or newline-ended lines (TCP).
// Usage: node bench/log-sink.js fluentd|gelf-udp|gelf-tcp|syslog-udp|syslog-tcp PORT OUT
'use strict';
const dgram = require('node:dgram');
const fs = require('node:fs');
const net = require('node:net');
const { Decoder } = require('@msgpack/msgpack');

const [kind, portArg, out] = process.argv.slice(2);
const port = Number(portArg);
let messages = 0, bytes = 0, first = 0, written = -1;
const write = () => {
  if (written === messages) return;
  written = messages;
  fs.writeFileSync(out, `${messages} ${bytes} ${first ? Date.now() - first : 0}\n`);
};
const count = (n, b) => {
  if (!first) first = Date.now();
  const before = messages;
  messages += n;
  bytes += b;
  if (Math.floor(before / 1000) !== Math.floor(messages / 1000)) write();
};
setInterval(write, 200);

const ready = () => process.stdout.write('listening\n');
if (kind === 'fluentd') {
  // One reader of the socket (a 'data' listener beside the decoder's iteration would split the chunks between them).
  async function* counted(sock) { for await (const d of sock) { bytes += d.length; yield d; } }
  net.createServer((sock) => {
    (async () => { for await (const _ of new Decoder().decodeStream(counted(sock))) count(1, 0); })().catch(() => undefined);
  }).listen(port, '127.0.0.1', ready);
} else if (kind === 'gelf-tcp' || kind === 'syslog-tcp') {
  const sep = kind === 'gelf-tcp' ? 0 : 10;
  net.createServer((sock) => {
    sock.on('data', (d) => { let n = 0; for (let i = d.indexOf(sep); i >= 0; i = d.indexOf(sep, i + 1)) n++; count(n, d.length); });
    sock.on('error', () => undefined);
  }).listen(port, '127.0.0.1', ready);
} else {
  const chunks = new Map();
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  sock.on('message', (d) => {
    if (kind === 'gelf-udp' && d[0] === 0x1e && d[1] === 0x0f) {
      const id = d.toString('hex', 2, 10);
      const got = (chunks.get(id) ?? 0) + 1;
      if (got < d[11]) { chunks.set(id, got); bytes += d.length; return; }
      chunks.delete(id);
    }
    count(1, d.length);
  });
  sock.bind(port, '127.0.0.1', ready);
}
