// IprouteBridgeLinks against the kernel, in network namespaces of the test's own (a "host" one, where the adapter
// runs under `ip netns exec` with its /sys, and a container one): the bridge made with a pinned MAC, its gateways,
// the veth with its MAC, MTU, addresses, routes and hairpin, traffic to the gateway, a namespace made by the attach
// itself on a reserved file, and detach and removeBridge
// leaving nothing. The namespaces are deleted at the end.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bridgeMac, dockerMac, hostVethName, type BridgeEndpoint } from '../../src/network/bridge/links';
import type { BridgeNetworkSpec } from '../../src/network/bridge/contract';

const tag = `brl${process.pid}`;
const HOST = `${tag}h`;
const CTR = [`${tag}c1`, `${tag}c2`, `${tag}c3`];
const CHILD = path.join(__dirname, '..', 'helpers', 'bridge-links-child.js');
const NET: BridgeNetworkSpec = {
  id: 'n'.repeat(64), bridge: 'brlt0', internal: false, isolate: true, mtu: 1400,
  subnets: [{ subnet: '10.88.0.0/24', gateway: '10.88.0.1' }, { subnet: 'fd00:88::/64', gateway: 'fd00:88::1' }],
};

function run(file: string, args: string[], ok = true): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(file, args, { encoding: 'utf8' });
  if (ok) assert.equal(r.status, 0, `${file} ${args.join(' ')}: ${r.stderr}`);
  return r;
}
const inNs = (ns: string, ...cmd: string[]) => run('ip', ['netns', 'exec', ns, ...cmd]).stdout.trim();
const links = (ns: string) => JSON.parse(run('ip', ['-n', ns, '-d', '-j', 'addr', 'show']).stdout) as {
  ifname: string; address: string; mtu: number; master?: string; flags: string[];
  addr_info: { local: string; prefixlen: number; family: string }[]; linkinfo?: { info_slave_data?: { hairpin?: boolean } };
}[];
const linkOf = (ns: string, name: string) => links(ns).find((l) => l.ifname === name);
const call = (ok: boolean, op: string, ...args: unknown[]) => run('ip', ['netns', 'exec', HOST, process.execPath, CHILD, JSON.stringify([op, ...args])], ok);
/** Several calls in one child (`sh` ones print what they saw); their outputs. */
const inChild = (calls: unknown[][]) => JSON.parse(run('ip', ['netns', 'exec', HOST, process.execPath, CHILD, JSON.stringify(calls)]).stdout) as string[];
const adapter = (op: string, ...args: unknown[]) => call(true, op, ...args);

function endpoint(i: number): BridgeEndpoint {
  const ip = `10.88.0.${10 + i}`;
  return {
    netns: `/run/netns/${CTR[i]}`, ifname: 'eth0', hostIfname: hostVethName(`c${i}`.repeat(32), NET.id), mac: dockerMac(ip), announce: i === 0,
    addresses: [`${ip}/24`, `fd00:88::${10 + i}/64`], gateways: ['10.88.0.1', 'fd00:88::1'],
  };
}

