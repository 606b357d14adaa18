#!/usr/bin/env node
// The receiving end of bench/net-send.js: listens on PORT (all addresses), reads each connection to its end and
// answers "done". Runs until killed. Usage: node bench/net-sink.js PORT
'use strict';
const net = require('node:net');

const port = Number(process.argv[2]);
net.createServer((sock) => {
  sock.on('data', () => undefined);
  sock.once('end', () => sock.end('done\n'));
  sock.on('error', () => undefined);
}).listen(port, () => process.stdout.write('listening\n'));
