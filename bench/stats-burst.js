#!/usr/bin/env node
// berthd's own part of `docker stats --no-stream`: the requests the docker CLI makes (GET /containers/{id}/stats?
// stream=false of every running container, all at once, each on its own connection as Go's client opens them), made by
// a small Node client whose own cost is far below the CLI's; prints the milliseconds until every answer has ended.
// The CLI adds its start, its list request, its own CPU per request and its 500 ms ticker before it prints.
// Usage: node bench/stats-burst.js SOCKET
'use strict';
const http = require('node:http');

const socketPath = process.argv[2];
if (!socketPath) { process.stderr.write('usage: node bench/stats-burst.js SOCKET\n'); process.exit(2); }
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

function get(path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`${path}: ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

(async () => {
  const ids = JSON.parse(await get('/containers/json')).map((c) => c.Id);
  const t0 = process.hrtime.bigint();
  const answers = await Promise.all(ids.map((id) => get(`/containers/${id}/stats?stream=false`)));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const bad = answers.filter((a) => !JSON.parse(a).cpu_stats).length;
  if (bad) { process.stderr.write(`${bad} answers without cpu_stats\n`); process.exit(1); }
  process.stdout.write(`${ms.toFixed(0)}\n`);
})().catch((e) => { process.stderr.write(`${e.message}\n`); process.exit(1); });
