// The node's cluster membership on the in-memory store (no etcd, no engine): init and its defaults, /info and the
// ping header, the 503 texts, service update / manual rollback semantics, ServiceStatus, secrets in use, network
// targets, token rotation, leave texts, quorum loss reported with the recovery command, state.json for a restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Cluster, LEADER_ELECTION, TEXT } from '../../src/cluster/cluster';
import { ELECTION_PREFIX } from '../../src/cluster/store/store';
import { InvalidParameterError } from '../../src/errdefs';
import { OpensslSigner } from '../../src/cluster/ca/openssl';
import { ObjectsStore } from '../../src/cluster/store/objects-store';
import type { ClusterOptions } from '../../src/cluster/cluster';
import type { InitRequest, Task } from '../../src/wire/swarm';
import type { ObjectKind, Stored } from '../../src/cluster/store/objects';
import { Filters } from '../../src/wire/filters';
import { FakeClusterStore } from '../fakes/cluster-store';
import { SERVICE_FILTERS, TASK_FILTERS } from '../../src/cluster/spec/filters';

const none = new Filters();
const quiet = { info: () => undefined, error: () => undefined };

function options(dataRoot: string, store: FakeClusterStore, started: string[]): ClusterOptions {
  return {
    dataRoot,
    ports: { control: 2377, etcdClient: 2379, etcdPeer: 2380 },
    signer: new OpensslSigner(),
    etcd: { start: async (spec) => { started.push(`${spec.name} ${spec.state}${spec.forceNewCluster ? ' force' : ''}`); return { stop: async () => undefined }; } },
    connect: async () => ({
      store, objects: new ObjectsStore(store), close: async () => undefined,
      members: { add: async () => ({ initialCluster: '' }), remove: async () => undefined, list: async () => [] },
    }),
    roles: { startManager: async () => ({ stop: async () => undefined }), startAgent: async () => ({ stop: async () => undefined }) },
    containers: { removeNodeContainers: async () => undefined },
    hostAddresses: async () => ({
      interfaces: [
        { name: 'lo', up: true, loopback: true, kind: '', addresses: [{ family: 4, address: '127.0.0.1', prefix: 8, global: false }] },
        { name: 'eth0', up: true, loopback: false, kind: '', addresses: [{ family: 4, address: '10.9.8.7', prefix: 24, global: true }] },
      ],
      managedSubnets: [],
    }),
    host: { hostname: () => 'node1', machine: () => 'x86_64', cpus: () => 2, memTotal: () => 1 << 30, engineVersion: '27.5.1', engineLabels: {} },
    log: quiet,
  };
}

