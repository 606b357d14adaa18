// Swarm init and join's address fields as dockerd reads them (moby's daemon/cluster/listen_addr.go, swarm.go): what
// is accepted and resolved, and moby's 400 texts for the rest (the API fuzzer's "KILL", "1", "80/tcp", "\n"...).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidParameterError } from '../../src/errdefs';
import { checkBindable, initAddresses, joinAddresses, parseTcpAddr, resolveSystemAddr, sanitize, type HostInterfaces } from '../../src/cluster/spec/addresses';
import { checkAddrPool } from '../../src/cluster/spec/swarm-spec';

const v4 = (address: string, global = true) => ({ family: 4 as const, address, prefix: 24, global });
const v6 = (address: string, global = true) => ({ family: 6 as const, address, prefix: 64, global });
const iface = (name: string, ...addresses: ReturnType<typeof v4 | typeof v6>[]) => ({ name, up: true, loopback: name === 'lo', kind: '', addresses });
const lo = iface('lo', v4('127.0.0.1', false), v6('::1', false));
const host: HostInterfaces = { interfaces: [lo, iface('eth0', v4('10.1.2.3'), v6('fe80::1', false)), iface('dummy')], managedSubnets: [] };
const twoNics: HostInterfaces = { ...host, interfaces: [...host.interfaces, iface('eth1', v4('192.168.5.6'))] };

