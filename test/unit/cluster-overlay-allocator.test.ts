// The swarm's overlay address management on the in-memory store: subnets from the pool (host routes skipped), asked
// subnets checked against every swarm network, VNIs from 4096, addresses handed out in sequence after the last one,
// owners getting their own again, and concurrent allocations (two clients of one store) never sharing anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdOverlayAllocator } from '../../src/cluster/overlay/allocator-etcd';
import { objectKey } from '../../src/cluster/store/objects';
import { ConflictError, InvalidParameterError } from '../../src/errdefs';
import { parseRouteDst } from '../../src/network/addresses';
import { FakeClusterStore } from '../fakes/cluster-store';

const net = (networkId: string, more: { subnet?: string; gateway?: string; ipRange?: string } = {}) => ({ networkId, encrypted: false, ingress: false, ...more });
const task = (taskId: string) => ({ kind: 'task' as const, taskId, nodeId: '' });

test('subnets: the first free /24 of 10.0.0.0/8, gateway the first address, VNIs from 4096; freed ones come back', async () => {
  const a = new EtcdOverlayAllocator(new FakeClusterStore());
  const ingress = await a.allocateNetwork({ ...net('ing'), ingress: true });
  assert.deepEqual(ingress, { Subnet: '10.0.0.0/24', Gateway: '10.0.0.1', IPRange: '', VNI: 4096, Encrypted: false, Ingress: true });
  const second = await a.allocateNetwork(net('n2'));
  assert.deepEqual([second.Subnet, second.Gateway, second.VNI], ['10.0.1.0/24', '10.0.1.1', 4097]);
  await a.releaseNetwork('n2', second);
  const third = await a.allocateNetwork(net('n3'));
  assert.deepEqual([third.Subnet, third.VNI], ['10.0.1.0/24', 4097], 'a removed network gives its subnet and VNI back');
});

test('subnets the host routes are skipped; the pool and size come from the swarm', async () => {
  const a = new EtcdOverlayAllocator(new FakeClusterStore(), {
    addressPool: async () => ({ pools: ['10.20.0.0/16'], subnetSize: 26 }),
    hostRoutes: async () => [{ dst: parseRouteDst('10.20.0.0/25')!, dev: 'eth1' }],
  });
  assert.equal((await a.allocateNetwork(net('x'))).Subnet, '10.20.0.128/26');
});

test('an asked subnet overlapping another swarm network is refused, naming it; gateway and ip-range are checked', async () => {
  const store = new FakeClusterStore();
  const a = new EtcdOverlayAllocator(store);
  await a.allocateNetwork(net('web1', { subnet: '10.5.0.0/16' }));
  await store.txn([{ op: 'put', key: objectKey('networks', 'web1'), value: JSON.stringify({ Name: 'webnet' }) }]);
  await assert.rejects(a.allocateNetwork(net('other', { subnet: '10.5.3.0/24' })),
    (err: Error) => err instanceof InvalidParameterError && /10\.5\.3\.0\/24 overlaps 10\.5\.0\.0\/16 of swarm network webnet \(web1\)/.test(err.message));
  const g = await a.allocateNetwork(net('g', { subnet: '10.6.0.0/24', gateway: '10.6.0.254', ipRange: '10.6.0.128/25' }));
  assert.deepEqual([g.Gateway, g.IPRange], ['10.6.0.254', '10.6.0.128/25']);
  await assert.rejects(a.allocateNetwork(net('h', { subnet: '10.7.0.0/24', gateway: '10.8.0.1' })), InvalidParameterError);
  await assert.rejects(a.allocateNetwork(net('i', { subnet: '10.7.0.0/24', ipRange: '10.9.0.0/25' })), InvalidParameterError);
});

test('addresses: sequential after the last handed out, never the gateway; an owner asking again gets its own', async () => {
  const a = new EtcdOverlayAllocator(new FakeClusterStore());
  const c = await a.allocateNetwork(net('n', { subnet: '10.1.0.0/29' }));
  assert.equal(await a.allocateAddress('n', c, task('t1')), '10.1.0.2');
  assert.equal(await a.allocateAddress('n', c, task('t2')), '10.1.0.3');
  assert.equal(await a.allocateAddress('n', c, task('t1')), '10.1.0.2', 'the same owner, the same address');
  await a.releaseAddress('n', task('t2'));
  assert.equal(await a.allocateAddress('n', c, { kind: 'vip', serviceId: 's' }), '10.1.0.4', 'the freed .3 is not reused at once');
  assert.equal(await a.allocateAddress('n', c, task('t3')), '10.1.0.5');
  assert.equal(await a.allocateAddress('n', c, task('t4')), '10.1.0.6');
  assert.equal(await a.allocateAddress('n', c, task('t5')), '10.1.0.3', 'wraps to the free ones; .7 is the broadcast');
  await assert.rejects(a.allocateAddress('n', c, task('t6')), /no available IPv4 addresses/);
  await assert.rejects(a.allocateAddress('n', c, task('t7'), '10.1.0.2'), ConflictError);
  await assert.rejects(a.allocateAddress('n', c, task('t7'), '10.2.0.2'), InvalidParameterError);
  assert.equal(await a.lbAddress('n', c, 'node1').catch((e: Error) => e.message), 'no available IPv4 addresses on network n (10.1.0.0/29)');
  await a.releaseAddress('n', task('t3'));
  assert.equal(await a.lbAddress('n', c, 'node1'), '10.1.0.5');
  assert.equal(await a.lbAddress('n', c, 'node1'), '10.1.0.5', 'kept');
  const r = await a.allocateNetwork(net('r', { subnet: '10.3.0.0/24', ipRange: '10.3.0.64/26' }));
  assert.equal(await a.allocateAddress('r', r, task('x')), '10.3.0.64', 'inside --ip-range');
});

test('concurrency: allocations at once from two clients never share an address, a subnet or a VNI', async () => {
  const store = new FakeClusterStore();
  const a = new EtcdOverlayAllocator(store);
  const b = new EtcdOverlayAllocator(store.connect());
  const nets = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).allocateNetwork(net(`n${i}`))));
  assert.equal(new Set(nets.map((n) => n.Subnet)).size, 8);
  assert.equal(new Set(nets.map((n) => n.VNI)).size, 8);
  const c = nets[0]!;
  const ips = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).allocateAddress('n0', c, task(`t${i}`))));
  assert.equal(new Set(ips).size, 60);
  assert.ok(!ips.includes(c.Gateway));
  const overlapping = await Promise.allSettled([a.allocateNetwork(net('p', { subnet: '10.200.0.0/16' })), b.allocateNetwork(net('q', { subnet: '10.200.5.0/24' }))]);
  assert.deepEqual(overlapping.map((o) => o.status).sort(), ['fulfilled', 'rejected'], 'overlapping subnets of different sizes: one wins');
});
