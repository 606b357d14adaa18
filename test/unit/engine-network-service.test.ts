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
import { NetworkService, type NetworkServiceOptions } from '../../src/engine/networks';
import { parseAddressPools, parseBridgeIp, parseFixedCidr } from '../../src/network/address-pools';
import { overlaps, parseSubnet } from '../../src/network/addresses';
import { AddressAllocator, POOL_OVERLAPS } from '../../src/network/ipam';
import { NetworkStore, type Attachment } from '../../src/network/network-store';
import { FakeContainerDirectory, FakeHostPorts, FakeHostRoutes, FakeNetns, FakeNetworkDriver } from '../fakes/network-ports';
import { until } from '../helpers/wait';

const log = { info: () => undefined, error: () => undefined };

/**
 * The pool of most tests: four /24s, the default bridge on the last one (bip), so three are left for user networks.
 */
const SMALL_POOL: AddressSettings = { pools: [{ base: parseSubnet('10.210.0.0/22'), size: 24 }], bridgeIp: parseBridgeIp('10.210.3.1/24') };

type AddressSettings = Pick<NetworkServiceOptions, 'pools' | 'bridgeIp' | 'fixedCidr'>;

/**
 * A NetworkService on fakes, initialised, given to `fn`. `o.root`: the store's directory, kept afterwards (a second
 * call on it is a daemon's restart); `o.routes`, `o.log`: the host routes and log to start with.
 */
