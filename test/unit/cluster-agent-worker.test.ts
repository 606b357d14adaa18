// The node agent's worker on the fake store and fake runtime: the task state machine, status writes, secrets files,
// shutdown/remove, image fetch from a peer, and adoption of task containers after a berthd restart.
import test from 'node:test';
import assert from 'node:assert/strict';
import { FakeClusterStore } from '../fakes/cluster-store';
import { FakeTaskRuntime } from '../fakes/task-runtime';
import { ObjectsStore } from '../../src/cluster/store/objects-store';
import { Worker } from '../../src/cluster/agent/worker';
import type { Secret, Service, Task, TaskSpec, TaskState } from '../../src/wire/swarm';
import { until } from '../helpers/wait';

const NODE = 'node000000000000000000001';
const quiet = { info: () => undefined, error: () => undefined };

async function setup(o: { fetchFromPeer?: (image: string) => Promise<void> } = {}) {
  const store = new FakeClusterStore();
  const objects = new ObjectsStore(store);
  const runtime = new FakeTaskRuntime();
  runtime.images.add('busybox:latest');
  await objects.create<Service>('services', {
    ID: 'svc1', CreatedAt: '', UpdatedAt: '', Endpoint: { Spec: {} },
    Spec: { Name: 'web', Labels: {}, TaskTemplate: { ContainerSpec: { Image: 'busybox' } }, EndpointSpec: { Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 0, PublishMode: 'host' }] } },
  }, 'web');
  const states: TaskState[] = [];
  const worker = (rt = runtime) => new Worker({ nodeId: NODE, objects, runtime: rt, node: { hostname: 'node1', os: 'linux', architecture: 'x86_64' }, log: quiet, resyncMs: 0, ...o });
  return { store, objects, runtime, states, worker };
}

let ids = 0;
function newTask(spec: TaskSpec = { ContainerSpec: { Image: 'busybox' } }, over: Partial<Task> = {}): Omit<Task, 'Version'> & { ID: string } {
  ids++;
  return {
    ID: `task${String(ids).padStart(21, '0')}`, CreatedAt: '', UpdatedAt: '', Labels: {}, Spec: spec, ServiceID: 'svc1', Slot: 1, NodeID: NODE,
    DesiredState: 'running', Status: { Timestamp: '', State: 'assigned', Message: 'scheduler assigned task to node', PortStatus: {} }, Volumes: null, ...over,
  };
}

/** Records every status the task passes through (from the store's watch). */
async function track(objects: ObjectsStore, taskId: string): Promise<{ seen: string[]; cancel(): Promise<void> }> {
  const seen: string[] = [];
  const w = await objects.watch(['tasks'], 0, (changes) => {
    for (const c of changes) {
      const t = c.object as Task | undefined;
      if (c.id === taskId && t && seen[seen.length - 1] !== t.Status.State) seen.push(t.Status.State);
    }
  });
  return { seen, cancel: () => w.cancel() };
}

async function stateOf(objects: ObjectsStore, id: string): Promise<Task> {
  return (await objects.get<Task>('tasks', id))!;
}

test('a task goes assigned → accepted → preparing → ready → starting → running, then complete on exit 0', async () => {
  const { objects, runtime, worker } = await setup();
  const t = newTask();
  const tracked = await track(objects, t.ID);
  const w = worker();
  await w.start();
  await objects.create<Task>('tasks', t);
  const running = await until(async () => { const s = await stateOf(objects, t.ID); return s.Status.State === 'running' && s; }, 'running');
  const c = runtime.byName(`web.1.${t.ID}`)[0]!;
  assert.equal(running.Status.Message, 'started');
  assert.deepEqual(running.Status.ContainerStatus, { ContainerID: c.id, PID: c.pid, ExitCode: 0 });
  assert.deepEqual(running.Status.PortStatus, { Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 30000, PublishMode: 'host' }] });
  assert.equal(c.labels['com.docker.swarm.node.id'], NODE);
  runtime.exit(c.id, 0);
  const done = await until(async () => { const s = await stateOf(objects, t.ID); return s.Status.State === 'complete' && s; }, 'complete');
  assert.equal(done.Status.Message, 'finished');
  assert.equal(done.Status.Err, undefined);
  await w.stop();
  await tracked.cancel();
  assert.deepEqual(tracked.seen, ['assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete']);
});

