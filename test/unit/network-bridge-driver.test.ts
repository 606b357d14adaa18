// BerthBridgeDriver over fake adapters: what a container costs (links always, the firewall only with ports, DNS only
// with dns_enabled), the network-wide rules once per network, the status the engine reads, teardown and `last`, and
// network removal; plus the adapters' pure parts: the ip batch lines and aardvark-dns's lines.
import test from 'node:test';
import assert from 'node:assert/strict';
import { BerthBridgeDriver, bridgeNetworkInfo, specOf } from '../../src/network/bridge/driver';
import { bridgeLines, bridgeMac, dockerMac, endpointLines, hostVethName } from '../../src/network/bridge/links';
import { dnsLine, procNetAddress, withNames, withoutEntry } from '../../src/network/bridge/dns';
import type { NetavarkNetwork, NetavarkOptions } from '../../src/network/netavark';
import type { NetworkRecord } from '../../src/network/network-store';
import { FakeBridgeDns, FakeBridgeFirewall, FakeBridgeLinks } from '../fakes/bridge';

const NET = 'a'.repeat(64);
const C1 = '1'.repeat(64);
const C2 = '2'.repeat(64);

function info(over: Partial<NetavarkNetwork> = {}): NetavarkNetwork {
  return {
    name: NET, id: NET, driver: 'bridge', network_interface: 'br-aaaaaaaaaaaa', subnets: [{ subnet: '10.9.0.0/24', gateway: '10.9.0.1' }],
    ipv6_enabled: false, internal: false, dns_enabled: true, options: { isolate: 'true' }, ipam_options: { driver: 'host-local' }, ...over,
  };
}

function opts(id: string, ip: string, over: Partial<NetavarkOptions> = {}, net = info()): NetavarkOptions {
  return {
    container_id: id, container_name: `name${id[0]}`,
    networks: { [NET]: { interface_name: 'eth0', static_ips: [ip], aliases: ['web', id.slice(0, 12)] } },
    network_info: { [NET]: net }, ...over,
  };
}

function world() {
  const links = new FakeBridgeLinks();
  const firewall = new FakeBridgeFirewall();
  const dns = new FakeBridgeDns();
  const errors: string[] = [];
  const driver = new BerthBridgeDriver({ links, firewall, dns, log: { error: (m) => errors.push(m) } });
  return { links, firewall, dns, driver, errors };
}

test('a container without ports costs links and DNS only; the network\'s rules are made once', async () => {
  const w = world();
  const status = await w.driver.setup('/run/ns/c1', opts(C1, '10.9.0.2'));
  await w.driver.setup('/run/ns/c2', opts(C2, '10.9.0.3'));
  assert.deepEqual(w.firewall.calls, ['ensureNetwork br-aaaaaaaaaaaa'], 'no firewall call per container');
  assert.deepEqual(w.links.calls, [`attach br-aaaaaaaaaaaa ${hostVethName(C1, NET)}`, `attach br-aaaaaaaaaaaa ${hostVethName(C2, NET)}`]);
  const ep = w.links.endpoints[0]!;
  assert.deepEqual(ep, {
    netns: '/run/ns/c1', ifname: 'eth0', hostIfname: hostVethName(C1, NET), mac: '02:42:0a:09:00:02', announce: false,
    addresses: ['10.9.0.2/24'], gateways: ['10.9.0.1'],
  });
  assert.deepEqual(status, {
    [NET]: { interfaces: { eth0: { mac_address: '02:42:0a:09:00:02', subnets: [{ ipnet: '10.9.0.2/24', gateway: '10.9.0.1' }] } }, dns_server_ips: ['10.9.0.1'] },
  });
  assert.deepEqual(w.dns.entries.get(`${NET}/${C1}`), {
    listen: ['10.9.0.1'], entry: { containerId: C1, ipv4: ['10.9.0.2'], ipv6: [], names: ['name1', 'web', C1.slice(0, 12)], servers: undefined },
  });
});

