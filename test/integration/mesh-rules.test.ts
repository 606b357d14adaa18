// Real test of src/network/overlay/mesh-rules.ts against iptables-nft, in network namespaces made here: a "node" with
// a bridge (gateway, load-balancer address, VIPs as /32) and FORWARD policy DROP (as after dockerd), three "task"
// namespaces on the bridge answering with their name and the address they see, a "client" on the bridge and an
// "outside" client routed to the node's other interface.
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { IptablesMeshRules } from '../../src/network/overlay/mesh-rules';
import type { IngressRule, MeshState, VipRule } from '../../src/network/overlay/mesh';
import { inNs, ipn, sh, testNamespaces } from '../helpers/netns';
import { until } from '../helpers/wait';

const root = process.getuid?.() === 0;
const P = `bm${process.pid}`;
const NODE = `${P}node`, CLIENT = `${P}cli`, OUTSIDE = `${P}out`;
const TASKS = [1, 2, 3].map((i) => ({ ns: `${P}t${i}`, name: `t${i}`, ip: `10.99.0.1${i}` }));
const GATEWAY = '10.99.0.1', LB = '10.99.0.2', VIP = '10.99.0.100', EMPTY_VIP = '10.99.0.101', NODE_OUTSIDE = '192.168.99.1';
const OUTSIDE_IP = '192.168.99.2';


/** `tries` TCP connections from `ns` to host:port, one after the other: each line is what the server said. */
function connect(ns: string, host: string, port: number, tries: number): string[] {
  const script = `for i in $(seq ${tries}); do timeout 1 bash -c 'exec 3<>/dev/tcp/${host}/${port} && cat <&3' 2>/dev/null || echo refused; done`;
  return inNs(ns, 'bash', '-c', script).trim().split('\n');
}

