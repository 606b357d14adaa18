// Unit tests of NetworkService (src/engine/networks.ts) and container connect/disconnect (network-endpoints.ts)
// against fakes of netavark, namespaces, host ports and routes: create, subnets chosen from the pool away from the
// host's routes and other networks, connect and disconnect, remove.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ContainerRecord } from '../../src/engine/container-record';
import { EventBus } from '../../src/engine/events';
import { NetworkDns } from '../../src/engine/network-dns';
import { NetworkEndpoints } from '../../src/engine/network-endpoints';
import { SandboxTable } from '../../src/engine/network-sandboxes';
import { NetworkService } from '../../src/engine/networks';
import { parseSubnet } from '../../src/network/addresses';
import { AddressAllocator, POOL_OVERLAPS } from '../../src/network/ipam';
import { NetworkStore } from '../../src/network/network-store';
import { FakeContainerDirectory, FakeHostPorts, FakeHostRoutes, FakeNetns, FakeNetworkDriver } from '../fakes/network-ports';

const log = { info: () => undefined, error: () => undefined };

async function withNetworks(fn: (t: {
  networks: NetworkService; endpoints: NetworkEndpoints; routes: FakeHostRoutes; containers: FakeContainerDirectory; actions: string[];
}) => Promise<void>, pool = '10.210.0.0/22'): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-networks-'));
  try {
    const store = new NetworkStore(root);
    const sandboxes = new SandboxTable(store);
    const addresses = new AddressAllocator();
    const routes = new FakeHostRoutes();
    const containers = new FakeContainerDirectory();
    const events = new EventBus();
    const actions: string[] = [];
    events.subscribe((ev) => { if (ev.Type === 'network') actions.push(`${ev.Action} ${ev.Actor.Attributes.name ?? ''}`); });
    const routes6 = async () => [];
    const networks = new NetworkService({ store, sandboxes, addresses, containers, routes: routes.probe, routes6, events, bridgeName: 'berthtest0', pool, log });
    const driver = new FakeNetworkDriver();
    const dns = new NetworkDns({ networks, sandboxes, containers, driver, log });
    const endpoints = new NetworkEndpoints({
      networks, store, sandboxes, addresses, dns, containers, driver, netns: new FakeNetns(), ports: new FakeHostPorts(), routes: routes.probe, routes6, events, log,
    });
    await networks.init();
    await endpoints.init();
    await fn({ networks, endpoints, routes, containers, actions });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** A created (not running) container on the default bridge, as ContainerService records it. */
function createdContainer(id: string, name: string): ContainerRecord {
  return {
    id, name, created: new Date().toISOString(), imageId: 'sha256:x', config: {}, hostConfig: {}, path: 'sh', args: [], runtime: 'crun',
    restartCount: 0, lowerDirs: [], mounts: [],
    state: { status: 'created', pid: 0, conmonPid: 0, exitCode: 0, error: '', oomKilled: false, startedAt: '', finishedAt: '', stoppedByUser: false },
  } as ContainerRecord;
}

test('init makes the predefined networks; the default bridge takes a /24 of the pool', () => withNetworks(async ({ networks }) => {
  assert.deepEqual(networks.all().map((n) => n.name).sort(), ['bridge', 'host', 'none']);
  const bridge = networks.get('bridge');
  assert.equal(bridge.bridge, 'berthtest0');
  assert.match(bridge.subnet, /^10\.210\.[0-3]\.0\/24$/);
  assert.equal(bridge.gateway, bridge.subnet.replace(/0\/24$/, '1'));
}));

test('create gives each network its own free /24, never one the host routes', () => withNetworks(async ({ networks, routes, actions }) => {
  const taken = networks.get('bridge').subnet;
  // Two of the pool's four /24s are routed on the host: the only one left is chosen.
  const others = ['10.210.0.0/24', '10.210.1.0/24', '10.210.2.0/24', '10.210.3.0/24'].filter((s) => s !== taken);
  routes.routes = others.slice(0, 2).map((s) => ({ dst: parseSubnet(s), dev: 'eth9' }));
  const { Id } = await networks.create({ Name: 'front' });
  const front = networks.get(Id);
  assert.equal(front.subnet, others[2]);
  assert.equal(networks.get('front'), front);
  await assert.rejects(networks.create({ Name: 'back' }), { name: 'ForbiddenError', message: /could not find an available, non-overlapping IPv4 address pool/ });
  assert.deepEqual(actions, ['create front']);
}));

test('create checks names, drivers and a given subnet against the others', () => withNetworks(async ({ networks, routes }) => {
  await networks.create({ Name: 'front', IPAM: { Config: [{ Subnet: '172.31.5.0/24' }] } });
  assert.equal(networks.get('front').gateway, '172.31.5.1');
  await assert.rejects(networks.create({ Name: 'front' }), { name: 'ConflictError', message: 'network with name front already exists' });
  await assert.rejects(networks.create({ Name: 'bridge' }), { name: 'ForbiddenError', message: 'operation is not permitted on predefined bridge network' });
  await assert.rejects(networks.create({ Name: 'x', Driver: 'overlay' }), { name: 'NotFoundError' });
  await assert.rejects(networks.create({ Name: 'back', IPAM: { Config: [{ Subnet: '172.31.5.128/25' }] } }), { name: 'ForbiddenError', message: POOL_OVERLAPS });
  routes.routes = [{ dst: parseSubnet('172.31.6.0/24'), dev: 'eth9' }];
  await assert.rejects(networks.create({ Name: 'back', IPAM: { Config: [{ Subnet: '172.31.6.0/24' }] } }), {
    name: 'ForbiddenError', message: `${POOL_OVERLAPS} (the host routes 172.31.6.0/24 via eth9)`,
  });
}));

test('connect and disconnect a created container: endpoints recorded, addresses checked, events sent', () => withNetworks(async ({ networks, endpoints, containers, actions }) => {
  const c = createdContainer('c'.repeat(64), 'web');
  containers.records.set(c.id, c);
  const { Id } = await networks.create({ Name: 'front', IPAM: { Config: [{ Subnet: '172.31.5.0/24' }] } });
  await assert.rejects(endpoints.connect('front', 'web', { IPAMConfig: { IPv4Address: '172.31.9.9' } }), {
    name: 'InvalidParameterError', message: 'no configured subnet or ip-range contain the IP address 172.31.9.9',
  });
  await assert.rejects(endpoints.connect('front', 'web', { IPAMConfig: { IPv4Address: '172.31.5.1' } }), { name: 'InvalidParameterError', message: /it is the gateway of network front/ });
  await endpoints.connect('front', 'web', { IPAMConfig: { IPv4Address: '172.31.5.20' }, Aliases: ['www'] });
  const ep = c.network!.endpoints.find((e) => e.networkId === Id)!;
  assert.equal(ep.network, 'front');
  assert.deepEqual(ep.aliases, ['www']);
  await assert.rejects(endpoints.connect('front', 'web'), { name: 'ForbiddenError', message: 'endpoint with name web already exists in network front' });
  await assert.rejects(endpoints.connect('host', 'web'), { name: 'ForbiddenError' });
  await assert.rejects(endpoints.connect('front', 'nosuch'), { name: 'NotFoundError', message: 'No such container: nosuch' });
  await endpoints.disconnect('front', 'web');
  assert.equal(c.network!.endpoints.some((e) => e.networkId === Id), false);
  await assert.rejects(endpoints.disconnect('front', 'web'), { name: 'ForbiddenError', message: `container ${c.id} is not connected to network front` });
  assert.deepEqual(actions, ['create front', 'connect front', 'disconnect front']);
  assert.deepEqual(containers.saved, [c.id, c.id]);
}));

test('remove refuses the predefined networks; a removed network\'s subnet is free again', () => withNetworks(async ({ networks, actions }) => {
  await assert.rejects(networks.remove('bridge'), { name: 'ForbiddenError', message: 'bridge is a pre-defined network and cannot be removed' });
  await assert.rejects(networks.remove('nosuch'), { name: 'NotFoundError' });
  const free = ['10.210.0.0/24', '10.210.1.0/24', '10.210.2.0/24', '10.210.3.0/24'].filter((s) => s !== networks.get('bridge').subnet);
  const made = [];
  for (const name of ['one', 'two', 'three']) made.push(networks.get((await networks.create({ Name: name })).Id).subnet);
  assert.deepEqual([...made].sort(), free);
  await assert.rejects(networks.create({ Name: 'four' }), { name: 'ForbiddenError' });
  await networks.remove('two');
  assert.equal(networks.find('two'), undefined);
  const { Id } = await networks.create({ Name: 'four' });
  assert.equal(networks.get(Id).subnet, made[1], 'the subnet two had');
  assert.deepEqual(actions.slice(-2), ['destroy two', 'create four']);
}, '10.210.0.0/22'));