describe('cluster membership on the fake store', () => {
  let dir: string;
  let store: FakeClusterStore;
  let cluster: Cluster;
  const started: string[] = [];
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-member-'));
    store = new FakeClusterStore();
    cluster = new Cluster(options(dir, store, started));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('inactive: info, ping header and the 503 texts', async () => {
    assert.deepEqual(await cluster.info(), { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null });
    assert.equal(cluster.pingHeader(), 'inactive');
    await assert.rejects(cluster.listServices(none, false), { message: TEXT.inactiveNotManager });
    await assert.rejects(cluster.leave(false), { message: TEXT.notInSwarm });
  });

  test('init: defaults, node registered as leader-to-be, state.json written', async () => {
    const nodeId = await cluster.init({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: '10.9.8.7', Spec: { Labels: { a: 'b' }, Orchestration: { TaskHistoryRetentionLimit: 3 } } });
    assert.match(nodeId, /^[0-9a-z]{25}$/);
    assert.deepEqual(started, [`${nodeId} new`]);
    assert.equal(cluster.pingHeader(), 'active/manager');
    const swarm = await cluster.inspectSwarm();
    assert.equal(swarm.Spec.Orchestration?.TaskHistoryRetentionLimit, 3);
    assert.deepEqual(swarm.Spec.Labels, { a: 'b' });
    assert.deepEqual([swarm.DefaultAddrPool, swarm.SubnetSize, swarm.DataPathPort], [['10.0.0.0/8'], 24, 4789]);
    assert.equal('RootCA' in swarm, false);
    assert.match(swarm.JoinTokens.Worker, /^SWMTKN-1-/);
    const info = await cluster.info();
    assert.equal(info.NodeAddr, '10.9.8.7');
    assert.equal(info.Nodes, 1);
    assert.equal(info.Cluster && 'JoinTokens' in info.Cluster, false);
    const [node] = await cluster.listNodes(none);
    assert.equal(node!.Description.Platform.Architecture, 'x86_64');
    assert.deepEqual(node!.Status, { State: 'ready', Addr: '10.9.8.7' });
    assert.equal(node!.ManagerStatus?.Addr, '10.9.8.7:2377');
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'swarm', 'state.json'), 'utf8'));
    assert.equal(state.nodeId, nodeId);
    assert.equal(state.member.peerUrl, 'https://10.9.8.7:2380');
    await assert.rejects(cluster.init({ ListenAddr: '0.0.0.0:2377' }), { message: TEXT.alreadyInSwarm });
  });

  test('token rotation changes only the token asked for', async () => {
    const before = await cluster.inspectSwarm();
    await cluster.updateSwarm(before.Spec, before.Version.Index, { workerToken: true, managerToken: false, unlockKey: false });
    const after = await cluster.inspectSwarm();
    assert.notEqual(after.JoinTokens.Worker, before.JoinTokens.Worker);
    assert.equal(after.JoinTokens.Manager, before.JoinTokens.Manager);
    assert.equal(after.JoinTokens.Worker.split('-')[2], before.JoinTokens.Worker.split('-')[2]);
    await assert.rejects(cluster.updateSwarm(before.Spec, before.Version.Index, { workerToken: false, managerToken: false, unlockKey: false }), /update out of sequence/);
  });

  test('service update keeps the previous spec; a manual rollback swaps them', async () => {
    const { ID } = await cluster.createService({ Name: 'web', Labels: {}, TaskTemplate: { ContainerSpec: { Image: 'busybox' } }, Mode: { Replicated: { Replicas: 2 } } });
    let s = await cluster.inspectService('web', false);
    assert.equal(s.PreviousSpec, undefined);
    await cluster.updateService(ID, s.Version.Index, { ...s.Spec, TaskTemplate: { ContainerSpec: { Image: 'busybox', Env: ['A=1'] } } }, { rollback: false, registryAuthFrom: 'spec' });
    s = await cluster.inspectService(ID, false);
    assert.deepEqual(s.Spec.TaskTemplate.ContainerSpec?.Env, ['A=1']);
    assert.equal(s.PreviousSpec?.TaskTemplate.ContainerSpec?.Env, undefined);
    assert.equal(s.UpdateStatus, undefined);
    await cluster.updateService(ID, s.Version.Index, s.Spec, { rollback: true, registryAuthFrom: 'spec' });
    s = await cluster.inspectService(ID, false);
    assert.equal(s.Spec.TaskTemplate.ContainerSpec?.Env, undefined);
    assert.deepEqual(s.PreviousSpec?.TaskTemplate.ContainerSpec?.Env, ['A=1']);
    assert.equal(s.UpdateStatus?.State, 'rollback_started');
    assert.equal(s.UpdateStatus?.Message, 'manually requested rollback');
    await assert.rejects(cluster.createService({ Name: 'WEB', Labels: {}, TaskTemplate: { ContainerSpec: { Image: 'busybox' } } }), /name conflicts with an existing object: service WEB already exists/);
  });

  test('ServiceStatus counts running tasks on the list with status', async () => {
    const objects = new ObjectsStore(store);
    const web = await cluster.inspectService('web', false);
    const nodeId = cluster.nodeId!;
    const now = new Date().toISOString();
    for (const [i, state] of [[1, 'running'], [2, 'preparing']] as const) {
      await objects.create<Task>('tasks', {
        ID: `task${i}`.padEnd(25, '0'), CreatedAt: now, UpdatedAt: now, Labels: {}, Spec: web.Spec.TaskTemplate, ServiceID: web.ID, Slot: i, NodeID: nodeId,
        Status: { Timestamp: now, State: state, Message: '', PortStatus: {} }, DesiredState: 'running', Volumes: null,
      });
    }
    const [listed] = await cluster.listServices(new Filters([['name', ['web']]], SERVICE_FILTERS), true);
    assert.deepEqual(listed!.ServiceStatus, { RunningTasks: 1, DesiredTasks: 2, CompletedTasks: 0 });
    assert.equal((await cluster.listTasks(new Filters([['service', ['web']]], TASK_FILTERS))).length, 2);
  });

  test('_up-to-date: tasks made from the current spec, though the service was written since (UpdateStatus)', async () => {
    const objects = new ObjectsStore(store);
    const web = await cluster.inspectService('web', false);
    const now = new Date().toISOString();
    const { Runtime: _r, ...taskSpec } = web.Spec.TaskTemplate;
    void _r;
    // Task specs are the template without Runtime (taskSpecOf); task3 was made from an older spec.
    for (const [i, spec] of [[3, { ...taskSpec, ContainerSpec: { Image: 'old' } }], [4, taskSpec]] as const) {
      await objects.create<Task>('tasks', {
        ID: `task${i}`.padEnd(25, '0'), CreatedAt: now, UpdatedAt: now, Labels: {}, Spec: spec, ServiceID: web.ID, Slot: i,
        Status: { Timestamp: now, State: 'running', Message: '', PortStatus: {} }, DesiredState: 'running', Volumes: null, SpecVersion: web.Version.Index,
      });
    }
    await objects.update('services', { ...web, UpdateStatus: { State: 'completed', Message: 'update completed' } }, web.Version.Index);
    const upToDate = await cluster.listTasks(new Filters([['service', ['web']], ['_up-to-date', ['true']]], TASK_FILTERS));
    assert.deepEqual(upToDate.map((t) => t.ID).filter((id) => /^task[34]/.test(id)), ['task4'.padEnd(25, '0')]);
  });

  test('secrets in use cannot go; unknown networks are refused; overlay networks resolve to IDs', async () => {
    const { ID: secretId } = await cluster.createSecret({ Name: 'pw', Labels: {}, Data: Buffer.from('x').toString('base64') });
    await cluster.createService({ Name: 'sec', Labels: {}, TaskTemplate: { ContainerSpec: { Image: 'busybox', Secrets: [{ SecretID: secretId, SecretName: 'pw', File: { Name: 'pw', UID: '0', GID: '0', Mode: 0o444 } }] } } });
    await assert.rejects(cluster.removeSecret('pw'), /secret 'pw' is in use by the following service: sec/);
    assert.equal('Data' in (await cluster.inspectSecret('pw')).Spec, false);
    await assert.rejects(cluster.createService({ Name: 'n1', Labels: {}, TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: 'nope' }] } }), /network nope not found/);
    const net = await cluster.swarmNetworks().create({ Name: 'front', Driver: 'overlay' } as never);
    await cluster.createService({ Name: 'n2', Labels: {}, TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: 'front' }] } });
    assert.deepEqual((await cluster.inspectService('n2', false)).Spec.TaskTemplate.Networks, [{ Target: net.Id }]);
    assert.equal((await cluster.swarmNetworks().list())[0]?.Scope, 'swarm');
  });

  test('quorum loss: API errors and /info say so, with the recovery command', async () => {
    store.setUnavailable(true);
    await assert.rejects(cluster.listNodes(none), { message: /The swarm does not have a leader/ });
    assert.match((await cluster.info()).Error, /docker swarm init --force-new-cluster/);
    store.setUnavailable(false);
  });

  test('force-new-cluster: candidacies left by dead managers are dropped and this node leads at once', async () => {
    // A dead leader's leased key outlives it (etcd renews leases when it restarts), ahead of this node's next campaign.
    const stale = await store.grantLease(3600);
    const prefix = `${ELECTION_PREFIX}${LEADER_ELECTION}/`;
    await store.txn([{ op: 'create', key: `${prefix}dead`, value: 'deadmanager0000000000000', lease: stale.id }]);
    assert.equal(await cluster.init({ ListenAddr: '0.0.0.0:2377', ForceNewCluster: true }), cluster.nodeId);
    assert.equal(started.at(-1), `${cluster.nodeId} existing force`);
    assert.equal(await store.leader(LEADER_ELECTION), cluster.nodeId, 'the answer comes once this node leads');
    assert.deepEqual((await store.list(prefix)).items.map((kv) => kv.value), [cluster.nodeId]);
  });

  test('a restarted daemon finds its state and rejoins (retrying while the store is out of reach); leave needs --force on the last manager', async () => {
    const again = new Cluster(options(dir, store, started));
    // The other managers are not back yet: the node says so, and retries until they are.
    store.setUnavailable(true);
    await again.restore();
    for (let i = 0; i < 100 && again.pingHeader() !== 'error'; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(again.pingHeader(), 'error');
    assert.match((await again.info()).Error, /--force-new-cluster/);
    store.setUnavailable(false);
    for (let i = 0; i < 200 && again.pingHeader() !== 'active/manager'; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(again.pingHeader(), 'active/manager');
    assert.equal(started.at(-1), `${cluster.nodeId} existing`);
    await cluster.close();
    await assert.rejects(again.leave(false), /Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message. $/);
    await again.leave(true);
    assert.equal(again.pingHeader(), 'inactive');
    assert.equal(fs.existsSync(path.join(dir, 'swarm')), false);
  });
});

