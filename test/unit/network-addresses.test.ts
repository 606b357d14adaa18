// Subnets and addresses, the host's routes as `ip -j` prints them, published-port requests, legacy links,
// and host ports held by real sockets.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import type * as os from 'node:os';
import { parseSubnet, overlaps, freeSubnets, nextFreeAddress, hostRange, ipToInt, intToIp, subnetString, parseRouteDst } from '../../src/network/addresses';
import * as a6 from '../../src/network/addresses';
import { parseProcNetRoute, addressSubnets, probeHostRoutes, parseProcNetIpv6Route } from '../../src/network/host-routes';
import { portRequests, portMap, parsePortKey } from '../../src/engine/published-ports';
import type { ContainerRecord } from '../../src/engine/container-record';
import { parseLink } from '../../src/engine/network-dns';
import { networkModeOf } from '../../src/engine/network-endpoints';
import { SocketHostPorts } from '../../src/network/ports';

test('subnets parse as Docker takes them; host bits and junk are refused with the reason', () => {
  assert.equal(subnetString(parseSubnet('10.1.2.0/24')), '10.1.2.0/24');
  assert.throws(() => parseSubnet('10.1.2.3/24'), /has host bits set \(did you mean 10\.1\.2\.0\/24\?\)/);
  assert.throws(() => parseSubnet('10.1.2.0/33'), /expected an IPv4 CIDR/);
  assert.throws(() => parseSubnet('nonsense'), /invalid subnet nonsense/);
  assert.deepEqual(hostRange(parseSubnet('10.0.0.0/30')).map(intToIp), ['10.0.0.1', '10.0.0.2']);
  assert.equal(intToIp(ipToInt('192.168.255.1')), '192.168.255.1');
  assert.deepEqual(parseRouteDst('10.9.8.7/16'), parseSubnet('10.9.0.0/16'));
  assert.deepEqual(parseRouteDst('default'), { base: 0, prefix: 0 });
});

test('overlap, free subnets around used ones, and the next free address wrapping round', () => {
  assert.ok(overlaps(parseSubnet('10.0.0.0/16'), parseSubnet('10.0.5.0/24')));
  assert.ok(!overlaps(parseSubnet('10.0.0.0/24'), parseSubnet('10.0.1.0/24')));
  const pool = parseSubnet('10.210.0.0/22');
  const used = [parseSubnet('10.210.1.0/24'), parseSubnet('10.210.2.0/23'), { base: 0, prefix: 0 }];
  // The default route says nothing local and is ignored; the start index rotates through the pool.
  assert.deepEqual([...freeSubnets(pool, 24, used, 0)].map(subnetString), ['10.210.0.0/24']);
  assert.deepEqual([...freeSubnets(pool, 24, [], 2)].map(subnetString), ['10.210.2.0/24', '10.210.3.0/24', '10.210.0.0/24', '10.210.1.0/24']);
  const range = hostRange(parseSubnet('10.0.0.0/29')); // .1 … .6
  const taken = new Set([ipToInt('10.0.0.1'), ipToInt('10.0.0.3')]);
  assert.equal(intToIp(nextFreeAddress(range, taken)!), '10.0.0.2');
  assert.equal(intToIp(nextFreeAddress(range, taken, ipToInt('10.0.0.2'))!), '10.0.0.4');
  assert.equal(intToIp(nextFreeAddress(range, taken, ipToInt('10.0.0.6'))!), '10.0.0.2', 'wraps after the last');
  assert.equal(nextFreeAddress(range, new Set([1, 2, 3, 4, 5, 6].map((i) => ipToInt(`10.0.0.${i}`)))), undefined);
});

test('the host\'s routes from /proc/net/route and the subnets of its addresses', async () => {
  const text = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    'tun0\t0100080A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0',
    'odd0\t0000000A\t00000000\t0001\t0\t0\t0\t00FF00FF\t0\t0\t0',
    '',
  ].join('\n');
  assert.deepEqual(parseProcNetRoute(text).map((r) => `${subnetString(r.dst)} ${r.dev}`), ['172.17.0.0/16 docker0', '10.8.0.1/32 tun0']);
  const addrs = addressSubnets({
    lo: [{ family: 'IPv4', address: '127.0.0.1', cidr: '127.0.0.1/8', internal: true }],
    eth0: [{ family: 'IPv4', address: '192.0.2.2', cidr: '192.0.2.2/24' }, { family: 'IPv6', address: 'fd00::2', cidr: 'fd00::2/64' }],
  } as unknown as NodeJS.Dict<os.NetworkInterfaceInfo[]>); // only the fields addressSubnets reads
  assert.deepEqual(addrs.map((r) => `${subnetString(r.dst)} ${r.dev}`), ['127.0.0.0/8 lo', '192.0.2.0/24 eth0']);
  // On this host: loopback's subnet is always there.
  assert.ok((await probeHostRoutes()).some((r) => subnetString(r.dst) === '127.0.0.0/8'));
});