test('a non-zero exit fails the task with "task: non-zero exit (N)" and keeps the message', async () => {
  const { objects, runtime, worker } = await setup();
  const w = worker();
  await w.start();
  const t = newTask();
  await objects.create<Task>('tasks', t);
  await until(async () => (await stateOf(objects, t.ID)).Status.State === 'running', 'running');
  runtime.exit(runtime.byName('web.1.')[0]!.id, 3);
  const failed = await until(async () => { const s = await stateOf(objects, t.ID); return s.Status.State === 'failed' && s; }, 'failed');
  assert.equal(failed.Status.Err, 'task: non-zero exit (3)');
  assert.equal(failed.Status.Message, 'started');
  assert.equal(failed.Status.ContainerStatus?.ExitCode, 3);
  await w.stop();
});

test('desired ready stops at ready (created, not started); desired running later starts it', async () => {
  const { objects, runtime, worker } = await setup();
  const w = worker();
  await w.start();
  const t = newTask(undefined, { DesiredState: 'ready' });
  await objects.create<Task>('tasks', t);
  await until(async () => (await stateOf(objects, t.ID)).Status.State === 'ready', 'ready');
  await w.idle();
  assert.equal(runtime.byName('web.1.')[0]!.status, 'created');
  await objects.modify<Task>('tasks', t.ID, (cur) => ({ ...cur, DesiredState: 'running' }));
  await until(async () => (await stateOf(objects, t.ID)).Status.State === 'running', 'running');
  await w.stop();
});

test('an image no registry has: rejected with the pull error; fetched from a peer when one has it', async () => {
  const fetched: string[] = [];
  const { objects, runtime, worker } = await setup({
    fetchFromPeer: async (image) => { fetched.push(image); if (image === 'local/only:1') runtime.images.add(image); },
  });
  const w = worker();
  await w.start();
  const missing = newTask({ ContainerSpec: { Image: 'nowhere/app' } });
  await objects.create<Task>('tasks', missing);
  const rejected = await until(async () => { const s = await stateOf(objects, missing.ID); return s.Status.State === 'rejected' && s; }, 'rejected');
  assert.match(rejected.Status.Err ?? '', /pull access denied for nowhere\/app/);
  assert.equal(rejected.Status.Message, 'preparing');
  const peer = newTask({ ContainerSpec: { Image: 'local/only:1' } });
  await objects.create<Task>('tasks', peer);
  await until(async () => (await stateOf(objects, peer.ID)).Status.State === 'running', 'running from a peer image');
  assert.deepEqual(fetched, ['nowhere/app:latest', 'local/only:1']);
  await w.stop();
});

test('a healthcheck holds the task at starting until healthy; unhealthy fails it', async () => {
  const { objects, runtime, worker } = await setup();
  const w = worker();
  await w.start();
  const spec = { ContainerSpec: { Image: 'busybox', Healthcheck: { Test: ['CMD', 'true'] } } };
  const a = newTask(spec);
  await objects.create<Task>('tasks', a);
  await until(async () => (await stateOf(objects, a.ID)).Status.State === 'starting', 'starting');
  await w.idle();
  assert.equal((await stateOf(objects, a.ID)).Status.State, 'starting');
  runtime.setHealth(runtime.byName(`web.1.${a.ID}`)[0]!.id, 'healthy');
  await until(async () => (await stateOf(objects, a.ID)).Status.State === 'running', 'running once healthy');
  runtime.setHealth(runtime.byName(`web.1.${a.ID}`)[0]!.id, 'unhealthy');
  const failed = await until(async () => { const s = await stateOf(objects, a.ID); return s.Status.State === 'failed' && s; }, 'failed');
  assert.equal(failed.Status.Err, 'dockerexec: unhealthy container');
  await w.stop();
});

test('desired shutdown stops the container with StopGracePeriod (kept for logs); remove and deletion remove it', async () => {
  const { objects, runtime, worker } = await setup();
  const w = worker();
  await w.start();
  const t = newTask({ ContainerSpec: { Image: 'busybox', StopGracePeriod: 3_000_000_000 } });
  await objects.create<Task>('tasks', t);
  await until(async () => (await stateOf(objects, t.ID)).Status.State === 'running', 'running');
  const id = runtime.byName('web.1.')[0]!.id;
  await objects.modify<Task>('tasks', t.ID, (cur) => ({ ...cur, DesiredState: 'shutdown' }));
  const down = await until(async () => { const s = await stateOf(objects, t.ID); return s.Status.State === 'shutdown' && s; }, 'shutdown');
  assert.equal(down.Status.Message, 'shutdown');
  assert.ok(runtime.calls.includes(`stop ${id} 3`));
  assert.equal(runtime.containers.get(id)?.status, 'exited');
  await objects.modify<Task>('tasks', t.ID, (cur) => ({ ...cur, DesiredState: 'remove' }));
  await until(() => !runtime.containers.has(id), 'container removed on desired remove');

  const u = newTask();
  await objects.create<Task>('tasks', u);
  await until(async () => (await stateOf(objects, u.ID)).Status.State === 'running', 'running');
  const uid = runtime.byName(`web.1.${u.ID}`)[0]!.id;
  await objects.remove('tasks', u.ID);
  await until(() => !runtime.containers.has(uid), 'container removed when the task is deleted');
  await w.stop();
});

