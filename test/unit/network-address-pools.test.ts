// Unit tests of Docker's address-pool settings as Berth reads them (src/network/address-pools.ts): what is taken,
// what is refused and with which words, and the size the default bridge takes from a pool.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bridgePrefixIn, parseAddressPoolFlag, parseAddressPools, parseBridgeIp, parseFixedCidr } from '../../src/network/address-pools';
import { intToIp, subnetString } from '../../src/network/addresses';

test('default-address-pools in Docker\'s form, in order; the flag\'s form with size 24 by default', () => {
  const pools = parseAddressPools([{ base: '10.210.0.0/16', size: 24 }, { base: '172.80.0.0/12', size: 16 }]);
  assert.deepEqual(pools.map((p) => [subnetString(p.base), p.size]), [['10.210.0.0/16', 24], ['172.80.0.0/12', 16]]);
  assert.deepEqual([subnetString(parseAddressPoolFlag('base=10.1.0.0/16').base), parseAddressPoolFlag('base=10.1.0.0/16').size], ['10.1.0.0/16', 24]);
  assert.equal(parseAddressPoolFlag('base=10.1.0.0/16,size=26').size, 26);
});

test('pools Berth cannot use are refused, naming the entry and the problem', () => {
  const refused: [unknown, RegExp][] = [
    [[], /default-address-pools: expected a list/],
    ['10.0.0.0/8', /default-address-pools: expected a list/],
    [[{ base: '10.1.0.0/16', size: 8 }], /default-address-pools\[0\]: invalid size 8: a prefix length from the base's \(16\) to 30/],
    [[{ base: '10.1.0.0/16', size: 31 }], /invalid size 31/],
    [[{ base: '10.1.0.0/16' }], /invalid size undefined/],
    [[{ base: '10.1.0.0/16', size: 24 }, { base: '10.1.0.5/16', size: 24 }], /default-address-pools\[1\]: invalid base "10.1.0.5\/16": .*host bits set/],
    [[{ base: 'nope', size: 24 }], /invalid base "nope"/],
    [[{ size: 24 }], /"base" must be an IPv4 CIDR/],
    [[{ base: 'fd00::/48', size: 64 }], /IPv6 pool fd00::\/48: Berth takes IPv6 subnets from its own unique local prefix/],
  ];
  for (const [value, want] of refused) assert.throws(() => parseAddressPools(value), { name: 'InvalidParameterError', message: want }, JSON.stringify(value));
});

test('bip is the bridge\'s own address with its subnet\'s length; fixed-cidr must lie inside it', () => {
  const bip = parseBridgeIp('10.210.0.1/16');
  assert.deepEqual([subnetString(bip.subnet), intToIp(bip.gateway)], ['10.210.0.0/16', '10.210.0.1']);
  assert.equal(intToIp(parseBridgeIp('192.168.7.200/24').gateway), '192.168.7.200');
  assert.throws(() => parseBridgeIp('10.210.0.0/16'), { message: 'bip: 10.210.0.0/16 is the network\'s or broadcast address of 10.210.0.0/16; give the bridge a host address, such as 10.210.0.1/16' });
  assert.throws(() => parseBridgeIp('10.210.255.255/16'), { message: /broadcast address/ });
  for (const bad of ['10.210.0.1', '10.210.0.1/31', '300.1.1.1/16', 'x', 16]) assert.throws(() => parseBridgeIp(bad), { name: 'InvalidParameterError', message: /^bip: invalid/ }, String(bad));
  assert.equal(subnetString(parseFixedCidr('10.210.8.0/21', bip)), '10.210.8.0/21');
  assert.throws(() => parseFixedCidr('10.211.0.0/24', bip), { message: 'fixed-cidr: 10.211.0.0/24 is not inside the bridge\'s subnet 10.210.0.0/16 (bip)' });
  assert.throws(() => parseFixedCidr('10.0.0.0/8', bip), { message: /is not inside/ });
  assert.throws(() => parseFixedCidr('10.210.0.1/24'), { message: /fixed-cidr: invalid "10.210.0.1\/24"/ });
});

test('the default bridge takes a /21 of a pool, a pool\'s wider size, or a narrow base whole', () => {
  const size = (base: string, n: number) => bridgePrefixIn(parseAddressPools([{ base, size: n }])[0]!);
  assert.equal(size('10.210.0.0/16', 24), 21);
  assert.equal(size('172.16.0.0/12', 16), 16);
  assert.equal(size('10.210.4.0/22', 24), 22);
  assert.equal(size('10.210.0.0/16', 20), 20);
});