/** Builds the topology; everything made is removed after the test, even when it fails. */
function topology(t: TestContext): void {
  const servers = testNamespaces(t, [NODE, CLIENT, OUTSIDE, ...TASKS.map((x) => x.ns)]);
  inNs(NODE, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
  inNs(NODE, 'iptables', '-P', 'FORWARD', 'DROP');
  ipn(NODE, 'link', 'add', 'br0', 'type', 'bridge');
  for (const a of [`${GATEWAY}/24`, `${LB}/24`, `${VIP}/32`, `${EMPTY_VIP}/32`]) ipn(NODE, 'addr', 'add', a, 'dev', 'br0');
  ipn(NODE, 'link', 'set', 'br0', 'up');
  const attach = (ns: string, ip: string, i: number) => {
    ipn(NODE, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ipn(NODE, 'link', 'set', `p${i}`, 'master', 'br0', 'up');
    ipn(ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
    ipn(ns, 'link', 'set', 'eth0', 'up');
    ipn(ns, 'route', 'add', 'default', 'via', GATEWAY);
  };
  TASKS.forEach((x, i) => attach(x.ns, x.ip, i));
  attach(CLIENT, '10.99.0.20', 9);
  ipn(NODE, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', OUTSIDE);
  ipn(NODE, 'addr', 'add', `${NODE_OUTSIDE}/24`, 'dev', 'up0');
  ipn(NODE, 'link', 'set', 'up0', 'up');
  ipn(OUTSIDE, 'addr', 'add', `${OUTSIDE_IP}/24`, 'dev', 'eth0');
  ipn(OUTSIDE, 'link', 'set', 'eth0', 'up');
  ipn(OUTSIDE, 'route', 'add', 'default', 'via', NODE_OUTSIDE);
  const answer = "require('net').createServer((s) => s.end(process.argv[1] + ' ' + s.remoteAddress + '\\n')).listen(80, '0.0.0.0')";
  for (const x of TASKS) servers.push(spawn('ip', ['netns', 'exec', x.ns, process.execPath, '-e', answer, x.name], { stdio: 'ignore' }));
}

const vip = (backends: string[], address = VIP): VipRule => ({ serviceId: 'websvc', vip: address, bridge: 'br0', lbAddr: LB, backends });
const published = (backends: IngressRule['backends']): IngressRule => ({
  serviceId: 'websvc', proto: 'tcp', publishedPort: 8080, targetPort: 80, bridge: 'br0', lbAddr: LB, backends,
});
const names = (lines: string[]) => new Set(lines.map((l) => l.split(' ')[0]));

test('mesh rules in network namespaces: VIP, routing mesh, loopback, replacement, refusal, clear', { skip: !root && 'needs root' }, async (t) => {
  topology(t);
  const mesh = new IptablesMeshRules({ netns: NODE });
  t.after(() => mesh.clear().catch(() => {}));
  const state: MeshState = {
    vips: [vip(TASKS.map((x) => x.ip)), vip([], EMPTY_VIP)],
    ingress: [published([{ ip: TASKS[0]!.ip, local: true }, { ip: TASKS[1]!.ip, local: true }, { ip: TASKS[2]!.ip, local: false }])],
  };
  await mesh.apply(state);
  await mesh.apply(state); // a second apply changes nothing, and adds no second jump
  const saved = inNs(NODE, 'iptables-save');
  for (const chain of ['PREROUTING', 'OUTPUT', 'POSTROUTING', 'FORWARD', 'INPUT']) {
    assert.equal(saved.split('\n').filter((l) => l.startsWith(`-A ${chain} -j BERTH-MESH-`)).length, 1, `one jump from ${chain}`);
  }
  await until(() => TASKS.every((x) => connect(NODE, x.ip, 80, 1)[0]!.startsWith(x.name)), 'the task servers', 50);

  await t.test('a VIP reaches every backend, which sees the load-balancer address', () => {
    const lines = connect(CLIENT, VIP, 80, 30);
    assert.deepEqual(names(lines), new Set(['t1', 't2', 't3']), lines.join(', '));
    for (const l of lines) assert.equal(l.split(' ')[1], LB);
  });

  await t.test('the routing mesh spreads over the backends; local ones see the client, the remote one the LB address', () => {
    const lines = connect(OUTSIDE, NODE_OUTSIDE, 8080, 30);
    assert.deepEqual(names(lines), new Set(['t1', 't2', 't3']), lines.join(', '));
    for (const l of lines) {
      const [name, source] = l.split(' ');
      assert.equal(source, name === 't3' ? LB : OUTSIDE_IP, l);
    }
  });

  await t.test('127.0.0.1:published on the node answers (route_localnet, SNAT to the LB address)', () => {
    assert.equal(inNs(NODE, 'sysctl', '-n', 'net.ipv4.conf.br0.route_localnet').trim(), '1');
    const lines = connect(NODE, '127.0.0.1', 8080, 6);
    for (const l of lines) assert.match(l, new RegExp(`^t[123] ${LB.replace(/\./g, '\\.')}$`));
  });

  await t.test('a VIP without backends refuses at once', () => {
    const started = Date.now();
    assert.deepEqual(connect(CLIENT, EMPTY_VIP, 80, 3), ['refused', 'refused', 'refused']);
    assert.ok(Date.now() - started < 2500, 'refused, not timed out');
  });

  await t.test('replaced backends take effect for new connections', async () => {
    await mesh.apply({ vips: [vip([TASKS[1]!.ip])], ingress: [published([{ ip: TASKS[0]!.ip, local: true }])] });
    assert.deepEqual(names(connect(CLIENT, VIP, 80, 10)), new Set(['t2']));
    assert.deepEqual(names(connect(OUTSIDE, NODE_OUTSIDE, 8080, 10)), new Set(['t1']));
    // The VIP that lost its rule is now refused by nothing of ours: the bridge address answers with a reset.
    assert.deepEqual(connect(CLIENT, EMPTY_VIP, 80, 1), ['refused']);
  });

  await t.test('clear() leaves no chain and no jump', async () => {
    await mesh.clear();
    await mesh.clear();
    assert.doesNotMatch(inNs(NODE, 'iptables-save'), /BERTH/);
  });
});

test('apply time for 100 services × 3 backends (VIP and a published port each)', { skip: !root && 'needs root' }, async (t) => {
  const ns = `${P}bench`;
  sh('ip', ['netns', 'add', ns]);
  t.after(() => { spawnSync('ip', ['netns', 'del', ns]); });
  const mesh = new IptablesMeshRules({ netns: ns });
  const state: MeshState = { vips: [], ingress: [] };
  for (let s = 0; s < 100; s++) {
    const backends = [1, 2, 3].map((b) => `10.98.${s}.${b}`);
    state.vips.push({ serviceId: `svc${s}`, vip: `10.97.0.${s + 1}`, bridge: 'br0', lbAddr: '10.97.1.1', backends });
    state.ingress.push({ serviceId: `svc${s}`, proto: 'tcp', publishedPort: 30000 + s, targetPort: 80, bridge: 'br0', lbAddr: '10.96.0.2', backends: backends.map((ip, i) => ({ ip, local: i === 0 })) });
  }
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = process.hrtime.bigint();
    await mesh.apply(state);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const rules = inNs(ns, 'iptables-save').split('\n').filter((l) => l.startsWith('-A ')).length;
  t.diagnostic(`100 services × 3 backends: ${rules} rules; apply ${times.map((ms) => `${ms.toFixed(0)} ms`).join(', ')} (first, then over the same rules)`);
  await mesh.clear();
  assert.doesNotMatch(inNs(ns, 'iptables-save'), /BERTH/);
});
