// The advertise address swarm init and join choose (src/cluster/advertise-addr.ts) from the host's interfaces as
// `ip -d -j addr` shows them (src/network/host-interfaces.ts): dockerd's choice, devices before bridges and veths.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chooseAdvertiseAddr } from '../../src/cluster/advertise-addr';
import { parseIpAddrJson, type HostInterface } from '../../src/network/host-interfaces';
import { unitFixtures } from '../helpers/paths';

// A VM's interfaces: lo, an ifb, eth0 (virtio: a device, 192.0.2.2 and fd00::2), another daemon's bridge, a veth.
const vm = parseIpAddrJson(fs.readFileSync(path.join(unitFixtures, 'ip-addr-vm.json'), 'utf8'));
const iface = (name: string, kind: string, ...addresses: string[]): HostInterface => ({
  name, up: true, loopback: false, kind,
  addresses: addresses.map((a) => ({ family: a.includes(':') ? 6 : 4, address: a, prefix: a.includes(':') ? 64 : 24, global: true })),
});

describe('advertise address', () => {
  test('ip -d -j addr: kinds, flags and scopes', () => {
    assert.deepEqual(vm.map((i) => [i.name, i.kind, i.up, i.loopback]), [
      ['lo', '', true, true], ['ifb0', 'ifb', false, false], ['eth0', '', true, false], ['btlp0d1rqq', 'bridge', true, false], ['veth1', 'veth', true, false],
    ]);
    assert.deepEqual(vm[2]!.addresses.map((a) => [a.family, a.address, a.global]), [[4, '192.0.2.2', true], [6, 'fd00::2', true], [6, 'fe80::fc:ff:fe00:1', false]]);
  });

  test('none given, as docker-py\'s swarm.init(): the device\'s IPv4 address, bridges left out', () => {
    // docker-py's models test inits with listen_addr 0.0.0.0:2377 only; dockerd answers with eth0's address.
    assert.equal(chooseAdvertiseAddr('0.0.0.0:2377', { interfaces: vm, managedSubnets: [] }), '192.0.2.2');
    assert.equal(chooseAdvertiseAddr('', { interfaces: vm, managedSubnets: [] }), '192.0.2.2');
  });

  test('given: an IP as is, an interface by its name', () => {
    assert.equal(chooseAdvertiseAddr('127.0.0.1', { interfaces: vm, managedSubnets: [] }), '127.0.0.1');
    assert.equal(chooseAdvertiseAddr('10.1.2.3:2377', { interfaces: vm, managedSubnets: [] }), '10.1.2.3');
    assert.equal(chooseAdvertiseAddr('eth0:4567', { interfaces: vm, managedSubnets: [] }), '192.0.2.2');
    assert.throws(() => chooseAdvertiseAddr('ifb0', { interfaces: vm, managedSubnets: [] }), { message: 'interface ifb0 has no usable IPv4 or IPv6 address' });
  });

  test('two devices with addresses: dockerd\'s text', () => {
    const two = [iface('eth0', '', '192.0.2.2'), iface('eth1', '', '198.51.100.7')];
    assert.throws(() => chooseAdvertiseAddr('0.0.0.0', { interfaces: two, managedSubnets: [] }), {
      message: 'could not choose an IP address to advertise since this system has multiple addresses on different interfaces (192.0.2.2 on eth0 and 198.51.100.7 on eth1)',
    });
    assert.throws(() => chooseAdvertiseAddr('', { interfaces: [iface('eth0', '', '192.0.2.2', '192.0.2.3')], managedSubnets: [] }), {
      message: 'could not choose an IP address to advertise since this system has multiple addresses on interface eth0 (192.0.2.2 and 192.0.2.3)',
    });
  });

  test('no device (a container\'s veth eth0): any link, the engine\'s own bridges left out', () => {
    const inContainer = [iface('eth0', 'veth', '172.17.0.2'), iface('berth0', 'bridge', '10.210.5.1')];
    assert.equal(chooseAdvertiseAddr('', { interfaces: inContainer, managedSubnets: ['10.210.5.0/24'] }), '172.17.0.2');
    assert.throws(() => chooseAdvertiseAddr('', { interfaces: inContainer, managedSubnets: [] }), /multiple addresses on different interfaces/);
    assert.throws(() => chooseAdvertiseAddr('', { interfaces: [], managedSubnets: [] }), { message: "could not find the system's IP address - specify one with --advertise-addr" });
  });

  test('join: the address on the manager\'s subnet', () => {
    assert.equal(chooseAdvertiseAddr('', { interfaces: [iface('eth0', 'veth', '10.9.0.2'), iface('eth1', 'veth', '10.8.0.2')], managedSubnets: [], remote: '10.8.0.1:2377' }), '10.8.0.2');
  });
});