describe('IprouteBridgeLinks', { skip: process.getuid?.() !== 0 && 'needs root' }, () => {
  before(() => {
    for (const ns of [HOST, ...CTR]) run('ip', ['netns', 'add', ns]);
  });
  after(() => {
    for (const ns of [HOST, ...CTR]) run('ip', ['netns', 'del', ns], false);
  });

  test('attach makes the bridge and the endpoint as the spec says', () => {
    const ep = endpoint(0);
    adapter('attach', NET, ep);
    const br = linkOf(HOST, NET.bridge)!;
    assert.ok(br, 'the bridge exists');
    assert.equal(br.address, bridgeMac(NET.bridge));
    assert.equal(inNs(HOST, 'cat', `/sys/class/net/${NET.bridge}/addr_assign_type`), '3', 'the MAC is pinned');
    assert.equal(br.mtu, 1400);
    assert.deepEqual(br.addr_info.filter((a) => !a.local.startsWith('fe80')).map((a) => `${a.local}/${a.prefixlen}`).sort(), ['10.88.0.1/24', 'fd00:88::1/64']);
    const port = linkOf(HOST, ep.hostIfname)!;
    assert.equal(port.master, NET.bridge);
    assert.equal(port.mtu, 1400);
    assert.ok(port.flags.includes('UP'));
    assert.equal(port.linkinfo?.info_slave_data?.hairpin, true, 'hairpin on');

    const eth0 = linkOf(CTR[0]!, 'eth0')!;
    assert.equal(eth0.address, ep.mac);
    assert.equal(eth0.mtu, 1400);
    assert.ok(eth0.flags.includes('UP'));
    assert.deepEqual(eth0.addr_info.filter((a) => !a.local.startsWith('fe80')).map((a) => `${a.local}/${a.prefixlen}`).sort(), ['10.88.0.10/24', 'fd00:88::10/64']);
    assert.ok(linkOf(CTR[0]!, 'lo')!.flags.includes('UP'), 'lo up');
    assert.match(inNs(CTR[0]!, 'ip', '-4', 'route', 'show', 'default'), /^default via 10\.88\.0\.1 dev eth0/);
    assert.match(inNs(CTR[0]!, 'ip', '-6', 'route', 'show', 'default'), /^default via fd00:88::1 dev eth0/);
    assert.equal(inNs(CTR[0]!, 'cat', '/proc/sys/net/ipv4/conf/eth0/arp_notify'), '1', 'announce: arp_notify');
    assert.equal(inNs(CTR[0]!, 'cat', '/proc/sys/net/ipv4/conf/default/arp_notify'), '0', 'the namespace\'s default put back');
    // The gateway answers over the veth and the bridge, in both families (the IPv6 address was added nodad).
    inNs(CTR[0]!, 'busybox', 'ping', '-c', '1', '-W', '2', '10.88.0.1');
    inNs(CTR[0]!, 'busybox', 'ping', '-c', '1', '-W', '2', 'fd00:88::1');
  });

  test('a second endpoint leaves the bridge as it was, and the containers reach each other', () => {
    const before = linkOf(HOST, NET.bridge)!.address;
    adapter('attach', NET, endpoint(1));
    assert.equal(linkOf(HOST, NET.bridge)!.address, before, 'the bridge keeps its MAC');
    inNs(CTR[1]!, 'busybox', 'ping', '-c', '1', '-W', '2', '10.88.0.10');
    assert.equal(inNs(CTR[1]!, 'cat', '/proc/sys/net/ipv4/conf/eth0/arp_notify'), '0', 'not announced when not asked');
  });

  test('attach on a file reserved for the namespace makes the namespace, configured, in the same process', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-brl-'));
    const file = path.join(dir, 'ns');
    fs.writeFileSync(file, '');
    const ep = { ...endpoint(2), netns: file, ifname: 'eth1', announce: true };
    const inside = (cmd: string) => ['sh', `nsenter --net=${file} ${cmd}`];
    // The namespace is held by the child's descriptor (as berthd holds it): what the test must see, the child shows.
    const [addrs, notify, routes, host, ping] = inChild([['attach', NET, ep], inside('ip -d -j addr show'),
      inside('cat /proc/sys/net/ipv4/conf/eth1/arp_notify /proc/sys/net/ipv4/conf/default/arp_notify'), inside('ip route show default'),
      ['sh', `ip -d -j link show dev ${ep.hostIfname}`], inside('busybox ping -c 1 -W 2 10.88.0.10')]);
    const ns = JSON.parse(addrs!) as ReturnType<typeof links>;
    const eth1 = ns.find((l) => l.ifname === 'eth1')!;
    assert.equal(eth1.address, ep.mac);
    assert.equal(eth1.mtu, 1400);
    assert.deepEqual(eth1.addr_info.filter((a) => !a.local.startsWith('fe80')).map((a) => `${a.local}/${a.prefixlen}`).sort(), ['10.88.0.12/24', 'fd00:88::12/64']);
    assert.ok(ns.find((l) => l.ifname === 'lo')!.flags.includes('UP'), 'lo up');
    assert.deepEqual(notify!.trim().split('\n'), ['1', '0'], 'announce: arp_notify on the interface, the default put back');
    assert.match(routes!, /^default via 10\.88\.0\.1 dev eth1 metric 1/);
    const [port] = JSON.parse(host!) as ReturnType<typeof links>;
    assert.equal(port!.master, NET.bridge);
    assert.equal(port!.mtu, 1400);
    assert.ok(port!.flags.includes('UP'));
    assert.equal(port!.linkinfo?.info_slave_data?.hairpin, true, 'hairpin on');
    assert.match(ping!, /1 packets received/, 'a neighbour on the bridge answers');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('addAddresses adds to the interface in the namespace', () => {
    adapter('addAddresses', `/run/netns/${CTR[1]}`, 'eth0', ['169.254.8.8/16']);
    assert.ok(linkOf(CTR[1]!, 'eth0')!.addr_info.some((a) => a.local === '169.254.8.8' && a.prefixlen === 16));
  });

  test('attach into a namespace that is not there fails and leaves no host end', () => {
    const ep = { ...endpoint(2), netns: `/run/netns/${tag}-absent` };
    assert.notEqual(call(false, 'attach', NET, ep).status, 0);
    assert.equal(linkOf(HOST, ep.hostIfname), undefined);
  });

  test('an endpoint made again while its old veth is still there replaces it', () => {
    adapter('attach', NET, { ...endpoint(1), netns: `/run/netns/${CTR[2]}` });
    assert.ok(linkOf(CTR[2]!, 'eth0'), 'the new namespace has the interface');
    assert.equal(linkOf(CTR[1]!, 'eth0'), undefined, 'the old pair is gone');
    assert.equal(links(HOST).filter((l) => l.master === NET.bridge).length, 2);
  });

  test('detach leaves nothing, twice; removeBridge deletes the bridge with what is left on it, twice', () => {
    for (let i = 0; i < 2; i++) adapter('detach', endpoint(0).hostIfname);
    assert.equal(linkOf(CTR[0]!, 'eth0'), undefined, 'the namespace end went with the host end');
    assert.ok(linkOf(HOST, endpoint(1).hostIfname), 'the other endpoint is still there');
    adapter('removeBridge', NET.bridge, true);
    assert.ok(linkOf(HOST, NET.bridge), 'kept while a port is on it, when asked only if empty');
    adapter('removeBridge', NET.bridge);
    adapter('removeBridge', NET.bridge);
    assert.equal(linkOf(HOST, NET.bridge), undefined);
    adapter('detach', endpoint(1).hostIfname);
    assert.deepEqual(links(HOST).map((l) => l.ifname), ['lo']);
  });

  test('a bridge made before (by netavark) gets its MAC pinned as it is', () => {
    run('ip', ['-n', HOST, 'link', 'add', NET.bridge, 'type', 'bridge']);
    const mac = linkOf(HOST, NET.bridge)!.address;
    adapter('attach', NET, endpoint(0));
    assert.equal(linkOf(HOST, NET.bridge)!.address, mac);
    assert.equal(inNs(HOST, 'cat', `/sys/class/net/${NET.bridge}/addr_assign_type`), '3');
    adapter('detach', endpoint(0).hostIfname);
    adapter('removeBridge', NET.bridge);
  });
  test('within one daemon life the bridge is checked through /sys, and made again when downed or replaced', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-brl-'));
    const eps = [0, 1, 2].map((i) => {
      const file = path.join(dir, `ns${i}`);
      fs.writeFileSync(file, '');
      return { ...endpoint(i), netns: file, announce: false };
    });
    // One child is one adapter, as in berthd: its first attach made the bridge, the later ones only look at /sys.
    const [, flags, , bridge, ports] = inChild([
      ['attach', NET, eps[0]], ['sh', `ip link set dev ${NET.bridge} down`],
      ['attach', NET, eps[1]], ['sh', `cat /sys/class/net/${NET.bridge}/flags`],
      ['sh', `ip link del dev ${NET.bridge} && ip link add name ${NET.bridge} type bridge`],
      ['attach', NET, eps[2]], ['sh', `ip -j addr show dev ${NET.bridge}`], ['sh', `ip -j link show master ${NET.bridge}`],
    ]);
    assert.equal(Number(flags) & 1, 1, 'a bridge downed is brought up by the next attach');
    const br = (JSON.parse(bridge!) as ReturnType<typeof links>)[0]!;
    assert.ok(br.flags.includes('UP'));
    assert.deepEqual(br.addr_info.filter((a) => !a.local.startsWith('fe80')).map((a) => `${a.local}/${a.prefixlen}`).sort(), ['10.88.0.1/24', 'fd00:88::1/64'], 'a bridge replaced gets its gateways');
    assert.ok((JSON.parse(ports!) as { ifname: string }[]).some((p) => p.ifname === eps[2]!.hostIfname), 'and the endpoint is its port');
    adapter('removeBridge', NET.bridge);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