function refused(f: () => unknown, message: string | RegExp): void {
  assert.throws(f, (err: Error) => {
    assert.ok(err instanceof InvalidParameterError, `${err.constructor.name}: ${err.message}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test('validateAddr: tcp addresses get 0.0.0.0 and 2377 filled in, anything else is kept for the next check', () => {
  assert.equal(parseTcpAddr('0.0.0.0:2377'), '0.0.0.0:2377');
  assert.equal(parseTcpAddr('KILL'), 'KILL:2377');
  assert.equal(parseTcpAddr(':4000'), '0.0.0.0:4000');
  assert.equal(parseTcpAddr('tcp://[::1]:5'), '[::1]:5');
  assert.equal(parseTcpAddr('80/tcp'), undefined);
  assert.equal(parseTcpAddr('\n'), undefined);
  assert.equal(parseTcpAddr('a:b:c:d'), undefined);
  assert.equal(parseTcpAddr('udp://1.2.3.4:5'), undefined);
  assert.equal(parseTcpAddr('1.2.3.4:0'), undefined);
  refused(() => sanitize('', 'ListenAddr'), 'invalid ListenAddr "": invalid empty address');
});

test('init: ip, ip:port, iface, iface:port; the advertise address defaults to the system one', () => {
  assert.deepEqual(initAddresses({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: '127.0.0.1' }, host),
    { listenHost: '0.0.0.0', listenPort: '2377', advertiseHost: '127.0.0.1', dataPathAddr: '', remoteAddrs: [] });
  assert.deepEqual(initAddresses({ ListenAddr: 'eth0:4567', AdvertiseAddr: 'eth0:1', DataPathAddr: 'lo' }, host),
    { listenHost: '10.1.2.3', listenPort: '4567', advertiseHost: '10.1.2.3', dataPathAddr: '127.0.0.1', remoteAddrs: [] });
  assert.equal(initAddresses({ ListenAddr: '0.0.0.0:2377' }, host).advertiseHost, '10.1.2.3');
  assert.equal(initAddresses({ ListenAddr: '[::1]:2377', AdvertiseAddr: '::1' }, host).listenHost, '::1');
});

test("init: moby's texts for what is neither an IP nor an interface", () => {
  for (const bad of ['KILL', 'fuzz', 'bridge', '1', '10s', 'a.b']) {
    refused(() => initAddresses({ ListenAddr: bad }, host), 'listen address must be an IP address or network interface (with optional port number)');
    refused(() => initAddresses({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: bad }, host), 'advertise address must be a non-zero IP address or network interface (with optional port number)');
  }
  for (const bad of ['80/tcp', '/tmp', '\n']) refused(() => initAddresses({ ListenAddr: bad }, host), `could not parse listen address ${bad}`);
  refused(() => initAddresses({ ListenAddr: '' }, host), 'invalid ListenAddr "": invalid empty address');
  refused(() => initAddresses({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: '0.0.0.0' }, host), /^advertise address must be a non-zero IP/);
  refused(() => initAddresses({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: '127.0.0.1', DataPathAddr: 'x' }, host),
    'data path address must be a non-zero IP address or network interface (without a port number)');
  refused(() => initAddresses({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: 'dummy' }, { ...host, interfaces: [iface('dummy', v6('2001:db8::1'), v6('2001:db8::2'))] }),
    'interface dummy has more than one IPv6 address (2001:db8::1 and 2001:db8::2)');
  refused(() => initAddresses({ ListenAddr: '0.0.0.0:2377' }, twoNics),
    'could not choose an IP address to advertise since this system has multiple addresses on different interfaces (10.1.2.3 on eth0 and 192.168.5.6 on eth1)');
  refused(() => initAddresses({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: '8.8.8.8' }, twoNics), /^must specify a listening address because/);
  refused(() => initAddresses({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: 'dummy' }, host), 'interface dummy has no usable IPv4 or IPv6 address');
  refused(() => resolveSystemAddr({ interfaces: [lo], managedSubnets: [] }), /^could not find the system's IP address/);
});

test("Berth's own limit: it listens on the advertise address, so that must be this system's", () => {
  const addrs = initAddresses({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: '8.8.8.8' }, host);
  refused(() => checkBindable(addrs, host, 2377), 'failed to listen on remote API address: listen tcp 8.8.8.8:2377: bind: cannot assign requested address');
  refused(() => checkBindable(initAddresses({ ListenAddr: '10.9.9.9', AdvertiseAddr: 'lo' }, host), host, 2377), /listen tcp 10\.9\.9\.9:2377: bind/);
  refused(() => checkBindable(initAddresses({ ListenAddr: '127.0.0.1:1/x' }, host), host, 2377), 'failed to listen on remote API address: listen tcp: address 127.0.0.1:1/x: invalid port');
  checkBindable(initAddresses({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: 'eth0' }, host), host, 2377);
});

test('join: RemoteAddrs required and sanitised; a bad advertise address is dropped; DataPathAddr checked', () => {
  refused(() => joinAddresses({ ListenAddr: '0.0.0.0:2377', RemoteAddrs: [] }, host), 'at least 1 RemoteAddr is required to join');
  refused(() => joinAddresses({ ListenAddr: '0.0.0.0:2377', RemoteAddrs: [''] }, host), 'invalid remoteAddr "": invalid empty address');
  refused(() => joinAddresses({ ListenAddr: 'KILL', RemoteAddrs: ['10.0.0.1'] }, host), /^listen address must be/);
  refused(() => joinAddresses({ ListenAddr: '0.0.0.0:2377', RemoteAddrs: ['10.0.0.1'], DataPathAddr: '1' }, host), /^data path address must be/);
  assert.deepEqual(joinAddresses({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: 'KILL', RemoteAddrs: ['10.0.0.1', 'mgr:4000'] }, host),
    { listenHost: '0.0.0.0', listenPort: '2377', advertiseHost: '', dataPathAddr: '', remoteAddrs: ['10.0.0.1:2377', 'mgr:4000'] });
});

test("DefaultAddrPool and SubnetSize: moby's checks", () => {
  checkAddrPool(undefined, 100);
  checkAddrPool(['10.20.0.0/16', ' 10.30.0.0/16 '], 24);
  assert.throws(() => checkAddrPool([], 100), { message: 'subnet size is out of range: 100' });
  assert.throws(() => checkAddrPool(['true'], 0), { message: 'invalid base pool true: invalid CIDR address: true' });
  assert.throws(() => checkAddrPool(['10.0.0.0/26'], 24), { message: 'invalid CIDR: "10.0.0.0/26". Subnet size is too small for pool: 24' });
});