test('a task not yet started and desired shutdown never starts; tasks of other nodes are left alone', async () => {
  const { objects, runtime, worker } = await setup();
  const w = worker();
  await w.start();
  const t = newTask(undefined, { DesiredState: 'shutdown' });
  const other = newTask(undefined, { NodeID: 'othernode' });
  await objects.create<Task>('tasks', other);
  await objects.create<Task>('tasks', t);
  await until(async () => (await stateOf(objects, t.ID)).Status.State === 'shutdown', 'shutdown');
  await w.idle();
  assert.equal(runtime.containers.size, 0);
  assert.equal((await stateOf(objects, other.ID)).Status.State, 'assigned');
  await w.stop();
});

test('status writes only move forward: a task the manager moved on (orphaned) is not written back', async () => {
  const { objects, runtime, worker } = await setup();
  const w = worker();
  await w.start();
  const t = newTask();
  await objects.create<Task>('tasks', t);
  await until(async () => (await stateOf(objects, t.ID)).Status.State === 'running', 'running');
  await objects.modify<Task>('tasks', t.ID, (cur) => ({ ...cur, Status: { ...cur.Status, State: 'orphaned', Message: 'orphaned' } }));
  await w.idle();
  runtime.exit(runtime.byName('web.1.')[0]!.id, 1);
  await w.idle();
  assert.equal((await stateOf(objects, t.ID)).Status.State, 'orphaned');
  await w.stop();
});

test('secrets and configs: files with uid/gid/mode from the stored data, bound read-only at their targets', async () => {
  const { objects, runtime, worker } = await setup();
  await objects.create<Secret>('secrets', { ID: 'sec1', CreatedAt: '', UpdatedAt: '', Spec: { Name: 'pw', Labels: {}, Data: Buffer.from('s3cr3t').toString('base64') } }, 'pw');
  await objects.create<Secret>('configs', { ID: 'cfg1', CreatedAt: '', UpdatedAt: '', Spec: { Name: 'conf', Labels: {}, Data: Buffer.from('k=v').toString('base64') } }, 'conf');
  const w = worker();
  await w.start();
  const t = newTask({ ContainerSpec: {
    Image: 'busybox',
    Secrets: [{ SecretID: 'sec1', SecretName: 'pw', File: { Name: 'pw', UID: '1000', GID: '100', Mode: 0o400 } }],
    Configs: [{ ConfigID: 'cfg1', ConfigName: 'conf', File: { Name: 'conf', UID: '0', GID: '0', Mode: 0o444 } }],
  } });
  await objects.create<Task>('tasks', t);
  await until(async () => (await stateOf(objects, t.ID)).Status.State === 'running', 'running');
  const files = runtime.files.get(t.ID)!;
  const secret = files.get('secrets/0-sec1')!;
  assert.deepEqual([secret.data.toString(), secret.uid, secret.gid, secret.mode], ['s3cr3t', 1000, 100, 0o400]);
  assert.equal(files.get('configs/0-cfg1')!.data.toString(), 'k=v');
  const mounts = runtime.byName('web.1.')[0]!.body.HostConfig!.Mounts;
  assert.deepEqual(mounts, [
    { Type: 'bind', Source: secret.path, Target: '/run/secrets/pw', ReadOnly: true },
    { Type: 'bind', Source: files.get('configs/0-cfg1')!.path, Target: '/conf', ReadOnly: true },
  ]);
  await objects.modify<Task>('tasks', t.ID, (cur) => ({ ...cur, DesiredState: 'remove' }));
  await until(() => !runtime.files.has(t.ID), 'files removed with the container');
  await w.stop();
});