test('ports go to the firewall with the container\'s addresses; a static MAC, IPv6, internal and --dns are kept', async () => {
  const w = world();
  const net = info({ internal: true, subnets: [{ subnet: '10.9.0.0/24', gateway: '10.9.0.1' }, { subnet: 'fd00:9::/64', gateway: 'fd00:9::1' }], ipv6_enabled: true, options: { isolate: 'true', mtu: '1450' } });
  const ports = [{ host_ip: '', container_port: 80, host_port: 8080, range: 1, protocol: 'tcp' as const }];
  const o = opts(C1, '10.9.0.2', { port_mappings: ports, dns_servers: ['1.1.1.1'] }, net);
  o.networks[NET]!.static_ips.push('fd00:9::2');
  o.networks[NET]!.static_mac = '02:00:00:00:00:01';
  await w.driver.setup('/run/ns/c1', o);
  assert.deepEqual(w.firewall.published, [{ containerId: C1, ipv4: '10.9.0.2', ipv6: 'fd00:9::2', ports }]);
  const ep = w.links.endpoints[0]!;
  assert.equal(ep.mac, '02:00:00:00:00:01');
  assert.equal(ep.announce, true, 'a static MAC is announced');
  assert.deepEqual(ep.addresses, ['10.9.0.2/24', 'fd00:9::2/64']);
  assert.deepEqual(ep.gateways, [], 'no way out of an internal network');
  assert.deepEqual(specOf(net), { id: NET, bridge: 'br-aaaaaaaaaaaa', subnets: net.subnets, internal: true, isolate: true, mtu: 1450 });
  assert.deepEqual(w.dns.entries.get(`${NET}/${C1}`)?.entry.servers, ['1.1.1.1']);
  assert.deepEqual(w.dns.entries.get(`${NET}/${C1}`)?.listen, ['10.9.0.1', 'fd00:9::1']);
});

test('the default bridge (no DNS) never calls the DNS adapter', async () => {
  const w = world();
  await w.driver.setup('/run/ns/c1', opts(C1, '10.9.0.2', {}, info({ dns_enabled: false })));
  await w.driver.teardown('/run/ns/c1', opts(C1, '10.9.0.2', {}, info({ dns_enabled: false })));
  assert.deepEqual(w.dns.calls, []);
});

test('teardown undoes the container only; `last` (an overlay\'s) removes the network\'s rules and bridge', async () => {
  const w = world();
  const ports = [{ host_ip: '', container_port: 80, host_port: 8080, range: 1, protocol: 'tcp' as const }];
  await w.driver.setup('/run/ns/c1', opts(C1, '10.9.0.2', { port_mappings: ports }));
  await w.driver.teardown('/run/ns/c1', opts(C1, '10.9.0.2', { port_mappings: ports }));
  assert.deepEqual(w.firewall.calls, ['ensureNetwork br-aaaaaaaaaaaa', `publish br-aaaaaaaaaaaa ${C1}`, `unpublish br-aaaaaaaaaaaa ${C1}`]);
  assert.deepEqual(w.links.ports, new Set());
  assert.equal(w.dns.entries.size, 0);
  assert.ok(!w.links.calls.some((c) => c.startsWith('removeBridge')), 'a bridge network keeps its bridge');

  await w.driver.setup('/run/ns/c1', opts(C1, '10.9.0.2'));
  assert.equal(w.firewall.calls.filter((c) => c.startsWith('ensureNetwork')).length, 1, 'still ensured');
  await w.driver.teardown('/run/ns/c1', opts(C1, '10.9.0.2'), true);
  assert.deepEqual(w.firewall.calls.slice(-1), ['removeNetwork br-aaaaaaaaaaaa']);
  assert.deepEqual(w.links.calls.slice(-1), ['removeBridge br-aaaaaaaaaaaa if empty']);
  await w.driver.setup('/run/ns/c1', opts(C1, '10.9.0.2'));
  assert.equal(w.firewall.calls.filter((c) => c.startsWith('ensureNetwork')).length, 2, 'made again after removal');

  // The ingress network: its VXLAN device stays on the bridge, so the bridge and its rules stay too.
  w.links.busy.add('br-aaaaaaaaaaaa');
  await w.driver.teardown('/run/ns/c1', opts(C1, '10.9.0.2'), true);
  assert.equal(w.firewall.calls.filter((c) => c.startsWith('removeNetwork')).length, 1, 'rules kept');
  await w.driver.setup('/run/ns/c1', opts(C1, '10.9.0.2'));
  assert.equal(w.firewall.calls.filter((c) => c.startsWith('ensureNetwork')).length, 2, 'still ensured');
});

test('a failed step of a teardown does not stop the others, and is reported', async () => {
  const w = world();
  w.dns.remove = async () => { throw new Error('disk full'); };
  const ports = [{ host_ip: '', container_port: 80, host_port: 8080, range: 1, protocol: 'tcp' as const }];
  await assert.rejects(w.driver.teardown('/run/ns/c1', opts(C1, '10.9.0.2', { port_mappings: ports })), /disk full/);
  assert.deepEqual(w.firewall.calls, [`unpublish br-aaaaaaaaaaaa ${C1}`]);
  assert.deepEqual(w.links.calls, [`detach ${hostVethName(C1, NET)}`]);
});

