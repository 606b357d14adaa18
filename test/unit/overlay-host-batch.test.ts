// IprouteOverlayHost's pure parts: the `ip -batch` lines made from the links as `ip -d -j addr show` prints them
// (created, left alone, corrected), the bridge's MAC and address order, and the fdb/neighbour lines from
// `bridge -j fdb` / `ip -j neigh` (output shapes as iproute2 6.1 prints them).
import test from 'node:test';
import assert from 'node:assert/strict';
import { bridgeMac, desiredAddrs, linkBatch, peerBatches, type IpLinkJson } from '../../src/network/overlay/host-overlay-ip';
import { macForIp, type OverlayLink } from '../../src/network/overlay/host-overlay';

const link: OverlayLink = {
  networkId: 'abcdef0123456789', bridge: 'bo-abcdef012345', vxlan: 'vx-abcdef012345', vni: 4097,
  gateway: '10.0.1.1/24', localAddr: '192.168.1.5', port: 4789, mtu: 1450,
};
const LB = '10.0.1.4/24';
const MAC = macForIp('10.0.1.4');

/** The links as they are once ensure(link, [LB]) has run. */
function goodLinks(): IpLinkJson[] {
  return [
    { ifname: 'lo', flags: ['LOOPBACK', 'UP'], mtu: 65536, address: '00:00:00:00:00:00', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
    {
      ifname: link.bridge, flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1450, address: MAC, linkinfo: { info_kind: 'bridge' },
      addr_info: [
        { family: 'inet', local: '10.0.1.4', prefixlen: 24 },
        { family: 'inet', local: '10.0.1.1', prefixlen: 24, secondary: true },
        { family: 'inet6', local: 'fe80::42:aff:fe00:104', prefixlen: 64 },
      ],
    },
    {
      ifname: link.vxlan, flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1450, master: link.bridge, address: '5e:1a:00:00:00:01',
      linkinfo: { info_kind: 'vxlan', info_data: { id: 4097, local: '192.168.1.5', port: 4789, learning: false, proxy: true } },
      addr_info: [],
    },
  ];
}

test('nothing to do when the links are as asked', () => {
  assert.deepEqual(linkBatch(goodLinks(), link, [LB]), []);
});

test('a missing overlay is made: bridge with its MAC and MTU, VXLAN attached, addresses load-balancer first', () => {
  assert.deepEqual(linkBatch([], link, [LB, '10.0.1.200/32']), [
    `link add name bo-abcdef012345 address ${MAC} mtu 1450 type bridge`,
    'link add name vx-abcdef012345 mtu 1450 type vxlan id 4097 local 192.168.1.5 dstport 4789 nolearning proxy',
    'link set dev vx-abcdef012345 master bo-abcdef012345 up',
    'link set dev bo-abcdef012345 up',
    'address add 10.0.1.4/24 dev bo-abcdef012345',
    'address add 10.0.1.1/24 dev bo-abcdef012345',
    'address add 10.0.1.200/32 dev bo-abcdef012345',
  ]);
});

test('a VXLAN with another port is made again; a detached one is attached again', () => {
  const links = goodLinks();
  assert.deepEqual(linkBatch(links, { ...link, port: 4790 }, [LB]), [
    'link del dev vx-abcdef012345',
    'link add name vx-abcdef012345 mtu 1450 type vxlan id 4097 local 192.168.1.5 dstport 4790 nolearning proxy',
    'link set dev vx-abcdef012345 master bo-abcdef012345 up',
  ]);
  delete links[2]!.master;
  assert.deepEqual(linkBatch(links, link, [LB]), ['link set dev vx-abcdef012345 master bo-abcdef012345 up']);
  links[2]!.linkinfo!.info_data!.learning = true;
  assert.equal(linkBatch(links, link, [LB])[0], 'link del dev vx-abcdef012345');
});

test('addresses are made exact: stale ones removed, secondaries before their primary when the order is wrong', () => {
  const links = goodLinks();
  links[1]!.addr_info!.push({ family: 'inet', local: '10.0.1.200', prefixlen: 32 });
  assert.deepEqual(linkBatch(links, link, [LB]), ['address del 10.0.1.200/32 dev bo-abcdef012345']);
  // The gateway alone, primary (netavark added it first): the load-balancer address must become the primary one.
  links[1]!.addr_info = [{ family: 'inet', local: '10.0.1.1', prefixlen: 24 }];
  assert.deepEqual(linkBatch(links, link, [LB]), [
    'address del 10.0.1.1/24 dev bo-abcdef012345',
    'address add 10.0.1.4/24 dev bo-abcdef012345',
    'address add 10.0.1.1/24 dev bo-abcdef012345',
  ]);
  links[1]!.addr_info = [{ family: 'inet', local: '10.0.1.1', prefixlen: 24 }, { family: 'inet', local: '10.0.1.4', prefixlen: 24, secondary: true }];
  assert.deepEqual(linkBatch(links, link, [LB]), [
    'address del 10.0.1.4/24 dev bo-abcdef012345',
    'address del 10.0.1.1/24 dev bo-abcdef012345',
    'address add 10.0.1.4/24 dev bo-abcdef012345',
    'address add 10.0.1.1/24 dev bo-abcdef012345',
  ]);
});

test('the bridge MAC: macForIp of the load-balancer address, else stable per network and node; a wrong one is set', () => {
  assert.equal(bridgeMac(link, [LB, '10.0.1.9/32']), MAC);
  const fallback = bridgeMac(link, []);
  assert.match(fallback, /^06(:[0-9a-f]{2}){5}$/);
  assert.equal(bridgeMac(link, ['10.0.1.9/32']), fallback);
  assert.notEqual(bridgeMac({ ...link, localAddr: '192.168.1.6' }, []), fallback);
  const links = goodLinks();
  links[1]!.address = '5e:1a:00:00:00:01';
  links[1]!.mtu = 1500;
  assert.deepEqual(linkBatch(links, link, [LB]), ['link set dev bo-abcdef012345 mtu 1450', `link set dev bo-abcdef012345 address ${MAC}`]);
});

test('desired addresses: the load-balancer address first, the gateway, then /32 VIPs; bare addresses are /32', () => {
  assert.deepEqual(desiredAddrs(link, ['10.0.1.200', LB, link.gateway]), ['10.0.1.4/24', '10.0.1.1/24', '10.0.1.200/32']);
});

test('peers: fdb and neighbour entries made exact, the bridge\'s own entries and an all-zeros flood entry handled', () => {
  const fdb = [
    { mac: '5e:1a:00:00:00:01', flags: [], master: link.bridge, state: 'permanent' },
    { mac: '02:42:0a:00:01:05', flags: [], master: link.bridge },
    { mac: '00:00:00:00:00:00', dst: '192.168.1.9', flags: ['self'], state: 'permanent' },
    { mac: '02:42:0a:00:01:05', dst: '192.168.1.6', flags: ['self'], state: 'permanent' },
    { mac: '02:42:0a:00:01:06', dst: '192.168.1.6', flags: ['self'], state: 'permanent' },
  ];
  const neigh = [
    { dst: '10.0.1.5', lladdr: '02:42:0a:00:01:05', state: ['PERMANENT'] },
    { dst: '10.0.1.6', lladdr: '02:42:0a:00:01:06', state: ['PERMANENT'] },
  ];
  const peers = [
    { ip: '10.0.1.5', mac: '02:42:0A:00:01:05', nodeAddr: '192.168.1.7' },
    { ip: '10.0.1.8', mac: '02:42:0a:00:01:08', nodeAddr: '192.168.1.6' },
  ];
  assert.deepEqual(peerBatches(fdb, neigh, link, peers), {
    bridge: [
      'fdb del 00:00:00:00:00:00 dev vx-abcdef012345 dst 192.168.1.9 self',
      'fdb del 02:42:0a:00:01:05 dev vx-abcdef012345 dst 192.168.1.6 self',
      'fdb del 02:42:0a:00:01:06 dev vx-abcdef012345 dst 192.168.1.6 self',
      'fdb replace 02:42:0a:00:01:05 dev vx-abcdef012345 dst 192.168.1.7 self permanent',
      'fdb replace 02:42:0a:00:01:08 dev vx-abcdef012345 dst 192.168.1.6 self permanent',
    ],
    ip: [
      'neigh del 10.0.1.6 dev vx-abcdef012345',
      'neigh replace 10.0.1.8 lladdr 02:42:0a:00:01:08 dev vx-abcdef012345 nud permanent',
    ],
  });
  const settled = [
    { mac: '02:42:0a:00:01:05', dst: '192.168.1.7', flags: ['self'] },
    { mac: '02:42:0a:00:01:08', dst: '192.168.1.6', flags: ['self'] },
  ];
  const settledNeigh = peers.map((p) => ({ dst: p.ip, lladdr: p.mac.toLowerCase(), state: ['PERMANENT'] }));
  assert.deepEqual(peerBatches(settled, settledNeigh, link, peers), { bridge: [], ip: [] });
  assert.deepEqual(peerBatches(settled, settledNeigh, link, []).bridge.length, 2);
});

test('a node alone in its swarm gets the bridge only (no VXLAN: nobody to reach, and no VNI to clash on); a VXLAN left over goes', () => {
  assert.deepEqual(linkBatch([], { ...link, solo: true }, [LB], 'berth:abc123'), [
    `link add name bo-abcdef012345 address ${MAC} mtu 1450 type bridge`,
    'link set dev bo-abcdef012345 alias berth:abc123',
    'link set dev bo-abcdef012345 up',
    'address add 10.0.1.4/24 dev bo-abcdef012345',
    'address add 10.0.1.1/24 dev bo-abcdef012345',
  ]);
  assert.deepEqual(linkBatch(goodLinks(), { ...link, solo: true }, [LB]), ['link del dev vx-abcdef012345']);
});
