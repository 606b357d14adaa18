// Real test of src/network/bridge/iptables-firewall.ts against iptables-nft, in network namespaces made here: a "host"
// with FORWARD policy DROP (as after dockerd), bridge brA (IPv4 and IPv6) with containers c1 and c2, isolated bridge
// brB with c3, internal bridge brI with c4, and an "outside" namespace routed to the host's other interface.
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { IptablesBridgeFirewall } from '../../src/network/bridge/iptables-firewall';
import { runCommand, type CommandRunner } from '../../src/network/iptables-restore';
import type { BridgeNetworkSpec, PublishedPorts } from '../../src/network/bridge/contract';
import { inNs, ipn, sh, testNamespaces } from '../helpers/netns';
import { until } from '../helpers/wait';

const root = process.getuid?.() === 0;
const P = `bf${process.pid}`;
const HOST = `${P}host`, OUTSIDE = `${P}out`;
const HOST_OUT = '192.168.77.1', OUTSIDE_IP = '192.168.77.2', HOST_OUT6 = 'fd99::1', OUTSIDE_IP6 = 'fd99::2';

const netA: BridgeNetworkSpec = {
  id: 'neta', bridge: 'brA', internal: false, isolate: true,
  subnets: [{ subnet: '10.77.0.0/24', gateway: '10.77.0.1' }, { subnet: 'fd77::/64', gateway: 'fd77::1' }],
};
const netB: BridgeNetworkSpec = { id: 'netb', bridge: 'brB', internal: false, isolate: true, subnets: [{ subnet: '10.78.0.0/24', gateway: '10.78.0.1' }] };
const netI: BridgeNetworkSpec = { id: 'neti', bridge: 'brI', internal: true, isolate: true, subnets: [{ subnet: '10.79.0.0/24', gateway: '10.79.0.1' }] };
const C = {
  c1: { ns: `${P}c1`, net: netA, ip: '10.77.0.2', ip6: 'fd77::2' },
  c2: { ns: `${P}c2`, net: netA, ip: '10.77.0.3', ip6: 'fd77::3' },
  c3: { ns: `${P}c3`, net: netB, ip: '10.78.0.2' },
  c4: { ns: `${P}c4`, net: netI, ip: '10.79.0.2' },
};
const c1Ports: PublishedPorts = {
  containerId: 'c1c1c1c1c1c1c1c1', ipv4: C.c1.ip, ipv6: C.c1.ip6,
  ports: [
    { host_ip: '', host_port: 8080, container_port: 80, range: 1, protocol: 'tcp' },
    { host_ip: '', host_port: 5353, container_port: 53, range: 1, protocol: 'udp' },
    { host_ip: '127.0.0.1', host_port: 9090, container_port: 80, range: 1, protocol: 'tcp' },
  ],
};

const save = () => inNs(HOST, 'iptables-save') + inNs(HOST, 'ip6tables-save');
const berthLines = () => save().split('\n').filter((l) => l.includes('BERTH'));

/** One TCP connection from `ns`: what the server said, or "refused" (also on a 2 s timeout: slow under load). */
function tcp(ns: string, host: string, port: number): string {
  const script = `timeout 2 bash -c 'exec 3<>/dev/tcp/${host}/${port} && cat <&3' 2>/dev/null || echo refused`;
  return inNs(ns, 'bash', '-c', script).trim();
}

/** One UDP datagram from `ns` and the answer, or "timeout". */
function udp(ns: string, host: string, port: number): string {
  const script = `const s = require('dgram').createSocket('udp4'); s.on('message', (m) => { console.log(String(m)); process.exit(0); });
    s.send('hi', ${port}, '${host}'); setTimeout(() => { console.log('timeout'); process.exit(0); }, 1000);`;
  return inNs(ns, process.execPath, '-e', script).trim();
}

/**
 * A UDP datagram for 127.0.0.1:7777 sent by `ns` straight at the bridge's MAC (an AF_PACKET socket: what NET_RAW,
 * a default capability, allows a container), and what a listener on the host's loopback got: the text, or "nothing".
 */
