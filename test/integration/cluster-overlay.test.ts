// Cluster networking end to end on 3 berthd nodes, each in its own network namespace (test/helpers/cluster.ts),
// through the real docker CLI: a service's 3 tasks on 3 nodes reached by name, by VIP and through tasks.<name> from a
// task on another node; the routing mesh answering on every node's address, spread over all tasks, the receiving
// node's own task seeing the client's address; an attachable overlay joined by plain `docker run`; an internal
// overlay with no way out; an encrypted overlay whose underlay traffic is ESP; the stack (web ×3 on 8080 and
// a backend called by name) surviving a node's death; and nothing left on any node after stack rm, network rm and
// leave.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { TestCluster, type ClusterNode } from '../helpers/cluster';
import { eventually } from '../helpers/wait';

/** busybox httpd on :8080 whose /cgi-bin/who answers "<hostname> <client address>". */
const WHO_SERVER = "mkdir -p /w/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $(hostname) $REMOTE_ADDR\\n' > /w/cgi-bin/who"
  + ' && chmod +x /w/cgi-bin/who && exec httpd -f -p 8080 -h /w';

function inNetns(ns: string, cmd: string[]): string {
  const r = spawnSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8' });
  return r.stdout ?? '';
}

function curl(url: string): { ok: boolean; body: string } {
  const r = spawnSync('curl', ['-sf', '-m', '3', url], { encoding: 'utf8' });
  return { ok: r.status === 0, body: (r.stdout ?? '').trim() };
}

/** Hostnames answering `n` requests to `url`; failed requests counted apart. */
function spread(url: string, n: number): { hosts: Map<string, number>; failed: number; bodies: string[] } {
  const hosts = new Map<string, number>();
  const bodies: string[] = [];
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const r = curl(url);
    if (!r.ok) { failed++; continue; }
    bodies.push(r.body);
    const host = r.body.split(' ')[0]!;
    hosts.set(host, (hosts.get(host) ?? 0) + 1);
  }
  return { hosts, failed, bodies };
}

