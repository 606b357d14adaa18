#!/usr/bin/env node
// make bench, cluster networking: 2 berthd nodes (each in its own network namespace, from the multi-node test harness
// dist-test/test/helpers/cluster.js), an overlay between them. Times BYTES sent (bench/net-send.js → bench/net-sink.js,
// the same two programs for every path, run inside the namespaces with nsenter):
//   overlay:  from a task on node 0 to a task on node 1, over the overlay (VXLAN);
//   underlay: from node 0's namespace to node 1's, directly (what the overlay rides on);
//   mesh:     from node 0's namespace to its own address on the published port, the one task being on node 1 (DNAT,
//             SNAT and the overlay);
//   straight: from node 0's namespace to that task's overlay address (the overlay without the mesh).
// and the time to resolve the service's name from the task on node 0 (its resolver, the node's aardvark-dns).
// Prints one JSON object with medians. Usage: node bench/overlay.js BYTES ROUNDS     (root; removes what it made)
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');

const [bytes, rounds] = process.argv.slice(2).map(Number);
if (!(bytes > 0 && rounds >= 1)) {
  console.error('usage: node bench/overlay.js BYTES ROUNDS');
  process.exit(2);
}
const { TestCluster } = require(path.join(__dirname, '../dist-test/test/helpers/cluster.js'));
const say = (m) => console.error(`bench/overlay: ${m}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : null; };
const SEND = path.join(__dirname, 'net-send.js');
const SINK = path.join(__dirname, 'net-sink.js');
const PUBLISHED = 8088;
const sinks = [];

/** argv prefixed to run in a task's namespace (by its PID) or in a node's. */
const inTask = (pid) => ['nsenter', `--net=/proc/${pid}/ns/net`];
const inNode = (node) => ['nsenter', `--net=/run/netns/${node.netns}`];

function startSink(prefix, port) {
  const p = spawn(prefix[0], [...prefix.slice(1), process.execPath, SINK, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  sinks.push(p);
  return new Promise((resolve, reject) => {
    p.stdout.once('data', () => resolve());
    p.once('exit', (code) => reject(new Error(`sink on ${port} exited ${code}`)));
  });
}

function send(prefix, host, port) {
  const r = spawnSync(prefix[0], [...prefix.slice(1), process.execPath, SEND, host, String(port), String(bytes)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`send to ${host}:${port}: ${r.stderr.trim()}`);
  return Number(r.stdout.trim());
}

async function until(what, probe, ms = 120_000) {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await probe()) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function main() {
  const cluster = new TestCluster(2);
  const stop = async () => { for (const s of sinks) s.kill(); await cluster.cleanup().catch(() => undefined); process.exit(130); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const out = { bytes, rounds, ms: {}, mbps: {}, ratios: {}, resolveMs: null };
  try {
    say('starting 2 nodes');
    await cluster.start();
    const m = cluster.nodes;
    m[0].dockerOk(['swarm', 'init', '--advertise-addr', m[0].address]);
    const token = m[0].dockerOk(['swarm', 'join-token', '-q', 'worker']).trim();
    m[1].dockerOk(['swarm', 'join', '--token', token, `${m[0].address}:2377`]);
    const ids = m.map((n) => n.dockerOk(['info', '--format', '{{.Swarm.NodeID}}']).trim());
    m[0].dockerOk(['network', 'create', '-d', 'overlay', 'benchnet']);
    const service = (name, node, extra) => m[0].dockerOk(['service', 'create', '-d', '--no-resolve-image', '--name', name, '--network', 'benchnet',
      '--constraint', `node.id==${ids[node]}`, ...extra, 'busybox', 'sleep', '1d']);
    service('bsend', 0, []);
    service('bsink', 1, ['-p', `${PUBLISHED}:80`]);
    const task = async (node, name) => {
      let id = '';
      await until(`${name} running on node ${node}`, () => (id = m[node].dockerOk(['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${name}`]).trim()) !== '');
      return {
        pid: m[node].dockerOk(['inspect', '-f', '{{.State.Pid}}', id]).trim(),
        ip: m[node].dockerOk(['inspect', '-f', '{{(index .NetworkSettings.Networks "benchnet").IPAddress}}', id]).trim(),
      };
    };
    const sender = await task(0, 'bsend');
    const receiver = await task(1, 'bsink');
    await startSink(inTask(receiver.pid), 80);
    await startSink(inNode(m[1]), 5201);
    const paths = {
      overlay: () => send(inTask(sender.pid), receiver.ip, 80),
      underlay: () => send(inNode(m[0]), m[1].address, 5201),
      mesh: () => send(inNode(m[0]), m[0].address, PUBLISHED),
      straight: () => send(inNode(m[0]), receiver.ip, 80),
    };
    await until('the overlay and the mesh answer', () => {
      try { paths.overlay(); paths.mesh(); return true; } catch { return false; }
    }, 60_000);
    const times = Object.fromEntries(Object.keys(paths).map((k) => [k, []]));
    for (let r = 0; r < rounds; r++) {
      for (const [k, f] of Object.entries(paths)) times[k].push(f());
    }
    for (const k of Object.keys(paths)) {
      out.ms[k] = median(times[k]);
      out.mbps[k] = Math.round((bytes * 8) / 1e6 / (out.ms[k] / 1000));
    }
    out.ratios.overlayVsUnderlay = +(out.mbps.overlay / out.mbps.underlay).toFixed(2);
    out.ratios.meshVsStraight = +(out.mbps.mesh / out.mbps.straight).toFixed(2);
    const resolver = `const dns=require('node:dns').promises;const fs=require('node:fs');`
      + `const ns=/nameserver\\s+(\\S+)/.exec(fs.readFileSync('/proc/${sender.pid}/root/etc/resolv.conf','utf8'))[1];`
      + `const r=new dns.Resolver();r.setServers([ns]);(async()=>{const t=[];for(let i=0;i<200;i++){const t0=process.hrtime.bigint();`
      + `await r.resolve4('bsink');t.push(Number(process.hrtime.bigint()-t0)/1e6);}t.sort((a,b)=>a-b);console.log(t[100].toFixed(3));})()`;
    const rr = spawnSync('nsenter', [`--net=/proc/${sender.pid}/ns/net`, process.execPath, '-e', resolver], { encoding: 'utf8' });
    out.resolveMs = rr.status === 0 ? Number(rr.stdout.trim()) : null;
    if (rr.status !== 0) say(`resolving the service name failed: ${rr.stderr.trim()}`);
  } finally {
    for (const s of sinks) s.kill();
    say('cleaning up');
    await cluster.cleanup();
  }
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(`bench/overlay: ${err.stack || err}`);
  process.exit(1);
});