async function sneakToHostLoopback(ns: string, srcIp: string, bridge: string): Promise<string> {
  // The listener answers once a control datagram, sent from the host's own loopback after the sender has exited,
  // arrives: what came before it is the verdict. No timeout decides 'nothing' (a loaded machine starting python3
  // late made one say 'nothing' before the sneaked packet was even sent); the long one only ends a stuck run.
  const listen = `const s = require('dgram').createSocket('udp4'); let got = 'nothing';
    s.on('message', (m) => { if (String(m) === 'control') { console.log(got); process.exit(0); } got = String(m); });
    s.bind(7777, '127.0.0.1', () => console.log('ready')); setTimeout(() => { console.log('no control datagram'); process.exit(0); }, 30000);`;
  const listener = spawn('ip', ['netns', 'exec', HOST, process.execPath, '-e', listen], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  listener.stdout.on('data', (b) => { out += b; });
  const ended = new Promise((r) => listener.once('exit', r));
  await until(() => out.includes('ready'), 'the loopback listener', 50);
  const mac = inNs(HOST, 'cat', `/sys/class/net/${bridge}/address`).trim();
  const send = `
import socket, struct
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('eth0', 0))
payload = b'sneaked'
udp = struct.pack('!HHHH', 40000, 7777, 8 + len(payload), 0) + payload
def ip_header(csum): return struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, csum, socket.inet_aton('${srcIp}'), socket.inet_aton('127.0.0.1'))
h = ip_header(0); total = sum(struct.unpack('!10H', h)); total = (total & 0xffff) + (total >> 16); total = (total & 0xffff) + (total >> 16)
s.send(bytes.fromhex('${mac.replace(/:/g, '')}') + s.getsockname()[4] + b'\\x08\\x00' + ip_header(~total & 0xffff) + udp)`;
  inNs(ns, 'python3', '-c', send);
  inNs(HOST, 'python3', '-c', "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'control', ('127.0.0.1', 7777))");
  await ended;
  return out.replace('ready', '').trim();
}

/** Builds the topology; everything made is removed after the test, even when it fails. */
function topology(t: TestContext): void {
  const servers = testNamespaces(t, [HOST, OUTSIDE, ...Object.values(C).map((c) => c.ns)]);
  inNs(HOST, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');
  inNs(HOST, 'iptables', '-P', 'FORWARD', 'DROP');
  inNs(HOST, 'ip6tables', '-P', 'FORWARD', 'DROP');
  for (const n of [netA, netB, netI]) {
    ipn(HOST, 'link', 'add', n.bridge, 'type', 'bridge');
    for (const s of n.subnets) ipn(HOST, 'addr', 'add', `${s.gateway}/${s.subnet.split('/')[1]}`, 'dev', n.bridge, 'nodad');
    ipn(HOST, 'link', 'set', n.bridge, 'up');
  }
  Object.values(C).forEach((c, i) => {
    ipn(HOST, 'link', 'add', `v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', c.ns);
    ipn(HOST, 'link', 'set', `v${i}`, 'master', c.net.bridge, 'up');
    // As the driver's interfaces do: with br_netfilter loaded, a hairpin DNAT to the sender goes back out its own port.
    ipn(HOST, 'link', 'set', `v${i}`, 'type', 'bridge_slave', 'hairpin', 'on');
    ipn(c.ns, 'addr', 'add', `${c.ip}/24`, 'dev', 'eth0');
    if ('ip6' in c) ipn(c.ns, 'addr', 'add', `${c.ip6}/64`, 'dev', 'eth0', 'nodad');
    ipn(c.ns, 'link', 'set', 'eth0', 'up');
    ipn(c.ns, 'route', 'add', 'default', 'via', c.net.subnets[0]!.gateway);
    if ('ip6' in c) ipn(c.ns, '-6', 'route', 'add', 'default', 'via', 'fd77::1');
  });
  ipn(HOST, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', OUTSIDE);
  ipn(HOST, 'addr', 'add', `${HOST_OUT}/24`, 'dev', 'up0');
  ipn(HOST, 'addr', 'add', `${HOST_OUT6}/64`, 'dev', 'up0', 'nodad');
  ipn(HOST, 'link', 'set', 'up0', 'up');
  ipn(OUTSIDE, 'addr', 'add', `${OUTSIDE_IP}/24`, 'dev', 'eth0');
  ipn(OUTSIDE, 'addr', 'add', `${OUTSIDE_IP6}/64`, 'dev', 'eth0', 'nodad');
  ipn(OUTSIDE, 'link', 'set', 'eth0', 'up');
  ipn(OUTSIDE, 'route', 'add', 'default', 'via', HOST_OUT);
  ipn(OUTSIDE, '-6', 'route', 'add', 'default', 'via', HOST_OUT6);
  // Every server answers with its name and the client's address as it sees it.
  const tcpServer = "require('net').createServer((s) => s.end(process.argv[1] + ' ' + s.remoteAddress.replace(/^::ffff:/, '') + '\\n')).listen(80, '::')";
  const udpServer = "const s = require('dgram').createSocket('udp4'); s.on('message', (m, r) => s.send(process.argv[1] + ' ' + r.address, r.port, r.address)); s.bind(53)";
  const serve = (ns: string, name: string, script: string) => servers.push(spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script, name], { stdio: 'ignore' }));
  for (const [name, c] of Object.entries(C)) serve(c.ns, name, tcpServer);
  serve(C.c1.ns, 'c1', udpServer);
  serve(OUTSIDE, 'out', tcpServer);
}

/** Sets a family's FORWARD policy for the duration of `check` (isolation must hold even where forwarding is open). */
function withForwardPolicy(policy: 'ACCEPT' | 'DROP', check: () => void): void {
  inNs(HOST, 'iptables', '-P', 'FORWARD', policy);
  try { check(); } finally { inNs(HOST, 'iptables', '-P', 'FORWARD', 'DROP'); }
}

test('bridge firewall in network namespaces: NAT, ports, loopback, hairpin, isolation, internal, removal', { skip: !root && 'needs root' }, async (t) => {
  topology(t);
  const fw = new IptablesBridgeFirewall({ netns: HOST });
  t.after(() => fw.reconcile([]).catch(() => {}));
  await until(() => tcp(HOST, C.c1.ip, 80).startsWith('c1') && tcp(HOST, OUTSIDE_IP, 80).startsWith('out'), 'the servers', 50);
  assert.equal(tcp(C.c1.ns, OUTSIDE_IP, 80), 'refused', 'FORWARD policy DROP stops the container before any rule');

  for (const n of [netA, netB, netI]) await fw.ensureNetwork(n);
  await fw.publish(netA, c1Ports);
  // Without comments and packet counters (a stray packet, an IPv6 solicitation, meets a policy meanwhile).
  const rules = () => save().replace(/^#.*\n/gm, '').replace(/\[\d+:\d+\]/g, '[0:0]');
  const once = rules();
  for (const n of [netA, netB, netI]) await fw.ensureNetwork(n);
  await fw.publish(netA, c1Ports);
  await t.test('applying twice leaves one copy of everything', () => {
    assert.equal(rules(), once);
  });

  await t.test('outbound: the subnet leaves masqueraded as the host, in both families', () => {
    assert.equal(tcp(C.c1.ns, OUTSIDE_IP, 80), `out ${HOST_OUT}`);
    assert.equal(tcp(C.c3.ns, OUTSIDE_IP, 80), `out ${HOST_OUT}`);
    assert.equal(tcp(C.c1.ns, OUTSIDE_IP6, 80), `out ${HOST_OUT6}`);
  });

  await t.test('published tcp and udp ports answer on the host address and keep the client address', () => {
    assert.equal(tcp(OUTSIDE, HOST_OUT, 8080), `c1 ${OUTSIDE_IP}`);
    assert.equal(udp(OUTSIDE, HOST_OUT, 5353), `c1 ${OUTSIDE_IP}`);
    assert.equal(tcp(OUTSIDE, HOST_OUT6, 8080), `c1 ${OUTSIDE_IP6}`);
  });

  await t.test('a 127.0.0.1 publication answers on the host\'s loopback only', () => {
    assert.equal(inNs(HOST, 'sysctl', '-n', 'net.ipv4.conf.brA.route_localnet').trim(), '1');
    assert.equal(tcp(HOST, '127.0.0.1', 9090), 'c1 10.77.0.1');
    assert.equal(tcp(HOST, '127.0.0.1', 8080), 'c1 10.77.0.1', 'a publication on every address includes loopback');
    assert.equal(tcp(OUTSIDE, HOST_OUT, 9090), 'refused');
  });

  await t.test('a container cannot reach the host\'s loopback through a bridge with route_localnet (the raw guard)', async () => {
    assert.equal(await sneakToHostLoopback(C.c2.ns, C.c2.ip, 'brA'), 'nothing');
    // Without the guard the packet gets through: the threat is real here, and the check above can fail.
    inNs(HOST, 'iptables', '-t', 'raw', '-D', 'PREROUTING', '-d', '127.0.0.0/8', '-i', 'brA', '-j', 'DROP');
    assert.equal(await sneakToHostLoopback(C.c2.ns, C.c2.ip, 'brA'), 'sneaked');
    await fw.ensureNetwork(netA);
    assert.equal(await sneakToHostLoopback(C.c2.ns, C.c2.ip, 'brA'), 'nothing');
  });

  await t.test('hairpin: a container reaches its own and its neighbour\'s published port through the host address', () => {
    assert.equal(tcp(C.c1.ns, HOST_OUT, 8080), 'c1 10.77.0.1');
    assert.equal(tcp(C.c2.ns, HOST_OUT, 8080), 'c1 10.77.0.1');
  });

  await t.test('isolation: no traffic between two bridges, even under FORWARD policy ACCEPT', () => {
    withForwardPolicy('ACCEPT', () => {
      assert.equal(tcp(C.c3.ns, C.c1.ip, 80), 'refused');
      assert.equal(tcp(C.c1.ns, C.c3.ip, 80), 'refused');
      assert.equal(tcp(C.c3.ns, OUTSIDE_IP, 80), `out ${HOST_OUT}`, 'while the way out stays open');
    });
  });

  await t.test('an internal network has no way out nor in; the host still reaches it on the bridge', () => {
    withForwardPolicy('ACCEPT', () => {
      assert.equal(tcp(C.c4.ns, OUTSIDE_IP, 80), 'refused');
      assert.equal(tcp(OUTSIDE, C.c4.ip, 80), 'refused');
      assert.equal(tcp(C.c1.ns, C.c4.ip, 80), 'refused');
    });
    assert.equal(tcp(HOST, C.c4.ip, 80), 'c4 10.79.0.1');
  });

  await t.test('unpublish removes the DNAT and only it', async () => {
    await fw.unpublish(netA, c1Ports);
    await fw.unpublish(netA, c1Ports);
    assert.equal(tcp(OUTSIDE, HOST_OUT, 8080), 'refused');
    assert.equal(tcp(HOST, '127.0.0.1', 9090), 'refused');
    assert.doesNotMatch(save(), /BERTH-P-/);
    assert.equal(tcp(C.c1.ns, OUTSIDE_IP, 80), `out ${HOST_OUT}`);
  });

  await t.test('reconcile removes the rules of a bridge that is gone and is not kept, and nothing else', async () => {
    ipn(HOST, 'link', 'del', 'brB');
    await fw.reconcile([netA]); // brI is not kept but still exists: another daemon's, left alone
    assert.doesNotMatch(save(), /brB/);
    assert.match(save(), /BERTH-F-brI/);
    assert.equal(tcp(C.c1.ns, OUTSIDE_IP, 80), `out ${HOST_OUT}`);
  });

  await t.test('removeNetwork leaves no BERTH rule once the last network is gone', async () => {
    await fw.publish(netA, c1Ports);
    await fw.removeNetwork(netA);
    assert.equal(tcp(OUTSIDE, HOST_OUT, 8080), 'refused');
    assert.match(save(), /BERTH-F-brI/);
    await fw.removeNetwork(netI);
    await fw.removeNetwork(netI);
    assert.deepEqual(berthLines(), []);
    assert.doesNotMatch(inNs(HOST, 'iptables-save', '-t', 'raw'), /127\.0\.0\.0\/8/, 'the loopback guards go with their networks');
  });
});

test('two daemons making their first networks at once both keep their rules (shared chains are never flushed)', { skip: !root && 'needs root' }, async (t) => {
  const ns = `${P}race`;
  sh('ip', ['netns', 'add', ns]);
  t.after(() => { spawnSync('ip', ['netns', 'del', ns]); });
  // Each round, both daemons' first iptables-save answers only once both have read: they plan from the same reading
  // (the interleaving that, with declared shared chains, flushed the first one's jumps).
  let barrier: { waiting: number; release: () => void; released: Promise<void> } | undefined;
  const newBarrier = () => { let release = () => {}; const released = new Promise<void>((r) => { release = r; }); return { waiting: 0, release, released }; };
  const runIn = (): CommandRunner => {
    let rounds = -1;
    return async (file, args, input) => {
      const r = await runCommand('ip', ['netns', 'exec', ns, file, ...args], input);
      if (file === 'iptables-save' && barrier && rounds < round) {
        rounds = round;
        const b = barrier;
        if (++b.waiting === 2) b.release();
        await b.released;
      }
      return r;
    };
  };
  let round = 0;
  const one = new IptablesBridgeFirewall({ run: runIn(), routeLocalnet: async () => {}, linkExists: async () => true });
  const other = new IptablesBridgeFirewall({ run: runIn(), routeLocalnet: async () => {}, linkExists: async () => true });
  for (round = 0; round < 3; round++) {
    barrier = newBarrier();
    const nets = [0, 1].map((i): BridgeNetworkSpec => ({ ...netB, id: `r${i}`, bridge: `brR${round}${i}`, subnets: [{ subnet: `10.9${i}.${round}.0/24`, gateway: `10.9${i}.${round}.1` }] }));
    await Promise.all([one.ensureNetwork(nets[0]!), other.ensureNetwork(nets[1]!)]);
    const forward = inNs(ns, 'iptables', '-S', 'BERTH-FORWARD');
    for (const n of nets) assert.match(forward, new RegExp(`-j BERTH-F-${n.bridge}$`, 'm'), `round ${round}: ${forward}`);
    const dnat = inNs(ns, 'iptables', '-t', 'nat', '-S', 'BERTH-DNAT');
    for (const n of nets) assert.match(dnat, new RegExp(`-j BERTH-D-${n.bridge}$`, 'm'), `round ${round}: ${dnat}`);
    barrier = undefined;
    await Promise.all([one.removeNetwork(nets[0]!), other.removeNetwork(nets[1]!)]);
    assert.doesNotMatch(inNs(ns, 'iptables-save'), /BERTH/, `round ${round}: the last one out removes the shared chains`);
  }
});

test('spawns and time per call with ~200 other rules (median of 20)', { skip: !root && 'needs root' }, async (t) => {
  const ns = `${P}bench`;
  sh('ip', ['netns', 'add', ns]);
  t.after(() => { spawnSync('ip', ['netns', 'del', ns]); });
  const others = ['*filter', ':OTHER - [0:0]'];
  for (let i = 0; i < 200; i++) others.push(`-A OTHER -s 10.200.${i}.0/24 -p tcp --dport ${1000 + i} -j ACCEPT`);
  spawnSync('ip', ['netns', 'exec', ns, 'iptables-restore', '--noflush'], { input: [...others, 'COMMIT', ''].join('\n') });
  // Node itself runs in the namespace, so the figures are the tools' and not `ip netns exec`'s.
  const module = path.resolve(__dirname, '../../src/network/bridge/iptables-firewall.js');
  const script = `
    const { IptablesBridgeFirewall } = require(${JSON.stringify(module)});
    const { runCommand } = require(${JSON.stringify(path.resolve(__dirname, '../../src/network/iptables-restore.js'))});
    let spawns = 0;
    const fw = new IptablesBridgeFirewall({ run: (f, a, i) => { spawns++; return runCommand(f, a, i); }, routeLocalnet: async () => {} });
    const net = ${JSON.stringify(netA)};
    const ports = ${JSON.stringify(c1Ports)};
    const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
    async function time(what, call) {
      const ms = []; let counted = 0;
      for (let i = 0; i < 20; i++) { const before = spawns; const t0 = process.hrtime.bigint(); await call(i); ms.push(Number(process.hrtime.bigint() - t0) / 1e6); counted = spawns - before; }
      return what + ': ' + median(ms).toFixed(1) + ' ms, ' + counted + ' spawns';
    }
    (async () => {
      const out = [];
      out.push(await time('ensureNetwork (IPv4+IPv6)', () => fw.ensureNetwork(net)));
      out.push(await time('publish 3 ports (IPv4+IPv6)', (i) => fw.publish(net, { ...ports, containerId: 'bench' + i })));
      out.push(await time('unpublish', (i) => fw.unpublish(net, { ...ports, containerId: 'bench' + i })));
      out.push(await time('publish, IPv4 only', (i) => fw.publish(net, { ...ports, ipv6: undefined, containerId: 'v4only' + i })));
      out.push(await time('removeNetwork then ensureNetwork', async () => { await fw.removeNetwork(net); await fw.ensureNetwork(net); }));
      await fw.removeNetwork(net);
      console.log(out.join('; '));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const figures = inNs(ns, process.execPath, '-e', script).trim();
  t.diagnostic(figures);
  assert.match(figures, /publish 3 ports \(IPv4\+IPv6\): [\d.]+ ms, 2 spawns; unpublish: [\d.]+ ms, 2 spawns; publish, IPv4 only: [\d.]+ ms, 1 spawns/);
  assert.doesNotMatch(inNs(ns, 'iptables-save'), /BERTH/);
});
