// The overlay adapters against the kernel: two "nodes" (network namespaces joined by a veth, their underlay), each
// with the overlay IprouteOverlayHost makes, and a "container" namespace on each attached to its node's bo- bridge
// as netavark would (address and macForIp MAC); traffic across, a stale peer cut off, ensure() idempotent and
// correcting, remove() leaving nothing; encrypted: IpXfrmTunnels with tunnelsFor on both ends (skipped on a kernel
// without ESP or GCM). Everything happens inside namespaces named after this process, deleted at the end.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { IprouteOverlayHost, type IpLinkJson } from '../../src/network/overlay/host-overlay-ip';
import { ENCRYPTED_VXLAN_PORT, macForIp, overlayDeviceNames, VXLAN_PORT, type OverlayLink, type OverlayPeer } from '../../src/network/overlay/host-overlay';
import { iproute2, type Iproute2 } from '../../src/network/overlay/iproute2';
import { BERTH_XFRM_REQID } from '../../src/network/overlay/xfrm';
import { IpXfrmTunnels, parseXfrmPolicies, parseXfrmStates, tunnelsFor } from '../../src/network/overlay/xfrm-ip';

const tag = `ovh${process.pid}`;
const NODE = { a: `${tag}a`, b: `${tag}b` };
const CTR = { a: `${tag}ca`, b: `${tag}cb` };
const UNDERLAY = { a: '192.168.251.1', b: '192.168.251.2' };
const NETWORK_ID = '0123456789ab' + 'cdef'.repeat(13);
const GATEWAY = '10.77.0.1/24';
const LB = { a: '10.77.0.2/24', b: '10.77.0.3/24' };
const CTR_IP = { a: '10.77.0.10', b: '10.77.0.20' };
const PROBE_PORT = 7000;