async function withNetworks(fn: (t: {
  networks: NetworkService; endpoints: NetworkEndpoints; routes: FakeHostRoutes; containers: FakeContainerDirectory; actions: string[];
  sandboxes: SandboxTable; netns: FakeNetns; driver: FakeNetworkDriver;
}) => Promise<void>, settings: AddressSettings = SMALL_POOL, o: { root?: string; routes?: FakeHostRoutes; log?: { info(m: string): void; error(m: string): void } } = {}): Promise<void> {
  const root = o.root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'berth-networks-'));
  try {
    const store = new NetworkStore(root);
    const sandboxes = new SandboxTable(store);
    const addresses = new AddressAllocator();
    const routes = o.routes ?? new FakeHostRoutes();
    const containers = new FakeContainerDirectory();
    const events = new EventBus();
    const actions: string[] = [];
    events.subscribe((ev) => { if (ev.Type === 'network') actions.push(`${ev.Action} ${ev.Actor.Attributes.name ?? ''}`); });
    const routes6 = async () => [];
    const networks = new NetworkService({ store, sandboxes, addresses, containers, routes: routes.probe, routes6, events, bridgeName: 'berthtest0', ...settings, log: o.log ?? log });
    const driver = new FakeNetworkDriver();
    const dns = new NetworkDns({ networks, sandboxes, containers, driver, log });
    const netns = new FakeNetns();
    const endpoints = new NetworkEndpoints({
      networks, store, sandboxes, addresses, dns, containers, driver, netns, ports: new FakeHostPorts(), routes: routes.probe, routes6, events, log,
    });
    await networks.init();
    await endpoints.init();
    await fn({ networks, endpoints, routes, containers, actions, sandboxes, netns, driver });
  } finally {
    if (!o.root) fs.rmSync(root, { recursive: true, force: true });
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

test('init makes the predefined networks; the default bridge takes a /21 of the pool, user networks its /24s', () => withNetworks(async ({ networks }) => {
  assert.deepEqual(networks.all().map((n) => n.name).sort(), ['bridge', 'host', 'none']);
  const bridge = networks.get('bridge');
  assert.equal(bridge.bridge, 'berthtest0');
  assert.match(bridge.subnet, /^10\.210\.\d+\.0\/21$/);
  assert.equal(Number(bridge.subnet.split('.')[2]) % 8, 0, 'aligned on a /21');
  assert.equal(bridge.gateway, bridge.subnet.replace(/0\/21$/, '1'));
  assert.equal(bridge.ipRange, '');
  const user = networks.get((await networks.create({ Name: 'front' })).Id);
  assert.match(user.subnet, /^10\.210\.\d+\.0\/24$/);
  assert.ok(!overlaps(parseSubnet(user.subnet), parseSubnet(bridge.subnet)));
}, { pools: parseAddressPools([{ base: '10.210.0.0/16', size: 24 }]) }));

test('bip sets the default bridge, fixed-cidr its containers\' range; pools of /16s give it a /16 as dockerd\'s', async () => {
  await withNetworks(async ({ networks }) => {
    const bridge = networks.get('bridge');
    assert.deepEqual([bridge.subnet, bridge.gateway, bridge.ipRange], ['10.99.0.0/16', '10.99.0.7', '10.99.4.0/22']);
    assert.equal(networks.get((await networks.create({ Name: 'front' })).Id).subnet.split('.').slice(0, 2).join('.'), '10.98');
  }, {
    pools: parseAddressPools([{ base: '10.98.0.0/16', size: 24 }]), bridgeIp: parseBridgeIp('10.99.0.7/16'),
    fixedCidr: parseFixedCidr('10.99.4.0/22', parseBridgeIp('10.99.0.7/16')),
  });
  // fixed-cidr alone is the bridge's subnet, as dockerd takes it.
  await withNetworks(async ({ networks }) => {
    assert.deepEqual([networks.get('bridge').subnet, networks.get('bridge').gateway], ['10.97.1.0/24', '10.97.1.1']);
  }, { fixedCidr: parseFixedCidr('10.97.1.0/24') });
  await withNetworks(async ({ networks }) => {
    assert.match(networks.get('bridge').subnet, /^10\.(6[4-7])\.0\.0\/16$/);
    assert.match(networks.get((await networks.create({ Name: 'front' })).Id).subnet, /^10\.(6[4-7])\.0\.0\/16$/);
  }, { pools: parseAddressPools([{ base: '10.64.0.0/14', size: 16 }]) });
});

test('a bip the host routes elsewhere stops the start, by name', async () => {
  const routes = new FakeHostRoutes();
  routes.routes = [{ dst: parseSubnet('10.99.3.0/24'), dev: 'wg0' }];
  await assert.rejects(withNetworks(async () => undefined, { bridgeIp: parseBridgeIp('10.99.0.1/16') }, { routes }), {
    name: 'InvalidParameterError', message: 'bip: 10.99.0.0/16 overlaps 10.99.3.0/24, which the host routes via wg0',
  });
});

test('a stored /24 default bridge is made a /21 at start when no container is on it, and kept while one is', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-networks-'));
  const pools = parseAddressPools([{ base: '10.210.0.0/16', size: 24 }]);
  try {
    // The store an older Berth left: a /24 default bridge with a running container on it.
    let old = '';
    await withNetworks(async ({ networks, sandboxes }) => {
      old = networks.get('bridge').subnet;
      await sandboxes.put({ containerId: 'c'.repeat(64), sandboxId: 's', netns: '/run/netns/x', ports: [], attachments: [{
        networkId: networks.get('bridge').id, networkName: 'bridge', endpointId: 'e', interfaceName: 'eth0', ip: '10.210.3.2', prefixLen: 24,
        gateway: '10.210.3.1', mac: '02:42:0a:d2:03:02', dnsNames: [], ready: true, opts: {} as Attachment['opts'],
      }] });
    }, SMALL_POOL, { root });
    assert.equal(old, '10.210.3.0/24');
    const logged: string[] = [];
    const logTo = { info: (m: string) => logged.push(m), error: (m: string) => logged.push(m) };
    // Started with the default size while the container runs: kept, and the log says why.
    await withNetworks(async ({ networks, sandboxes }) => {
      assert.equal(networks.get('bridge').subnet, old);
      await sandboxes.remove(sandboxes.get('c'.repeat(64))!);
    }, { pools }, { root, log: logTo });
    assert.match(logged.join('\n'), /the default bridge stays on 10\.210\.3\.0\/24 although a \/24 is smaller than the default bridge's \/21: running containers are attached/);
    logged.length = 0;
    await withNetworks(async ({ networks }) => {
      assert.match(networks.get('bridge').subnet, /^10\.210\.\d+\.0\/21$/);
    }, { pools }, { root, log: logTo });
    assert.match(logged.join('\n'), /the default bridge moves from 10\.210\.3\.0\/24 to 10\.210\.\d+\.0\/21: a \/24 is smaller/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

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

test('a running container\'s namespace: held again at start-up, and entered through the hold when connected', () => withNetworks(async ({ networks, endpoints, containers, netns, driver }) => {
  const c = createdContainer('d'.repeat(64), 'app');
  containers.records.set(c.id, c);
  await endpoints.attach(c);
  assert.deepEqual(driver.calls, [`setup /run/netns/${c.id} ${networks.byName('bridge')!.id}`], 'the first setup makes the namespace on its file');
  c.state = { ...c.state, status: 'running', pid: 4242 };
  const gone = createdContainer('e'.repeat(64), 'gone');
  containers.records.set(gone.id, gone);
  await endpoints.attach(gone);
  await endpoints.reconcile((id) => containers.records.get(id)?.state.status === 'running');
  assert.deepEqual([...netns.held], [c.id], 'the running one is held; the stopped one torn down');
  const { Id } = await networks.create({ Name: 'back' });
  driver.calls.length = 0;
  await endpoints.connect('back', 'app');
  assert.deepEqual(driver.calls, [`setup /proc/self/fd/${c.id} ${Id}`]);
}));

test('containers starting together set up their interfaces side by side: the networks\' lock holds the plan, not the setup', () => withNetworks(async ({ networks, endpoints, containers, sandboxes, driver }) => {
  const [a, b, f] = ['a', 'b', 'f'].map((ch, i) => {
    const c = createdContainer(ch.repeat(64), `c${i}`);
    containers.records.set(c.id, c);
    return c;
  });
  // b is on a user network too, which must outlive its attach under way.
  await networks.create({ Name: 'busy' });
  await endpoints.connect('busy', 'c1');
  // Each setup until the test's go waits for it; f's then fails as `ip` would.
  const inSetup: string[] = [];
  const gates: (() => void)[] = [];
  let open = false;
  const plain = driver.setup.bind(driver);
  driver.setup = async (netnsPath, opts) => {
    inSetup.push(opts.container_id);
    if (!open) await new Promise<void>((go) => gates.push(go));
    if (opts.container_id === f.id) throw new Error('RTNETLINK answers: File exists');
    return plain(netnsPath, opts);
  };
  const attaches = [a, b, f].map((c) => endpoints.attach(c));
  const fFails = assert.rejects(attaches[2]!, /File exists/);
  await until(() => inSetup.length === 3, 'the three setups under way at once');
  assert.equal(new Set([a, b, f].map((c) => sandboxes.get(c.id)!.attachments[0]!.ip)).size, 3, 'each planned an address of its own');
  await networks.create({ Name: 'meanwhile' });
  await assert.rejects(networks.remove('busy'), { name: 'ForbiddenError', message: /network busy has active endpoints \(name:"c1"/ });
  let detached = false;
  const detach = endpoints.detach(a).then(() => { detached = true; });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(detached, false, 'a detach waits for the attach under way');
  open = true;
  for (const go of gates) go();
  await Promise.all(attaches.slice(0, 2));
  await fFails;
  await detach;
  assert.deepEqual([a, b, f].map((c) => sandboxes.has(c.id)), [false, true, false], 'a detached, b attached, the failed f torn down');
  assert.equal(b.network!.sandboxKey, sandboxes.get(b.id)!.netns);
  assert.deepEqual(driver.calls.filter((c) => c.startsWith('teardown')).length, 2, 'a\'s and f\'s');
  assert.equal(sandboxes.get(b.id)!.attachments.length, 2, 'b on the bridge and on busy');
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
}));