test('published-port requests from -p and -P; the port map inspect shows', () => {
  const c: Pick<ContainerRecord, 'config' | 'hostConfig'> = {
    config: { ExposedPorts: { '80/tcp': {}, '53/udp': {}, '9000/tcp': {} } },
    hostConfig: { PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '' }], '53/udp': [{ HostIp: '::', HostPort: '53' }] }, PublishAllPorts: true },
  };
  assert.deepEqual(portRequests(c), [
    { hostIp: '', hostPortLow: 8080, hostPortHigh: 8080, containerPort: 80, proto: 'tcp' },
    { hostIp: '127.0.0.1', hostPortLow: 0, hostPortHigh: 0, containerPort: 80, proto: 'tcp' },
    // IPv6 bindings are left out (Berth's networks are IPv4); -P adds only the ports with no binding.
    { hostIp: '', hostPortLow: 0, hostPortHigh: 0, containerPort: 9000, proto: 'tcp' },
  ]);
  assert.throws(() => portRequests({ config: {}, hostConfig: { PortBindings: { '80/tcp': [{ HostPort: '9-1' }] } } }), /invalid host port: 9-1/);
  assert.throws(() => portRequests({ config: {}, hostConfig: { PortBindings: { '70000/tcp': [] } } }), /invalid port specification/);
  // Only the fields portMap reads of the state and the network.
  const running = { ...c, state: { status: 'running' }, network: { sandboxKey: '/run/x', ports: [{ hostIp: '', hostPort: 8080, containerPort: 80, proto: 'tcp' }] } } as Pick<ContainerRecord, 'config' | 'hostConfig' | 'network' | 'state'>;
  assert.deepEqual(portMap(running), { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }], '53/udp': null, '9000/tcp': null });
  assert.deepEqual(portMap({ ...running, state: { ...running.state, status: 'exited' } }), {});
  assert.deepEqual(parsePortKey('53/udp'), { port: 53, proto: 'udp' });
  assert.equal(parsePortKey('53/icmp'), undefined);
});

test('links and network modes', () => {
  assert.deepEqual(parseLink('db'), { name: 'db', alias: 'db' });
  assert.deepEqual(parseLink('/db:/web/database'), { name: 'db', alias: 'database' });
  assert.deepEqual(networkModeOf('default'), { kind: 'network', ref: 'bridge' });
  assert.deepEqual(networkModeOf('container:abc'), { kind: 'container', ref: 'abc' });
});

test('host ports are held by real sockets: a taken port is refused, all or none, and freed on release', async () => {
  const ports = new SocketHostPorts();
  const [p] = await ports.reserve('a', [{ hostIp: '127.0.0.1', hostPortLow: 0, hostPortHigh: 0, containerPort: 80, proto: 'tcp' }]);
  assert.ok(p.hostPort > 0);
  // Another owner asking for it, or a host process binding it, finds it taken.
  await assert.rejects(ports.reserve('b', [{ hostIp: '', hostPortLow: p.hostPort, hostPortHigh: p.hostPort, containerPort: 80, proto: 'tcp' }]), /Bind for 0\.0\.0\.0:\d+ failed: port is already allocated/);
  const probe = net.createServer();
  await assert.rejects(new Promise<void>((resolve, reject) => { probe.once('error', reject); probe.listen(p.hostPort, '127.0.0.1', () => resolve()); }), /EADDRINUSE/);
  // All or none: the second request fails, so the first (free) one is not kept either.
  const [q] = await ports.reserve('tmp', [{ hostIp: '127.0.0.1', hostPortLow: 0, hostPortHigh: 0, containerPort: 1, proto: 'tcp' }]);
  await ports.release('tmp');
  await assert.rejects(ports.reserve('c', [
    { hostIp: '127.0.0.1', hostPortLow: q.hostPort, hostPortHigh: q.hostPort, containerPort: 1, proto: 'tcp' },
    { hostIp: '127.0.0.1', hostPortLow: p.hostPort, hostPortHigh: p.hostPort, containerPort: 2, proto: 'tcp' },
  ]), /already allocated/);
  const [again] = await ports.reserve('d', [{ hostIp: '127.0.0.1', hostPortLow: q.hostPort, hostPortHigh: q.hostPort, containerPort: 1, proto: 'udp' }]);
  assert.equal(again.hostPort, q.hostPort, 'udp and tcp ports are apart');
  await ports.release('a');
  await ports.release('d');
  const [mine] = await ports.reserve('e', [{ hostIp: '127.0.0.1', hostPortLow: p.hostPort, hostPortHigh: p.hostPort, containerPort: 80, proto: 'tcp' }]);
  assert.equal(mine.hostPort, p.hostPort, 'released ports can be taken again');
  await ports.release('e');
  await assert.rejects(ports.reserve('f', [{ hostIp: '192.0.2.254', hostPortLow: 1, hostPortHigh: 1, containerPort: 1, proto: 'tcp' }]), /the host has no such address|already allocated/);
});