test('a stop leaves the veth to the namespace\'s destruction; a disconnect and an overlay\'s last delete it', async () => {
  const w = world();
  await w.driver.setup('/run/ns/c1', opts(C1, '10.9.0.2'));
  await w.driver.teardown('/run/ns/c1', opts(C1, '10.9.0.2'), false, true);
  assert.ok(!w.links.calls.some((c) => c.startsWith('detach')), 'the namespace goes: no deletion');
  await w.driver.teardown('/run/ns/c1', opts(C1, '10.9.0.2'), false, false);
  await w.driver.teardown('/run/ns/c1', opts(C1, '10.9.0.2'), true, true);
  assert.deepEqual(w.links.calls.filter((c) => c.startsWith('detach')), [`detach ${hostVethName(C1, NET)}`, `detach ${hostVethName(C1, NET)}`]);
});

test('removeNetwork and setDnsNames and addAddresses reach their adapters', async () => {
  const w = world();
  const rec = { id: NET, name: 'mynet', driver: 'bridge', builtin: false, bridge: 'br-aaaaaaaaaaaa', subnet: '10.9.0.0/24', gateway: '10.9.0.1', internal: false, options: {} } as unknown as NetworkRecord;
  assert.deepEqual(bridgeNetworkInfo(rec), info());
  await w.driver.removeNetwork(bridgeNetworkInfo(rec));
  await w.driver.setDnsNames(NET, { [C1]: ['a'] });
  await w.driver.addAddresses('/run/ns/c1', 'eth0', ['169.254.1.1/16']);
  assert.deepEqual([...w.firewall.calls, ...w.links.calls, ...w.dns.calls], ['removeNetwork br-aaaaaaaaaaaa', 'removeBridge br-aaaaaaaaaaaa', 'addAddresses /run/ns/c1 eth0 169.254.1.1/16', `setNames ${NET} ${C1}`]);
});

test('reconcile keeps each bridge named once', async () => {
  const w = world();
  await w.driver.reconcile([info(), info(), info({ network_interface: 'bo-bbbbbbbbbbbb', id: 'b'.repeat(64) })]);
  assert.deepEqual(w.firewall.calls, ['reconcile br-aaaaaaaaaaaa,bo-bbbbbbbbbbbb']);
});

test('ip batch lines: a new bridge, an old one pinned, the endpoint from inside its namespace', () => {
  const n = specOf(info({ subnets: [{ subnet: '10.9.0.0/24', gateway: '10.9.0.1' }, { subnet: 'fd00:9::/64', gateway: 'fd00:9::1' }], options: { mtu: '1400' } }));
  assert.deepEqual(bridgeLines(n, { exists: false, macPinned: false }), [
    `link add name br-aaaaaaaaaaaa address ${bridgeMac('br-aaaaaaaaaaaa')} mtu 1400 type bridge`,
    'addr replace 10.9.0.1/24 dev br-aaaaaaaaaaaa', 'addr replace fd00:9::1/64 dev br-aaaaaaaaaaaa nodad', 'link set dev br-aaaaaaaaaaaa up',
  ]);
  assert.deepEqual(bridgeLines({ ...n, mtu: undefined }, { exists: true, macPinned: false, mac: '52:54:00:00:00:01' }).slice(0, 1), ['link set dev br-aaaaaaaaaaaa address 52:54:00:00:00:01']);
  assert.ok(!bridgeLines(n, { exists: true, macPinned: true, mac: 'x' }).some((l) => l.includes('address')), 'a pinned MAC is left alone');
  assert.match(bridgeMac('br-aaaaaaaaaaaa'), /^02(:[0-9a-f]{2}){5}$/);
  const ep = { netns: '/run/ns/c1', ifname: 'eth1', hostIfname: 'vbx', mac: dockerMac('10.9.0.2'), announce: false, addresses: ['10.9.0.2/24', 'fd00:9::2/64'], gateways: ['10.9.0.1', 'fd00:9::1'] };
  const host = { netns: '/proc/7/ns/net', bridgeIndex: 42 };
  assert.deepEqual(endpointLines(n, ep, host), [
    'link set dev lo up',
    'link add name vbx mtu 1400 master if42 up netns /proc/7/ns/net type veth peer name eth1 address 02:42:0a:09:00:02 mtu 1400',
    'addr add 10.9.0.2/24 dev eth1', 'addr add fd00:9::2/64 dev eth1 nodad', 'link set dev eth1 up',
    'route add 0.0.0.0/0 via 10.9.0.1 dev eth1 metric 1', 'route add ::/0 via fd00:9::1 dev eth1 metric 1',
  ]);
  const eth0 = endpointLines({ ...n, mtu: undefined }, { ...ep, ifname: 'eth0' }, host);
  assert.ok(!eth0.some((l) => l.includes(' mtu ')), 'no MTU unless the network has one');
  assert.ok(eth0.includes('route add 0.0.0.0/0 via 10.9.0.1 dev eth0'), 'eth0\'s default route has no metric');
  assert.ok(!endpointLines(n, { ...ep, gateways: [] }, host).some((l) => l.startsWith('route')), 'no default route on an internal network');
  assert.match(hostVethName(C1, NET), /^vb[0-9a-f]{13}$/);
  assert.notEqual(hostVethName(C1, NET), hostVethName(C2, NET));
});

