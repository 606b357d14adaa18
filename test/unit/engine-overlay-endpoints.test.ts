// Unit tests of the engine's side of swarm overlay networks (networks.ts, network-endpoints.ts) against a fake of the
// swarm's port (test/fakes/overlay-attachments.ts) and fakes of netavark and namespaces: lookup of swarm networks,
// the attachable check, join/joined/leave/left around netavark's setup and teardown (also when setup fails, and when
// no swarm is there to free an address), netavark's document for an overlay, connect/disconnect, health → serving.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ContainerRecord } from '../../src/engine/container-record';
import type { ContainerConfig, EndpointConfigBody, HostConfig } from '../../src/wire/docker';
import { EventBus } from '../../src/engine/events';
import { NetworkDns } from '../../src/engine/network-dns';
import { NetworkEndpoints } from '../../src/engine/network-endpoints';
import { SandboxTable } from '../../src/engine/network-sandboxes';
import { NetworkService } from '../../src/engine/networks';
import { parseAddressPools } from '../../src/network/address-pools';
import { AddressAllocator } from '../../src/network/ipam';
import type { NetavarkOptions, NetavarkStatus, NetworkDriver } from '../../src/network/netavark';
import { NetworkStore } from '../../src/network/network-store';
import { FakeContainerDirectory, FakeHostPorts, FakeHostRoutes, FakeNetns } from '../fakes/network-ports';
import { FakeOverlayAttachments } from '../fakes/overlay-attachments';

const log = { info: () => undefined, error: () => undefined };
const OV = 'a1'.repeat(32);
const PRIV = 'b2'.repeat(32);

/** netavark that records its calls in the port's log (one order for both) and keeps the documents it was given. */
class RecordingDriver implements NetworkDriver {
  readonly docs: NetavarkOptions[] = [];
  failSetup?: Error;
  constructor(private readonly log: string[]) {}
  async setup(_netns: string, opts: NetavarkOptions): Promise<NetavarkStatus> {
    this.log.push('netavark setup');
    this.docs.push(opts);
    if (this.failSetup) throw this.failSetup;
    return {};
  }
  async teardown(): Promise<void> { this.log.push('netavark teardown'); }
  async addAddresses(): Promise<void> {}
  async setDnsNames(): Promise<void> {}
  async removeNetwork(): Promise<void> {}
}

interface World {
  networks: NetworkService; endpoints: NetworkEndpoints; port: FakeOverlayAttachments; driver: RecordingDriver;
  containers: FakeContainerDirectory; events: EventBus; root: string; netns: FakeNetns; reopen(): Promise<World>;
}