function run(file: string, args: string[]): string {
  const r = spawnSync(file, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${file} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const ip = (ns: string, ...args: string[]) => run('ip', ['-n', ns, ...args]);
const links = (ns: string) => JSON.parse(ip(ns, '-d', '-j', 'addr', 'show')) as IpLinkJson[];
const linkOf = (ns: string, name: string) => links(ns).find((l) => l.ifname === name);

function overlay(side: 'a' | 'b', port = VXLAN_PORT): OverlayLink {
  return { networkId: NETWORK_ID, ...overlayDeviceNames(NETWORK_ID), vni: 4100, gateway: GATEWAY, localAddr: UNDERLAY[side], port, mtu: 1450 };
}

/** The peers one node programs: the other node's container and load-balancer address. */
function peersOf(side: 'a' | 'b'): OverlayPeer[] {
  const other = side === 'a' ? 'b' : 'a';
  return [CTR_IP[other], LB[other].split('/')[0]!].map((addr) => ({ ip: addr, mac: macForIp(addr), nodeAddr: UNDERLAY[other] }));
}

/** iproute2 in a namespace, counting the batch lines sent (ensure() on a correct overlay sends none). */
function counted(ns: string): Iproute2 & { lines: string[] } {
  const inner = iproute2({ netns: ns });
  const lines: string[] = [];
  return { lines, run: inner.run, sysctl: inner.sysctl, batch: (tool, l) => { lines.push(...l); return inner.batch(tool, l); } };
}

/** Whether `from` (a namespace) gets the probe server's answer from `addr` (one TCP connection, 2 s at most). */
function reaches(from: string, addr: string): boolean {
  const r = spawnSync('nsenter', [`--net=/run/netns/${from}`, 'socat', '-T2', '-', `TCP:${addr}:${PROBE_PORT},connect-timeout=2`], { encoding: 'utf8', input: '' });
  return r.stdout.trim() === 'pong';
}

/** Attaches a container namespace to the node's bridge by a veth, as netavark does (static IP and MAC). */
function attachContainer(side: 'a' | 'b', bridge: string) {
  const host = `vc${side}`;
  if (!linkOf(NODE[side], host)) {
    ip(NODE[side], 'link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', CTR[side]);
    ip(CTR[side], 'link', 'set', 'eth0', 'address', macForIp(CTR_IP[side]), 'mtu', '1450', 'up');
    ip(CTR[side], 'addr', 'add', `${CTR_IP[side]}/24`, 'dev', 'eth0');
    ip(CTR[side], 'route', 'add', 'default', 'via', GATEWAY.split('/')[0]!);
  }
  ip(NODE[side], 'link', 'set', host, 'master', bridge, 'mtu', '1450', 'up');
}

describe('overlay host devices in network namespaces', { concurrency: false }, () => {
  const tools = { a: counted(NODE.a), b: counted(NODE.b) };
  const host = { a: new IprouteOverlayHost(tools.a), b: new IprouteOverlayHost(tools.b) };
  const servers: ChildProcess[] = [];

  before(() => {
    for (const ns of [...Object.values(NODE), ...Object.values(CTR)]) {
      run('ip', ['netns', 'add', ns]);
      ip(ns, 'link', 'set', 'lo', 'up');
    }
    ip(NODE.a, 'link', 'add', 'ul0', 'type', 'veth', 'peer', 'name', 'ul0', 'netns', NODE.b);
    for (const side of ['a', 'b'] as const) {
      ip(NODE[side], 'addr', 'add', `${UNDERLAY[side]}/24`, 'dev', 'ul0');
      ip(NODE[side], 'link', 'set', 'ul0', 'up');
      const server = spawn('nsenter', [`--net=/run/netns/${CTR[side]}`, 'socat', `TCP-LISTEN:${PROBE_PORT},reuseaddr,fork`, 'SYSTEM:echo pong'], { stdio: 'ignore' });
      servers.push(server);
    }
  });

  after(() => {
    for (const s of servers) if (s.pid) { try { process.kill(s.pid); } catch { /* gone */ } }
    // Deleting a namespace deletes its devices; its xfrm states and policies go with it.
    for (const ns of [...Object.values(NODE), ...Object.values(CTR)]) spawnSync('ip', ['netns', 'del', ns]);
  });

  test('containers on two nodes reach each other; the bridge keeps its MAC', async () => {
    const link = overlay('a');
    await host.a.ensure(link, [LB.a]);
    await host.b.ensure(overlay('b'), [LB.b]);
    const vx = linkOf(NODE.a, link.vxlan)!;
    assert.equal(vx.master, link.bridge);
    assert.deepEqual([vx.linkinfo?.info_data?.learning, vx.linkinfo?.info_data?.proxy, vx.mtu], [false, true, 1450]);
    const mac = macForIp(LB.a.split('/')[0]!);
    assert.equal(linkOf(NODE.a, link.bridge)?.address, mac);

    attachContainer('a', link.bridge);
    attachContainer('b', link.bridge);
    assert.equal(linkOf(NODE.a, link.bridge)?.address, mac, 'a port joining does not change the bridge MAC');
    await host.a.setPeers(link, peersOf('a'));
    await host.b.setPeers(overlay('b'), peersOf('b'));

    assert.ok(reaches(CTR.a, CTR_IP.b), 'container a → container b');
    assert.ok(reaches(CTR.b, CTR_IP.a), 'container b → container a');
    // The load-balancer address is the bridge's primary address: the node's own packets come back to it.
    assert.ok(reaches(NODE.a, CTR_IP.b), 'node a → container b');
    const fdb = JSON.parse(run('bridge', ['-n', NODE.a, '-j', 'fdb', 'show', 'dev', link.vxlan])) as { mac: string; dst?: string }[];
    assert.ok(!fdb.some((e) => e.mac === '00:00:00:00:00:00'), 'nothing floods');
  });

  test('a stale peer removed stops the traffic to it', async () => {
    const link = overlay('a');
    await host.a.setPeers(link, peersOf('a').filter((p) => p.ip !== CTR_IP.b));
    const neigh = JSON.parse(ip(NODE.a, '-j', 'neigh', 'show', 'dev', link.vxlan)) as { dst: string }[];
    assert.deepEqual(neigh.map((n) => n.dst), [LB.b.split('/')[0]]);
    const fdb = JSON.parse(run('bridge', ['-n', NODE.a, '-j', 'fdb', 'show', 'dev', link.vxlan])) as { mac: string; dst?: string }[];
    // (the bridge may still know the MAC on the VXLAN port: the VXLAN device itself no longer knows where to send it)
    assert.ok(!fdb.some((e) => e.mac === macForIp(CTR_IP.b) && e.dst));
    assert.ok(!reaches(CTR.a, CTR_IP.b));
    await host.a.setPeers(link, peersOf('a'));
    assert.ok(reaches(CTR.a, CTR_IP.b));
  });

  test('ensure() sends nothing when all is right, and corrects a removed address and a detached VXLAN', async () => {
    const link = overlay('a');
    // The container's port joined the bridge after the last ensure(): it is put in hairpin mode (VIP connections
    // balanced back to their own container), once.
    await host.a.ensure(link, [LB.a]);
    const port = JSON.parse(ip(NODE.a, '-d', '-j', 'link', 'show', 'master', link.bridge)) as { ifname: string; linkinfo?: { info_slave_data?: { hairpin?: boolean } } }[];
    assert.ok(port.filter((p) => p.ifname !== link.vxlan).every((p) => p.linkinfo?.info_slave_data?.hairpin === true), JSON.stringify(port));
    tools.a.lines.length = 0;
    await host.a.ensure(link, [LB.a]);
    await host.a.setPeers(link, peersOf('a'));
    assert.deepEqual(tools.a.lines, []);

    ip(NODE.a, 'addr', 'del', LB.a, 'dev', link.bridge);
    ip(NODE.a, 'link', 'set', link.vxlan, 'nomaster');
    await host.a.ensure(link, [LB.a]);
    const br = linkOf(NODE.a, link.bridge)!;
    const inet = (br.addr_info ?? []).filter((a) => a.family === 'inet');
    assert.deepEqual(inet.map((a) => [`${a.local}/${a.prefixlen}`, !!a.secondary]), [[LB.a, false], [GATEWAY, true]]);
    assert.equal(linkOf(NODE.a, link.vxlan)?.master, link.bridge);
    assert.ok(reaches(NODE.a, CTR_IP.b));

    // Exactly what is asked: a VIP added, then taken away again.
    await host.a.ensure(link, [LB.a, '10.77.0.200/32']);
    assert.ok(linkOf(NODE.a, link.bridge)!.addr_info!.some((a) => a.local === '10.77.0.200'));
    await host.a.ensure(link, [LB.a]);
    assert.ok(!linkOf(NODE.a, link.bridge)!.addr_info!.some((a) => a.local === '10.77.0.200'));
    assert.deepEqual(await host.a.present(), [NETWORK_ID.slice(0, 12)]);

    // A VXLAN made for another port is made again (its peers with it, by setPeers).
    await host.a.ensure(overlay('a', ENCRYPTED_VXLAN_PORT), [LB.a]);
    assert.equal(linkOf(NODE.a, link.vxlan)?.linkinfo?.info_data?.port, ENCRYPTED_VXLAN_PORT);
    await host.a.ensure(link, [LB.a]);
    await host.a.setPeers(link, peersOf('a'));
    assert.equal(linkOf(NODE.a, link.vxlan)?.linkinfo?.info_data?.port, VXLAN_PORT);
    assert.ok(reaches(CTR.a, CTR_IP.b));
  });

  test('detach() and remove() leave nothing', async () => {
    for (const side of ['a', 'b'] as const) {
      const link = overlay(side);
      await host[side].detach(link);
      assert.equal(linkOf(NODE[side], link.vxlan), undefined);
      await host[side].remove(link);
      await host[side].remove(link);
      const names = links(NODE[side]).map((l) => l.ifname);
      assert.ok(!names.some((n) => /^(bo|vx)-/.test(n)), names.join(' '));
      assert.deepEqual(await host[side].present(), []);
      assert.ok(!run('bridge', ['-n', NODE[side], 'fdb', 'show']).includes(link.vxlan));
    }
  });

  test('encrypted: ESP between the nodes for port 4790, and set([]) removes it', async (t) => {
    const probe = spawnSync('ip', ['-n', NODE.a, 'xfrm', 'state', 'add', 'src', '192.0.2.1', 'dst', '192.0.2.2', 'proto', 'esp', 'spi', '0x1000',
      'mode', 'transport', 'aead', 'rfc4106(gcm(aes))', `0x${'11'.repeat(20)}`, '128'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      t.skip(`this kernel cannot make ESP rfc4106(gcm(aes)) states (${probe.stderr.trim()}): CONFIG_INET_ESP and CONFIG_CRYPTO_GCM`);
      return;
    }
    ip(NODE.a, 'xfrm', 'state', 'delete', 'src', '192.0.2.1', 'dst', '192.0.2.2', 'proto', 'esp', 'spi', '0x1000');
    const xfrm = { a: new IpXfrmTunnels(iproute2({ netns: NODE.a })), b: new IpXfrmTunnels(iproute2({ netns: NODE.b })) };
    const keys = [{ generation: 2, key: randomBytes(20).toString('hex') }, { generation: 1, key: randomBytes(20).toString('hex') }];
    for (const side of ['a', 'b'] as const) {
      const other = side === 'a' ? 'b' : 'a';
      const link = overlay(side, ENCRYPTED_VXLAN_PORT);
      await host[side].ensure(link, [LB[side]]);
      attachContainer(side, link.bridge);
      await host[side].setPeers(link, peersOf(side));
      await xfrm[side].set(tunnelsFor(UNDERLAY[side], [UNDERLAY[other]], keys), ENCRYPTED_VXLAN_PORT);
    }
    const states = parseXfrmStates(ip(NODE.a, 'xfrm', 'state', 'list'));
    assert.equal(states.length, 3, 'one outbound state, two inbound (both key generations)');
    assert.equal(parseXfrmPolicies(ip(NODE.a, 'xfrm', 'policy', 'list')).length, 2);
    const bytes = () => [...ip(NODE.a, '-s', 'xfrm', 'state', 'list').matchAll(/(\d+)\(bytes\)/g)].reduce((n, m) => n + Number(m[1]), 0);
    const before = bytes();
    assert.ok(reaches(CTR.a, CTR_IP.b), 'container a → container b, encrypted');
    assert.ok(bytes() > before, 'the ESP states carried the traffic');

    for (const side of ['a', 'b'] as const) {
      await xfrm[side].set([], ENCRYPTED_VXLAN_PORT);
      assert.ok(!parseXfrmStates(ip(NODE[side], 'xfrm', 'state', 'list')).some((s) => s.reqid === BERTH_XFRM_REQID));
      assert.deepEqual(parseXfrmPolicies(ip(NODE[side], 'xfrm', 'policy', 'list')), []);
      await host[side].remove(overlay(side, ENCRYPTED_VXLAN_PORT));
    }
  });
});
