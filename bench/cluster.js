#!/usr/bin/env node
// make bench, the cluster's Berth side: a swarm of N berthd nodes (each in its own network namespace, made by the
// multi-node test harness, dist-test/test/helpers/cluster.js: `make build` builds it), all managers. Each round
// times `docker service create -d --replicas R busybox sleep 1d` until R tasks run, and (N > 1) kill -9 of one
// node's berthd and etcd member (one running tasks, not the leader) until R run again on the others; then the
// node comes back and the service goes. Prints one JSON object: { nodes, replicas, converge: [ms], failover: [ms] }.
// Usage: node bench/cluster.js NODES REPLICAS ROUNDS        (root; everything it made is removed at the end)
'use strict';
const http = require('node:http');
const path = require('node:path');

const [nodes, replicas, rounds] = process.argv.slice(2).map(Number);
if (!(nodes >= 1 && replicas >= 1 && rounds >= 1)) {
  console.error('usage: node bench/cluster.js NODES REPLICAS ROUNDS');
  process.exit(2);
}
const { TestCluster } = require(path.join(__dirname, '../dist-test/test/helpers/cluster.js'));
const say = (m) => console.error(`bench/cluster (${nodes} node${nodes > 1 ? 's' : ''}): ${m}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** GET on the node's socket; undefined when it does not answer 200 (a node down, a manager without a leader). */
function get(node, urlPath) {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: node.sock, path: urlPath, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 ? JSON.parse(body) : undefined));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => { req.destroy(); resolve(undefined); });
  });
}

/** Running tasks of the service per node ID. */
async function runningOn(node, service) {
  const tasks = await get(node, `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [service] }))}`);
  const on = new Map();
  for (const t of tasks ?? []) {
    if (t.DesiredState === 'running' && t.Status.State === 'running' && t.NodeID) on.set(t.NodeID, (on.get(t.NodeID) ?? 0) + 1);
  }
  return on;
}
const total = (on) => [...on.values()].reduce((a, b) => a + b, 0);

/** Polls every 100 ms until `probe` holds; the time from `t0`, or throws after `ms`. */
async function until(what, probe, t0, ms = 180_000) {
  while (Date.now() - t0 < ms) {
    if (await probe()) return Date.now() - t0;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function main() {
  const out = { nodes, replicas, converge: [], failover: [] };
  const cluster = new TestCluster(nodes);
  const stop = async () => { await cluster.cleanup().catch(() => undefined); process.exit(130); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    say('starting the nodes');
    await cluster.start();
    const m = cluster.nodes;
    m[0].dockerOk(['swarm', 'init', '--advertise-addr', m[0].address]);
    const token = m[0].dockerOk(['swarm', 'join-token', '-q', 'manager']).trim();
    for (const n of m.slice(1)) n.dockerOk(['swarm', 'join', '--token', token, `${m[0].address}:2377`]);
    const ids = m.map((n) => n.dockerOk(['info', '--format', '{{.Swarm.NodeID}}']).trim());
    for (let r = 1; r <= rounds; r++) {
      const name = `bench${r}`;
      const leader = m.findIndex((n) => n.dockerOk(['info', '--format', '{{.Swarm.ControlAvailable}}']).trim() === 'true'
        && n.docker(['node', 'inspect', '-f', '{{.ManagerStatus.Leader}}', 'self']).stdout.trim() === 'true');
      const via = m[leader >= 0 ? leader : 0];
      let t0 = Date.now();
      // A short stop grace only so that `service rm` between rounds is quick (sleep ignores SIGTERM as PID 1).
      via.dockerOk(['service', 'create', '-d', '--no-resolve-image', '--stop-grace-period', '1s', '--name', name, '--replicas', String(replicas), 'busybox', 'sleep', '1d']);
      const converged = await until(`${replicas} running`, async () => total(await runningOn(via, name)) === replicas, t0);
      out.converge.push(converged);
      say(`round ${r}: ${replicas} running ${converged} ms after service create`);
      if (nodes > 1) {
        const on = await runningOn(via, name);
        const victim = m.findIndex((n, i) => n !== via && on.has(ids[i]));
        t0 = Date.now();
        await m[victim].crash();
        const moved = await until(`${replicas} running again`, async () => {
          const now = await runningOn(via, name);
          return !now.has(ids[victim]) && total(now) === replicas;
        }, t0);
        out.failover.push(moved);
        say(`round ${r}: node ${victim} (${on.get(ids[victim])} tasks) killed; ${replicas} running again ${moved} ms later`);
        await m[victim].start();
        await until('the node ready again', async () => (await get(via, `/nodes/${ids[victim]}`))?.Status?.State === 'ready', Date.now());
      }
      via.dockerOk(['service', 'rm', name]);
      await until('the tasks gone', async () => {
        for (const n of m) {
          if (n.dockerOk(['ps', '-aq', '--filter', `label=com.docker.swarm.service.name=${name}`]).trim() !== '') return false;
        }
        return true;
      }, Date.now());
    }
  } finally {
    say('cleaning up');
    await cluster.cleanup();
  }
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(`bench/cluster: ${err.stack || err}`);
  process.exit(1);
});