test('a task joins its swarm networks by ID with its own aliases (not the service name); without attachments, the spec\'s targets', async () => {
  const { objects, runtime, worker } = await setup();
  await objects.create('networks', { ID: 'net1', Spec: { Name: 'st_default' } } as never, 'st_default');
  const w = worker();
  await w.start();
  const t = newTask({ ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: 'net1', Aliases: ['a'] }] });
  await objects.create<Task>('tasks', t);
  await until(async () => (await stateOf(objects, t.ID)).Status.State === 'running', 'running');
  const body = runtime.byName('web.1.')[0]!.body;
  assert.equal(body.HostConfig!.NetworkMode, 'net1');
  assert.deepEqual(body.NetworkingConfig, { EndpointsConfig: { net1: { Aliases: ['a'] } } });
  await w.stop();
});

test('a task\'s NetworksAttachments give its networks (ingress included) and the manager\'s address on each', async () => {
  const { objects, runtime, worker } = await setup();
  const w = worker();
  await w.start();
  const t = newTask({ ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: 'net1', Aliases: ['a'] }] });
  t.NetworksAttachments = [
    { Network: { ID: 'ingressid', Spec: { Name: 'ingress' } }, Addresses: ['10.0.0.7/24'] },
    { Network: { ID: 'net1', Spec: { Name: 'st_default' } }, Addresses: ['10.0.1.5/24'] },
  ];
  await objects.create<Task>('tasks', t);
  await until(async () => (await stateOf(objects, t.ID)).Status.State === 'running', 'running');
  const body = runtime.byName('web.1.')[0]!.body;
  assert.equal(body.HostConfig!.NetworkMode, 'ingressid');
  assert.deepEqual(body.NetworkingConfig, { EndpointsConfig: {
    ingressid: { Aliases: [], IPAMConfig: { IPv4Address: '10.0.0.7' } }, net1: { Aliases: ['a'], IPAMConfig: { IPv4Address: '10.0.1.5' } },
  } });
  await w.stop();
});

test('after a berthd restart a new worker adopts running task containers, sees exits missed while down, removes orphans', async () => {
  const { objects, runtime, worker } = await setup();
  const first = worker();
  await first.start();
  const a = newTask();
  const b = newTask(undefined, { Slot: 2 });
  const gone = newTask(undefined, { Slot: 3 });
  for (const t of [a, b, gone]) await objects.create<Task>('tasks', t);
  await until(async () => {
    const all = await Promise.all([a, b, gone].map((t) => stateOf(objects, t.ID)));
    return all.every((t) => t.Status.State === 'running');
  }, 'three running');
  await first.stop();
  // While berthd is down: b's container exits, gone's task is deleted.
  const ca = runtime.byName(`web.1.${a.ID}`)[0]!;
  const cb = runtime.byName(`web.2.${b.ID}`)[0]!;
  const cg = runtime.byName(`web.3.${gone.ID}`)[0]!;
  runtime.exit(cb.id, 0);
  await objects.remove('tasks', gone.ID);
  const creates = runtime.calls.filter((c) => c.startsWith('create')).length;
  const second = worker();
  await second.start();
  await until(async () => (await stateOf(objects, b.ID)).Status.State === 'complete', 'b complete');
  await until(() => !runtime.containers.has(cg.id), 'orphan removed');
  await second.idle();
  assert.equal(runtime.containers.get(ca.id)?.status, 'running');
  assert.equal((await stateOf(objects, a.ID)).Status.State, 'running');
  assert.equal(runtime.calls.filter((c) => c.startsWith('create')).length, creates, 'nothing created again');
  runtime.exit(ca.id, 1);
  await until(async () => (await stateOf(objects, a.ID)).Status.State === 'failed', 'adopted container exit seen');
  await second.stop();
});

test('a task in preparing whose container was created before a restart is not created twice', async () => {
  const { objects, runtime, worker } = await setup();
  const t = newTask(undefined, { DesiredState: 'ready' });
  const first = worker();
  await first.start();
  await objects.create<Task>('tasks', t);
  await until(async () => (await stateOf(objects, t.ID)).Status.State === 'ready', 'ready');
  await first.stop();
  // The status write after create was lost: the store says preparing.
  await objects.modify<Task>('tasks', t.ID, (cur) => ({ ...cur, Status: { ...cur.Status, State: 'preparing' }, DesiredState: 'running' }));
  const second = worker();
  await second.start();
  await until(async () => (await stateOf(objects, t.ID)).Status.State === 'running', 'running');
  assert.equal(runtime.calls.filter((c) => c.startsWith('create')).length, 1);
  await second.stop();
});