async function withOverlay(fn: (w: World) => Promise<void>): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-overlay-'));
  const port = new FakeOverlayAttachments();
  port.add({ id: OV, name: 'ov', attachable: true });
  port.add({ id: PRIV, name: 'priv', internal: true });
  port.add({ id: 'c3'.repeat(32), name: 'ingress', ingress: true });
  const containers = new FakeContainerDirectory();
  const netns = new FakeNetns();
  const open = async (): Promise<World> => {
    const store = new NetworkStore(root);
    const sandboxes = new SandboxTable(store);
    const addresses = new AddressAllocator();
    const routes = new FakeHostRoutes();
    const events = new EventBus();
    const routes6 = async () => [];
    const networks = new NetworkService({ store, sandboxes, addresses, containers, routes: routes.probe, routes6, events, bridgeName: 'berthov0', pools: parseAddressPools([{ base: '10.210.0.0/16', size: 24 }]), log });
    const driver = new RecordingDriver(port.calls);
    const dns = new NetworkDns({ networks, sandboxes, containers, driver, log });
    const endpoints = new NetworkEndpoints({
      networks, store, sandboxes, addresses, dns, containers, driver, netns, ports: new FakeHostPorts(), routes: routes.probe, routes6, events, log,
    });
    await networks.init();
    await endpoints.init();
    return { networks, endpoints, port, driver, containers, events, root, netns, reopen: open };
  };
  try {
    const w = await open();
    w.networks.useOverlay(port);
    await fn(w);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** A container made as ContainerService makes one: its network settings checked by prepare. */
function created(w: World, id: string, name: string, hc: HostConfig, config: ContainerConfig = {}, eps: Record<string, EndpointConfigBody> = {}): ContainerRecord {
  const c = {
    id, name, created: new Date().toISOString(), imageId: 'sha256:x', config, hostConfig: hc, path: 'sh', args: [], runtime: 'crun',
    restartCount: 0, lowerDirs: [], mounts: [],
    state: { status: 'created', pid: 0, conmonPid: 0, exitCode: 0, error: '', oomKilled: false, startedAt: '', finishedAt: '', stoppedByUser: false },
  } as ContainerRecord;
  c.network = w.endpoints.prepare(name, hc, config, eps);
  w.containers.records.set(id, c);
  return c;
}

const cid = (n: number) => String(n).repeat(64).slice(0, 64);
const TASK_LABELS = { 'com.docker.swarm.task.id': 'task1', 'com.docker.swarm.service.id': 'svc1', 'com.docker.swarm.service.name': 'web' };

test('swarm networks are found by ID, name and prefix while the node is in a swarm; a local network wins a name clash', () => withOverlay(async ({ networks }) => {
  assert.equal(networks.get('ov').id, OV);
  assert.equal(networks.get(OV).name, 'ov');
  assert.equal(networks.get('a1a1').id, OV);
  const ov = networks.get('ov');
  assert.deepEqual([ov.driver, ov.scope, ov.bridge, ov.subnet, ov.gateway, ov.attachable], ['overlay', 'swarm', `bo-${OV.slice(0, 12)}`, '10.0.1.0/24', '10.0.1.1', true]);
  assert.equal(networks.get('priv').internal, true);
  // Listed as dockerd lists a node's networks: ingress always, the others only once used here.
  assert.deepEqual(networks.all().filter((n) => n.scope === 'swarm').map((n) => n.name), ['ingress']);
  const { Id } = await networks.create({ Name: 'ov' });
  assert.equal(networks.get('ov').id, Id, 'the local one first');
  assert.equal(networks.get(OV).name, 'ov', 'the swarm one by its ID');
  await assert.rejects(networks.remove(OV), { name: 'UnavailableError', message: /not a swarm manager/ });
  networks.useOverlay(undefined);
  assert.equal(networks.find(OV), undefined);
  assert.equal(networks.find('priv'), undefined);
}));

test('a standalone container on a swarm network that is not attachable is refused with dockerd\'s text; a task\'s is not', () => withOverlay(async (w) => {
  assert.throws(() => created(w, cid(1), 'a', { NetworkMode: 'priv' }), {
    name: 'ForbiddenError', message: 'Could not attach to network priv: rpc error: code = PermissionDenied desc = network priv not manually attachable',
  });
  assert.throws(() => created(w, cid(1), 'a', { NetworkMode: 'bridge' }, {}, { ingress: {} }), { name: 'ForbiddenError', message: /network ingress not manually attachable/ });
  const task = created(w, cid(2), 'web.1.task1', { NetworkMode: PRIV }, { Labels: TASK_LABELS });
  assert.deepEqual(task.network!.endpoints.map((e) => [e.network, e.networkId]), [['priv', PRIV]]);
  const ok = created(w, cid(3), 'b', { NetworkMode: 'ov' }, {}, { ov: { Aliases: ['db'], IPAMConfig: { IPv4Address: '10.0.1.50' } } });
  assert.deepEqual([ok.network!.endpoints[0]!.aliases, ok.network!.endpoints[0]!.ipv4Address], [['db'], '10.0.1.50']);
  assert.throws(() => created(w, cid(4), 'c', { NetworkMode: 'ov' }, {}, { ov: { IPAMConfig: { IPv4Address: '10.9.9.9' } } }), { name: 'InvalidParameterError' });
}));

test('start joins before netavark and announces after; stop leaves before netavark and frees after; netavark\'s document is a bridge on bo-', () => withOverlay(async (w) => {
  const c = created(w, cid(1), 'b', { NetworkMode: 'ov', PortBindings: { '80/tcp': [{ HostPort: '8080' }] } }, {}, { ov: { Aliases: ['db'], IPAMConfig: { IPv4Address: '10.0.1.50' } } });
  await w.endpoints.attach(c);
  assert.deepEqual(w.port.calls, [`join ${OV} ${c.id}`, 'netavark setup', `joined ${OV} ${c.id}`]);
  assert.deepEqual(w.port.requests.get(c.id), { containerId: c.id, containerName: 'b', aliases: ['db', c.id.slice(0, 12)], ip: '10.0.1.50' });
  const doc = w.driver.docs[0]!;
  assert.deepEqual(doc.networks[OV], { interface_name: 'eth0', static_ips: ['10.0.1.50'], static_mac: '02:42:0a:00:01:32', aliases: ['db', c.id.slice(0, 12)] });
  assert.deepEqual(doc.network_info[OV], {
    name: OV, id: OV, driver: 'bridge', network_interface: `bo-${OV.slice(0, 12)}`, subnets: [{ subnet: '10.0.1.0/24', gateway: '10.0.1.1' }],
    ipv6_enabled: false, internal: false, dns_enabled: true, options: { isolate: 'true', mtu: '1450' }, ipam_options: { driver: 'host-local' },
  });
  const ep = c.network!.endpoints[0]!;
  assert.deepEqual([ep.ip, ep.prefixLen, ep.gateway, ep.mac], ['10.0.1.50', 24, '10.0.1.1', '02:42:0a:00:01:32']);
  assert.ok(w.networks.all().some((n) => n.id === OV), 'in use here: listed');
  assert.equal(w.networks.endpointsOn(w.networks.get('ov')).length, 1);
  w.port.calls.length = 0;
  await w.endpoints.detach(c);
  assert.deepEqual(w.port.calls, [`leave ${OV} ${c.id}`, 'netavark teardown', `left ${OV} ${c.id}`]);
  assert.ok(!w.networks.all().some((n) => n.id === OV));
}));

test('an internal overlay: netavark\'s network is internal, the endpoint has no gateway; a task\'s join names its task', () => withOverlay(async (w) => {
  const c = created(w, cid(2), 'web.1.task1', { NetworkMode: PRIV }, { Labels: TASK_LABELS });
  await w.endpoints.attach(c);
  assert.equal(w.driver.docs[0]!.network_info[PRIV]!.internal, true);
  assert.equal(c.network!.endpoints[0]!.gateway, '');
  assert.deepEqual(w.port.requests.get(c.id)!.task, { taskId: 'task1', serviceId: 'svc1', serviceName: 'web' });
}));

test('a setup that fails half-way leaves and frees what it joined; a failed join frees its lease too', () => withOverlay(async (w) => {
  const c = created(w, cid(1), 'b', { NetworkMode: 'ov' });
  w.driver.failSetup = new Error('netavark setup: boom');
  await assert.rejects(w.endpoints.attach(c), /boom/);
  assert.deepEqual(w.port.calls, [`join ${OV} ${c.id}`, 'netavark setup', `leave ${OV} ${c.id}`, 'netavark teardown', `left ${OV} ${c.id}`]);
  w.driver.failSetup = undefined;
  w.port.calls.length = 0;
  w.port.failJoin = new Error('etcd unavailable');
  await assert.rejects(w.endpoints.attach(c), /etcd unavailable/);
  // No address came back: nothing for netavark to undo, but the swarm may hold a lease half made.
  assert.deepEqual(w.port.calls, [`join ${OV} ${c.id}`, `leave ${OV} ${c.id}`, `left ${OV} ${c.id}`]);
}));

test('connect and disconnect a running container on an attachable overlay; a non-attachable one is refused', () => withOverlay(async (w) => {
  const c = created(w, cid(1), 'b', {});
  await w.endpoints.attach(c);
  c.state.status = 'running';
  await assert.rejects(w.endpoints.connect('priv', 'b'), { name: 'ForbiddenError', message: /network priv not manually attachable/ });
  await w.endpoints.connect('ov', 'b', { Aliases: ['x'] });
  // The default bridge's setup at start, then the overlay's join, setup, joined.
  assert.deepEqual(w.port.calls, ['netavark setup', `join ${OV} ${c.id}`, 'netavark setup', `joined ${OV} ${c.id}`]);
  assert.equal(c.network!.endpoints[1]!.ip, '10.0.1.2');
  w.port.calls.length = 0;
  await w.endpoints.disconnect('ov', 'b');
  assert.deepEqual(w.port.calls, [`leave ${OV} ${c.id}`, 'netavark teardown', `left ${OV} ${c.id}`]);
  assert.equal(c.network!.endpoints.length, 1);
}));

test('health changes of a container on overlays tell the swarm whether it serves; a health-checked one starts not serving', () => withOverlay(async (w) => {
  const c = created(w, cid(1), 'web.1.task1', { NetworkMode: PRIV }, { Labels: TASK_LABELS, Healthcheck: { Test: ['CMD', 'true'] } });
  await w.endpoints.attach(c);
  assert.deepEqual(w.port.calls.slice(-2), [`joined ${PRIV} ${c.id}`, `serving ${PRIV} ${c.id} false`]);
  w.port.calls.length = 0;
  w.events.publish('container', 'health_status: healthy', c.id, {});
  w.events.publish('container', 'health_status: unhealthy', c.id, {});
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(w.port.calls, [`serving ${PRIV} ${c.id} true`, `serving ${PRIV} ${c.id} false`]);
}));

test('torn down with no swarm (start-up before the cluster, a node that left): the address is owed, kept on disk, freed when a swarm comes', () => withOverlay(async (w) => {
  const c = created(w, cid(1), 'b', { NetworkMode: 'ov' });
  await w.endpoints.attach(c);
  w.networks.useOverlay(undefined);
  w.port.calls.length = 0;
  // berthd restarts: the sandbox of a container that no longer runs is torn down before the cluster is up.
  const again = await w.reopen();
  await again.endpoints.reconcile(() => false);
  assert.deepEqual(w.port.calls, ['netavark teardown']);
  assert.ok(fs.existsSync(path.join(w.root, 'overlay-releases.list')));
  const third = await w.reopen();
  third.networks.useOverlay(w.port);
  await third.networks.exclusive(async () => undefined);
  assert.deepEqual(w.port.calls, ['netavark teardown', `leave ${OV} ${c.id}`, `left ${OV} ${c.id}`]);
  assert.ok(!fs.existsSync(path.join(w.root, 'overlay-releases.list')));
}));