test('aardvark-dns lines: netavark\'s format, entries removed and renamed by container ID', () => {
  assert.equal(dnsLine({ containerId: 'c1', ipv4: ['10.9.0.2'], ipv6: [], names: ['one', 'web'] }), 'c1 10.9.0.2  one,web');
  assert.equal(dnsLine({ containerId: 'c1', ipv4: ['10.9.0.2'], ipv6: ['fd00::2'], names: ['one'], servers: ['1.1.1.1'] }), 'c1 10.9.0.2 fd00::2 one 1.1.1.1');
  const file = ['10.9.0.1', 'c1 10.9.0.2  one', 'ovr1 10.9.0.9  far', 'c2 10.9.0.3  two', ''];
  assert.deepEqual(withoutEntry(file, 'c1'), ['10.9.0.1', 'ovr1 10.9.0.9  far', 'c2 10.9.0.3  two', '']);
  assert.deepEqual(withoutEntry(['10.9.0.1', 'c1 10.9.0.2  one', ''], 'c1'), [], 'the last line gone: the file goes');
  assert.deepEqual(withNames(file, { c2: ['two', 'deux'], c9: ['x'] }), ['10.9.0.1', 'c1 10.9.0.2  one', 'ovr1 10.9.0.9  far', 'c2 10.9.0.3  two,deux', '']);
});

test('procNetAddress: addresses as /proc/net/udp and udp6 print them (words in little-endian order, then the port)', () => {
  assert.equal(procNetAddress('127.0.0.1', 53), '0100007F:0035');
  assert.equal(procNetAddress('10.78.161.1', 53), '01A14E0A:0035');
  assert.equal(procNetAddress('::1', 53), '00000000000000000000000001000000:0035');
  assert.equal(procNetAddress('fd00:1::1', 5353), '010000FD000000000000000001000000:14E9');
});

test('on a bridge the daemon has not attached to yet, a publication waits for the attach that may make the bridge', async () => {
  const w = world();
  const order: string[] = [];
  const attach = w.links.attach.bind(w.links);
  // The attach takes a while (it makes the bridge); the firewall's publication turns on the bridge's route_localnet.
  w.links.attach = async (n, ep) => { await new Promise((r) => setTimeout(r, 20)); await attach(n, ep); order.push(`attached ${ep.hostIfname.slice(0, 8)}`); };
  const publish = w.firewall.publish.bind(w.firewall);
  w.firewall.publish = async (n, p) => { order.push(`publish ${p.containerId.slice(0, 4)}`); await publish(n, p); };
  const ports = [{ host_ip: '', container_port: 80, host_port: 8080, range: 1, protocol: 'tcp' as const }];
  await w.driver.setup('/run/ns/c1', opts(C1, '10.9.0.2', { port_mappings: ports }));
  assert.deepEqual(order.map((o) => o.split(' ')[0]), ['attached', 'publish'], 'the first publication after the bridge exists');
  // The bridge is there now: the next container's publication goes beside its attach.
  order.length = 0;
  await w.driver.setup('/run/ns/c2', opts(C2, '10.9.0.3', { port_mappings: [{ ...ports[0]!, host_port: 8081 }] }));
  assert.deepEqual(order.map((o) => o.split(' ')[0]), ['publish', 'attached']);
});