test('IPv6: text and numbers both ways as Go prints them, subnets, ranges, the ULA pool, /proc/net/ipv6_route', () => {
  for (const [text, canon] of <Array<[string, string]>>[['2001:DB8:0:0:0:0:0:1', '2001:db8::1'], ['fd00::', 'fd00::'], ['::', '::'], ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['::ffff:10.1.2.3', '::ffff:a01:203'], ['fd00:0:0:1:0:0:0:0', 'fd00:0:0:1::'], ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'], ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7']]) {
    assert.equal(a6.bigToIp6(a6.ip6ToBig(text)), canon, text);
  }
  assert.equal(a6.subnet6String(a6.parseSubnet6('fd00:ba5e::/64')), 'fd00:ba5e::/64');
  assert.throws(() => a6.parseSubnet6('fd00:ba5e::1/64'), /has host bits set \(did you mean fd00:ba5e::\/64\?\)/);
  assert.throws(() => a6.parseSubnet6('fd00:zz::/64'), /invalid subnet fd00:zz::\/64/);
  assert.throws(() => a6.parseSubnet6('fd00::/129'), /expected an IPv6 CIDR/);
  assert.ok(a6.overlaps6(a6.parseSubnet6('fd00::/48'), a6.parseSubnet6('fd00:0:0:5::/64')));
  assert.ok(!a6.overlaps6(a6.parseSubnet6('fd00:0:0:4::/64'), a6.parseSubnet6('fd00:0:0:5::/64')));
  const range = a6.hostRange6(a6.parseSubnet6('fd00::/126'));
  assert.deepEqual(range.map(a6.bigToIp6), ['fd00::1', 'fd00::3']);
  const taken = new Set([a6.ip6ToBig('fd00::1')]);
  assert.equal(a6.bigToIp6(a6.nextFreeAddress6(range, taken)!), 'fd00::2');
  assert.equal(a6.bigToIp6(a6.nextFreeAddress6(range, taken, a6.ip6ToBig('fd00::3'))!), 'fd00::2', 'wraps after the last');
  assert.equal(a6.nextFreeAddress6(range, new Set(['fd00::1', 'fd00::2', 'fd00::3'].map(a6.ip6ToBig))), undefined);
  // The same seed gives the same fdXX:XXXX:XXXX::/48; its /64s come in order, skipping used ones.
  const pool = a6.ulaPrefix('seed');
  assert.deepEqual(a6.ulaPrefix('seed'), pool);
  assert.notDeepEqual(a6.ulaPrefix('other'), pool);
  assert.match(a6.subnet6String(pool), /^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/48$/);
  const [first, second] = a6.freeSubnets6(pool, 64, []);
  assert.equal(second.base - first.base, 1n << 64n);
  assert.deepEqual([...a6.freeSubnets6(a6.parseSubnet6('fd00::/63'), 64, [a6.parseSubnet6('fd00::/64')])].map(a6.subnet6String), ['fd00:0:0:1::/64']);
  const routes = parseProcNetIpv6Route([
    'fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0',
    'fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0',
    '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0',
    '00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000004 00000000 80200001       lo',
  ].join('\n'));
  assert.deepEqual(routes.map((r) => `${a6.subnet6String(r.dst)} ${r.dev}`), ['fd00::/64 eth0']);
});