function runningOn(d: ClusterNode, service: string): Map<string, number> {
  const r = d.api('GET', `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [service], 'desired-state': ['running'] }))}`);
  const counts = new Map<string, number>();
  if (r.status !== 200) return counts;
  for (const t of JSON.parse(r.body) as { NodeID?: string; Status: { State: string } }[]) {
    if (t.Status.State === 'running' && t.NodeID) counts.set(t.NodeID, (counts.get(t.NodeID) ?? 0) + 1);
  }
  return counts;
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/** The task containers of a service on one node. */
function localTasks(d: ClusterNode, service: string): string[] {
  return d.dockerOk(['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${service}`]).split('\n').filter(Boolean);
}

/** Whether the kernel has ESP with AES-GCM: a throwaway state added and deleted in a node's namespace. */
function kernelHasEsp(ns: string): boolean {
  const sa = ['src', '192.0.2.254', 'dst', '192.0.2.253', 'proto', 'esp', 'spi', '0x00bee001'];
  const r = spawnSync('ip', ['-n', ns, 'xfrm', 'state', 'add', ...sa, 'mode', 'transport', 'aead', 'rfc4106(gcm(aes))', `0x${'00'.repeat(20)}`, '128']);
  if (r.status !== 0) return false;
  spawnSync('ip', ['-n', ns, 'xfrm', 'state', 'delete', ...sa]);
  return true;
}

/** Overlay devices (bo-*, vx-*) in a node's namespace. */
function overlayDevices(d: ClusterNode): string[] {
  const links = JSON.parse(inNetns(d.netns, ['ip', '-j', 'link']) || '[]') as { ifname: string }[];
  return links.map((l) => l.ifname).filter((n) => /^(bo|vx)-/.test(n));
}

describe('cluster networking on 3 nodes', () => {
  let c: TestCluster;
  let m: ClusterNode[];
  const ids: string[] = [];
  before(async () => {
    c = await new TestCluster(3).start();
    m = c.nodes;
    m[0]!.dockerOk(['swarm', 'init', '--advertise-addr', m[0]!.address]);
    const token = m[0]!.dockerOk(['swarm', 'join-token', '-q', 'manager']).trim();
    for (const i of [1, 2]) m[i]!.dockerOk(['swarm', 'join', '--token', token, `${m[0]!.address}:2377`]);
    for (const n of m) ids.push(n.dockerOk(['info', '--format', '{{.Swarm.NodeID}}']).trim());
  });
  after(async () => { await c?.cleanup(); });

  test('3 tasks on 3 nodes: reached by name, by VIP and through tasks.<name> from a task on another node', async () => {
    m[0]!.dockerOk(['network', 'create', '-d', 'overlay', 'app']);
    assert.equal(m[0]!.dockerOk(['network', 'inspect', '-f', '{{.Driver}} {{.Scope}}', 'app']).trim(), 'overlay swarm');
    m[0]!.dockerOk(['service', 'create', '-d', '--no-resolve-image', '--name', 'web', '--replicas', '3', '--network', 'app', '-p', '8081:8080',
      'busybox', 'sh', '-c', WHO_SERVER]);
    await eventually('3 running on 3 nodes', () => runningOn(m[0]!, 'web').size === 3 && total(runningOn(m[0]!, 'web')) === 3, 90_000);
    const vips = JSON.parse(m[0]!.dockerOk(['service', 'inspect', '-f', '{{json .Endpoint.VirtualIPs}}', 'web'])) as { NetworkID: string; Addr: string }[];
    const appId = m[0]!.dockerOk(['network', 'inspect', '-f', '{{.Id}}', 'app']).trim();
    const vip = vips.find((v) => v.NetworkID === appId)?.Addr.split('/')[0];
    assert.ok(vip, `a VIP on app: ${JSON.stringify(vips)}`);

    const client = localTasks(m[1]!, 'web')[0]!;
    const fetch = (url: string) => m[1]!.docker(['exec', client, 'timeout', '5', 'wget', '-qO-', url]);
    const seen = new Set<string>();
    await eventually('the service name answers', () => fetch('http://web:8080/cgi-bin/who').code === 0, 30_000);
    for (let i = 0; i < 30 && seen.size < 3; i++) {
      const r = fetch('http://web:8080/cgi-bin/who');
      if (r.code === 0) seen.add(r.stdout.split(' ')[0]!);
    }
    assert.equal(seen.size, 3, `by name, the VIP spreads over all 3 tasks: ${[...seen]}`);
    assert.equal(fetch(`http://${vip}:8080/cgi-bin/who`).code, 0, 'by VIP');

    const taskIps = new Set<string>();
    for (const n of m) {
      for (const id of localTasks(n, 'web')) taskIps.add(n.dockerOk(['inspect', '-f', '{{(index .NetworkSettings.Networks "app").IPAddress}}', id]).trim());
    }
    const lookup = m[1]!.dockerOk(['exec', client, 'nslookup', 'tasks.web']);
    const answered = new Set([...lookup.matchAll(/^Address:\s*(\d+\.\d+\.\d+\.\d+)$/gm)].map((x) => x[1]!));
    assert.deepEqual([...answered].sort(), [...taskIps].sort(), lookup);
    const byName = m[1]!.dockerOk(['exec', client, 'nslookup', 'web']);
    assert.match(byName, new RegExp(`Address:\\s*${vip!.replace(/\./g, '\\.')}$`, 'm'), 'the service name resolves to its VIP');
  });

  test('the routing mesh: a published port answers on every node, spread over all tasks; the local task sees the client', async () => {
    const hostAddr = `${c.prefix}.1`;
    for (const n of m) {
      await eventually(`:8081 on ${n.address}`, () => curl(`http://${n.address}:8081/cgi-bin/who`).ok, 30_000);
      const { hosts, failed, bodies } = spread(`http://${n.address}:8081/cgi-bin/who`, 40);
      assert.equal(failed, 0);
      assert.equal(hosts.size, 3, `node ${n.index}: ${[...hosts.keys()]}`);
      const local = new Set(localTasks(n, 'web').map((id) => n.dockerOk(['inspect', '-f', '{{.Config.Hostname}}', id]).trim()));
      for (const b of bodies) {
        const [host, addr] = b.split(' ');
        if (local.has(host!)) assert.ok(addr!.includes(hostAddr), `a task on the receiving node sees the client ${hostAddr}: ${b}`);
        else assert.ok(!addr!.includes(hostAddr), `a task on another node sees the node's address: ${b}`);
      }
    }
  });

  test('an attachable overlay joined by docker run on two nodes; a non-attachable one refused', async () => {
    m[0]!.dockerOk(['network', 'create', '-d', 'overlay', '--attachable', 'att']);
    m[2]!.dockerOk(['run', '-d', '--name', 'srv', '--network', 'att', 'busybox', 'sh', '-c', WHO_SERVER]);
    await eventually('srv by name from node 1', () => m[1]!.docker(['run', '--rm', '--network', 'att', 'busybox', 'timeout', '5', 'wget', '-qO-', 'http://srv:8080/cgi-bin/who']).code === 0, 30_000);
    assert.match(m[1]!.dockerFail(['run', '--rm', '--network', 'app', 'busybox', 'true']), /not manually attachable/);
    // A way out through the node's NAT (the host's end of the test bridge).
    assert.equal(m[1]!.docker(['run', '--rm', '--network', 'att', 'busybox', 'ping', '-c', '1', '-W', '3', `${c.prefix}.1`]).code, 0);
  });

  test('an internal overlay: across nodes yes, out no', async () => {
    m[0]!.dockerOk(['network', 'create', '-d', 'overlay', '--attachable', '--internal', 'int']);
    m[2]!.dockerOk(['run', '-d', '--name', 'isrv', '--network', 'int', 'busybox', 'sh', '-c', WHO_SERVER]);
    await eventually('isrv by name from node 1', () => m[1]!.docker(['run', '--rm', '--network', 'int', 'busybox', 'timeout', '5', 'wget', '-qO-', 'http://isrv:8080/cgi-bin/who']).code === 0, 30_000);
    assert.notEqual(m[1]!.docker(['run', '--rm', '--network', 'int', 'busybox', 'ping', '-c', '1', '-W', '2', `${c.prefix}.1`]).code, 0);
  });

  test('an encrypted overlay: the traffic between nodes is ESP (or, on a kernel without ESP, refused at create saying so)', async () => {
    if (!kernelHasEsp(m[0]!.netns)) {
      assert.match(m[0]!.dockerFail(['network', 'create', '-d', 'overlay', '--attachable', '--opt', 'encrypted', 'sec']), /IPsec ESP/);
      return;
    }
    m[0]!.dockerOk(['network', 'create', '-d', 'overlay', '--attachable', '--opt', 'encrypted', 'sec']);
    m[2]!.dockerOk(['run', '-d', '--name', 'esrv', '--network', 'sec', 'busybox', 'sh', '-c', WHO_SERVER]);
    await eventually('esrv by name from node 1', () => m[1]!.docker(['run', '--rm', '--network', 'sec', 'busybox', 'timeout', '5', 'wget', '-qO-', 'http://esrv:8080/cgi-bin/who']).code === 0, 30_000);
    for (const n of [m[1]!, m[2]!]) {
      const states = inNetns(n.netns, ['ip', '-s', 'xfrm', 'state']);
      assert.match(states, /proto esp/, `node ${n.index}: ${states}`);
      const bytes = [...states.matchAll(/(\d+)\(bytes\)/g)].map((x) => Number(x[1]));
      assert.ok(bytes.some((b) => b > 0), `node ${n.index}: ESP states carried traffic: ${states}`);
    }
  });

  test('network rm removes the networks from every node', async () => {
    m[2]!.docker(['rm', '-f', 'srv', 'isrv', 'esrv']);
    for (const net of ['att', 'int', 'sec']) m[0]!.docker(['network', 'rm', net]);
    assert.doesNotMatch(m[0]!.dockerOk(['network', 'ls', '--format', '{{.Name}}']), /^(att|int|sec)$/m);
    for (const n of m) {
      await eventually(`node ${n.index}: only app and ingress devices`, () => overlayDevices(n).length <= 4, 20_000);
      assert.equal(inNetns(n.netns, ['ip', 'xfrm', 'state']).trim(), '', `node ${n.index}: no xfrm state left`);
    }
  });

  test('the stack: web ×3 on 8080 calling its backend by name, on every node, through a node\'s death; stack rm leaves nothing', async () => {
    m[0]!.dockerOk(['service', 'rm', 'web']);
    // As on dockerd, the network is in use until the service's tasks are gone.
    await eventually('app removed', () => m[0]!.docker(['network', 'rm', 'app']).code === 0, 30_000);
    const file = `${m[0]!.base}/stack.yml`;
    const web = "mkdir -p /w/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $(hostname) $(timeout 3 wget -qO- http://backend:9090/)\\n' > /w/cgi-bin/app"
      + ' && chmod +x /w/cgi-bin/app && exec httpd -f -p 80 -h /w';
    fs.writeFileSync(file, [
      'version: "3.8"',
      'services:',
      '  web:',
      '    image: busybox',
      // $$: a compose file's own escape for a literal $.
      `    command: ["sh", "-c", ${JSON.stringify(web.replace(/\$/g, '$$$$'))}]`,
      '    ports: ["8080:80"]',
      '    deploy: {replicas: 3}',
      '  backend:',
      '    image: busybox',
      '    command: ["sh", "-c", "mkdir -p /b && echo backend-ok > /b/index.html && exec httpd -f -p 9090 -h /b"]',
      '',
    ].join('\n'));
    m[0]!.dockerOk(['stack', 'deploy', '--resolve-image', 'never', '-c', file, 'st']);
    await eventually('web ×3 and backend running', () => total(runningOn(m[0]!, 'st_web')) === 3 && total(runningOn(m[0]!, 'st_backend')) === 1, 90_000);
    for (const n of m) {
      await eventually(`8080 on node ${n.index} reaches the backend`, () => curl(`http://${n.address}:8080/cgi-bin/app`).body.endsWith('backend-ok'), 30_000);
    }
    // A node dies (berthd and its etcd member killed; its containers and devices stay): the others keep answering.
    const victim = m[2]!;
    // Its web tasks' addresses on the ingress network: the other nodes' mesh must stop sending there (its containers
    // keep running after the crash and would still answer, so answering alone proves nothing).
    const victimIps = localTasks(victim, 'st_web').map((id) => victim.dockerOk(['inspect', '-f', '{{(index .NetworkSettings.Networks "ingress").IPAddress}}', id]).trim());
    await victim.crash();
    await eventually('tasks rescheduled', () => {
      const web = runningOn(m[0]!, 'st_web');
      const backend = runningOn(m[0]!, 'st_backend');
      return !web.has(ids[2]!) && total(web) === 3 && !backend.has(ids[2]!) && total(backend) === 1;
    }, 60_000);
    for (const n of [m[0]!, m[1]!]) {
      await eventually(`node ${n.index} balances no more to the dead node's tasks`, () => {
        const nat = inNetns(n.netns, ['iptables-save', '-t', 'nat']);
        return nat.includes('--dport 8080') && victimIps.every((ip) => !nat.includes(`--to-destination ${ip}:80`));
      }, 30_000);
      await eventually(`node ${n.index} answers 20 in a row`, () => {
        for (let i = 0; i < 20; i++) if (!curl(`http://${n.address}:8080/cgi-bin/app`).body.endsWith('backend-ok')) return false;
        return true;
      }, 30_000);
    }
    await victim.start();
    await eventually('node 2 ready', () => m[0]!.docker(['node', 'inspect', '-f', '{{.Status.State}}', ids[2]!]).stdout.trim() === 'ready', 40_000);
    m[0]!.dockerOk(['stack', 'rm', 'st']);
    for (const n of m) {
      await eventually(`node ${n.index}: no stack containers`, () => n.dockerOk(['ps', '-aq', '--filter', 'label=com.docker.stack.namespace=st']).trim() === '', 40_000);
      await eventually(`node ${n.index}: only the ingress network's devices`, () => overlayDevices(n).length === 2, 20_000);
      assert.doesNotMatch(inNetns(n.netns, ['iptables-save', '-t', 'nat']), /--dport 8080/);
    }
  });

  test('a node that leaves removes everything it made', async () => {
    const n = m[1]!;
    n.dockerOk(['swarm', 'leave', '--force']);
    await eventually('no overlay devices', () => overlayDevices(n).length === 0, 20_000);
    const rules = inNetns(n.netns, ['iptables-save']);
    assert.doesNotMatch(rules, /BERTH-MESH/);
    assert.equal(inNetns(n.netns, ['ip', 'xfrm', 'policy']).trim(), '');
  });
});