/** The store's objects, where the next list of services can be held (a slow API call under way). */
let holdServices: (() => void) | 'next' | undefined;
function releaseServices(): void {
  if (typeof holdServices === 'function') holdServices();
}
class HeldObjects extends ObjectsStore {
  override async list<T extends Stored>(kind: ObjectKind): Promise<{ items: T[]; revision: number }> {
    if (kind === 'services' && holdServices === 'next') await new Promise<void>((r) => { holdServices = r; });
    return super.list<T>(kind);
  }
}

describe('init, join and leave: checked first, one at a time, rolled back whole', () => {
  let dir: string;
  let store: FakeClusterStore;
  const started: string[] = [];
  const stopped: string[] = [];
  let failEtcd = false;
  let failConnect = false;
  let cluster: Cluster;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-member-serial-'));
    store = new FakeClusterStore();
    const o = options(dir, store, started);
    const connect = o.connect;
    cluster = new Cluster({
      ...o,
      etcd: {
        start: async (spec) => {
          // A member that would not start: its data directory is there already, as etcd's would be.
          fs.mkdirSync(spec.dataDir, { recursive: true });
          if (failEtcd) throw new Error(`etcd member ${spec.name} exited during start`);
          started.push(spec.name);
          return { stop: async () => { stopped.push(spec.name); } };
        },
      },
      connect: async (endpoints, tls) => {
        if (failConnect) throw new Error('connect ECONNREFUSED');
        const conn = await connect(endpoints, tls);
        return { ...conn, objects: new HeldObjects(store) };
      },
    });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const swarmDir = () => path.join(dir, 'swarm');

  test('bad addresses are refused (400) before anything is made', async () => {
    for (const [req, message] of [
      [{ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: 'KILL' }, /^advertise address must be a non-zero IP address or network interface/],
      [{ ListenAddr: '80/tcp' }, /^could not parse listen address 80\/tcp$/],
      [{ ListenAddr: '' }, /^invalid ListenAddr "": invalid empty address$/],
      [{ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: '10.9.8.7', DataPathAddr: 'x' }, /^data path address must be/],
      [{ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: '8.8.8.8' }, /^failed to listen on remote API address/],
      [{ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: '10.9.8.7', SubnetSize: 100, DefaultAddrPool: ['10.0.0.0/8'] }, /^subnet size is out of range: 100$/],
    ] as [InitRequest, RegExp][]) {
      await assert.rejects(cluster.init(req), (err: Error) => err instanceof InvalidParameterError && message.test(err.message));
    }
    await assert.rejects(cluster.join({ ListenAddr: '1', RemoteAddrs: ['10.0.0.1'], JoinToken: 'x' }), InvalidParameterError);
    assert.deepEqual(started, []);
    assert.equal(fs.existsSync(swarmDir()), false);
    assert.equal(cluster.pingHeader(), 'inactive');
  });

  test('a failed init leaves nothing (no certificates, state.json, member or data) and a later init works', async () => {
    failEtcd = true;
    await assert.rejects(cluster.init({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: '10.9.8.7' }), /exited during start/);
    failEtcd = false;
    assert.equal(fs.existsSync(swarmDir()), false);
    assert.equal(cluster.pingHeader(), 'inactive');
    failConnect = true;
    await assert.rejects(cluster.init({ ListenAddr: '0.0.0.0:2377', AdvertiseAddr: '10.9.8.7' }), /ECONNREFUSED/);
    failConnect = false;
    assert.equal(started.length, 1);
    assert.deepEqual(stopped, started, 'the member that started is stopped again');
    assert.equal(fs.existsSync(swarmDir()), false);
    assert.equal((await cluster.info()).LocalNodeState, 'inactive');
  });

  test('concurrent inits: one succeeds, the others wait and answer "already part of a swarm"; a racing leave waits too', async () => {
    const req = { ListenAddr: '0.0.0.0:2377', AdvertiseAddr: '10.9.8.7' };
    const results = await Promise.allSettled([cluster.init(req), cluster.init(req), cluster.leave(true), cluster.init(req)]);
    assert.equal(results[0]!.status, 'fulfilled');
    assert.equal(results[1]!.status, 'rejected');
    assert.equal((results[1] as PromiseRejectedResult).reason.message, TEXT.alreadyInSwarm);
    // The leave came after the first init finished and took the node out; the last init made a new swarm.
    assert.equal(results[2]!.status, 'fulfilled');
    assert.equal(results[3]!.status, 'fulfilled');
    assert.notEqual((results[3] as PromiseFulfilledResult<string>).value, (results[0] as PromiseFulfilledResult<string>).value);
    assert.equal(cluster.pingHeader(), 'active/manager');
    assert.ok(fs.existsSync(path.join(swarmDir(), 'certificates', 'swarm-root-ca.crt')));
    // A leave lets a call under way finish on the store, and refuses new calls meanwhile.
    holdServices = 'next';
    const listing = cluster.listServices(none, false);
    await new Promise((r) => setTimeout(r, 20));
    let left = false;
    const leaving = cluster.leave(true).then(() => { left = true; });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(left, false);
    await assert.rejects(cluster.listNodes(none), { message: TEXT.inactiveNotManager });
    releaseServices();
    assert.deepEqual(await listing, []);
    await leaving;
    assert.equal(fs.existsSync(swarmDir()), false);
    assert.deepEqual(stopped, started);
  });
});
