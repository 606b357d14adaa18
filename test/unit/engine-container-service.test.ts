// Unit tests of ContainerService (src/engine/containers.ts) against fakes of its ports: the state transitions of
// create, start, stop, kill, pause and remove, and the errors Docker gives for each wrong one.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContainerService } from '../../src/engine/containers';
import { RuntimeCreateError } from '../../src/runtime/oci-runtime';
import { EventBus } from '../../src/engine/events';
import type { HostResources } from '../../src/host/resources';
import { FakeMounter } from '../fakes/mount';
import { FakeContainerRuntime, FakeContainerVolumes, FakeImageLookup } from '../fakes/container-ports';

/** A host as the checks of resources and security options see it. */
const hostResources: HostResources = {
  cpus: 2, cpusetCpus: '0-1', cpusetMems: '0', swapLimit: true, blkioWeight: true, rlimits: {}, canRaiseRlimits: false,
  boundingCapabilities: [], kernel: '6.1.0',
};

/** `p` within `ms` (the timer also keeps the event loop up while the exit monitor's watcher, not persistent, waits). */
async function within<T>(p: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`not settled in ${ms} ms`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

async function withService(fn: (t: {
  svc: ContainerService; runtime: FakeContainerRuntime; mounter: FakeMounter; volumes: FakeContainerVolumes; actions: string[];
}) => Promise<void>): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-containers-'));
  fs.writeFileSync(path.join(root, 'resolv.conf'), 'nameserver 192.0.2.53\n');
  fs.writeFileSync(path.join(root, 'hosts'), '127.0.0.1 localhost\n');
  const images = new FakeImageLookup();
  images.add('busybox:latest', ['sh']);
  images.add('nocmd:latest', [], `sha256:${'cd'.repeat(32)}`);
  const runtime = new FakeContainerRuntime();
  const mounter = new FakeMounter();
  const volumes = new FakeContainerVolumes();
  const events = new EventBus();
  const actions: string[] = [];
  events.subscribe((ev) => { if (ev.Type === 'container') actions.push(ev.Action); });
  const svc = new ContainerService({
    root: path.join(root, 'data'), runRoot: path.join(root, 'run'), images, runtime, mounter, events, volumes,
    stdin: async () => undefined, defaultRuntime: 'crun', hostResources,
    hostResolvConf: path.join(root, 'resolv.conf'), hostHosts: path.join(root, 'hosts'), logSizeMax: 0,
    log: { info: () => undefined, error: () => undefined },
  });
  await svc.init();
  try {
    await fn({ svc, runtime, mounter, volumes, actions });
  } finally {
    svc.shutdown();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

test('create records a container in "created" with the image\'s command and a generated name', () => withService(async ({ svc, actions }) => {
  const { Id, Warnings } = await svc.create({ Image: 'busybox' }, 'web');
  assert.deepEqual(Warnings, []);
  const c = svc.get('web');
  assert.equal(c.id, Id);
  assert.equal(c.state.status, 'created');
  assert.equal(c.path, 'sh');
  assert.equal(c.config.Hostname, Id.slice(0, 12));
  assert.equal(svc.get(Id.slice(0, 8)), c, 'found by ID prefix');
  const { Id: other } = await svc.create({ Image: 'busybox' });
  assert.match(svc.get(other).name, /^[a-z]+_[a-z]+$/);
  assert.deepEqual(actions, ['create', 'create']);
}));

test('create refuses a taken name, an unknown image, a missing command and --rm with a restart policy', () => withService(async ({ svc }) => {
  const { Id } = await svc.create({ Image: 'busybox' }, 'web');
  await assert.rejects(svc.create({ Image: 'busybox' }, 'web'), {
    name: 'ConflictError', message: `Conflict. The container name "/web" is already in use by container "${Id}". You have to remove (or rename) that container to be able to reuse that name.`,
  });
  await assert.rejects(svc.create({ Image: 'nosuch' }), { name: 'NotFoundError', message: 'No such image: nosuch' });
  await assert.rejects(svc.create({ Image: 'nocmd' }), { name: 'InvalidParameterError', message: 'No command specified' });
  await assert.rejects(svc.create({ Image: 'busybox', HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } }), {
    name: 'InvalidParameterError', message: 'can\'t create \'AutoRemove\' container with restart policy',
  });
  await assert.rejects(svc.create({ Image: 'busybox', HostConfig: { Runtime: 'nosuch' } }), { name: 'InvalidParameterError' });
  assert.equal(svc.all().length, 1);
}));

test('start mounts the root, writes the /etc files and runs it, then unmounts the host\'s copy; a second start answers false', () => withService(async ({ svc, runtime, mounter, actions }) => {
  const { Id } = await svc.create({ Image: 'busybox' }, 'web');
  assert.equal(await svc.start('web'), true);
  const c = svc.get(Id);
  assert.equal(c.state.status, 'running');
  assert.equal(c.state.pid, process.pid);
  assert.deepEqual(mounter.calls.filter((l) => l.startsWith('mount')).length, 1, 'mounted once, for the runtime\'s create');
  // The unmount comes a moment after the start's answer: the container keeps its own copy of the mount.
  for (let i = 0; i < 100 && await mounter.isMountPoint(svc.mergedDir(c)); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await mounter.isMountPoint(svc.mergedDir(c)), false);
  assert.deepEqual(mounter.calls.map((l) => l.split(' ')[0]), ['mount', 'umount']);
  assert.deepEqual(runtime.calls, [`delete ${Id}`, `create ${Id}`, `start ${Id}`]);
  assert.equal(fs.readFileSync(svc.etcPath(c, 'hostname'), 'utf8'), `${Id.slice(0, 12)}\n`);
  assert.equal(fs.readFileSync(svc.etcPath(c, 'resolv.conf'), 'utf8'), 'nameserver 192.0.2.53\n');
  assert.equal(await svc.start('web'), false, 'already running: 304');
  assert.deepEqual(actions, ['create', 'start']);
}));

test("a missing command is the request's fault: 400 (InvalidParameterError), as moby's isInvalidCommand", () => withService(async ({ svc, runtime }) => {
  await svc.create({ Image: 'busybox' }, 'web');
  runtime.failCreate = new RuntimeCreateError('crun', 'exec: "1": executable file not found in $PATH');
  await assert.rejects(svc.start('web'), { name: 'InvalidParameterError', message: /^failed to create task for container: .*exec: "1": executable file not found in \$PATH: unknown$/ });
}));

test('a start the runtime refuses leaves the container in "created" with exit code 127', () => withService(async ({ svc, runtime, mounter }) => {
  await svc.create({ Image: 'busybox' }, 'web');
  runtime.failCreate = new Error('exec: "sh": executable file not found in $PATH');
  await assert.rejects(svc.start('web'), { name: 'SystemError', message: 'failed to create task for container: exec: "sh": executable file not found in $PATH' });
  const c = svc.get('web');
  assert.equal(c.state.status, 'created');
  assert.equal(c.state.exitCode, 127);
  assert.equal(await mounter.isMountPoint(svc.mergedDir(c)), false, 'the root is unmounted again');
  assert.equal(await svc.start('web'), true, 'and a later start works');
}));

test('stop signals, records the exit and answers false when not running; wait sees the exit code', () => withService(async ({ svc, actions }) => {
  await svc.create({ Image: 'busybox' }, 'web');
  assert.equal(await svc.stop('web'), false, 'created: not running');
  await svc.start('web');
  const waited = svc.wait('web', 'next-exit');
  assert.equal(await svc.stop('web', { timeout: 5 }), true);
  const c = svc.get('web');
  assert.equal(c.state.status, 'exited');
  assert.equal(c.state.exitCode, 143);
  assert.equal(c.state.stoppedByUser, true);
  assert.deepEqual(await within(waited), { StatusCode: 143, Error: null });
  assert.deepEqual(await svc.wait('web'), { StatusCode: 143, Error: null }, 'not running: answered at once');
  assert.deepEqual(actions, ['create', 'start', 'kill', 'die', 'stop']);
}));

test('stop sends SIGKILL after the timeout when the stop signal is ignored', () => withService(async ({ svc, runtime }) => {
  const { Id } = await svc.create({ Image: 'busybox', StopSignal: 'SIGUSR1' }, 'web');
  await svc.start('web');
  runtime.ignored.add('10');
  await svc.stop('web', { timeout: 0 });
  assert.equal(svc.get('web').state.exitCode, 137);
  assert.deepEqual(runtime.calls.filter((x) => x.startsWith('kill')), [`kill ${Id} 10`, `kill ${Id} 9`]);
}));

test('kill, pause and unpause check the state first', () => withService(async ({ svc }) => {
  const { Id } = await svc.create({ Image: 'busybox' }, 'web');
  await assert.rejects(svc.kill('web'), { name: 'StateError', message: `Cannot kill container: web: container ${Id} is not running` });
  await assert.rejects(svc.pause('web'), { name: 'StateError', message: `Container ${Id} is not running` });
  await svc.start('web');
  await assert.rejects(svc.unpause('web'), { name: 'StateError', message: `Container ${Id} is not paused` });
  await svc.pause('web');
  assert.equal(svc.get('web').state.status, 'paused');
  await svc.unpause('web');
  assert.equal(svc.get('web').state.status, 'running');
  await assert.rejects(svc.kill('web', 'SIGNOPE'), { name: 'InvalidParameterError' });
  await svc.kill('web');
  assert.equal(svc.get('web').state.status, 'exited');
  assert.equal(svc.get('web').state.exitCode, 137);
}));

test('remove refuses a running container without force; with force it is killed, cleaned up and gone', () => withService(async ({ svc, runtime, volumes, actions }) => {
  const { Id } = await svc.create({ Image: 'busybox' }, 'web');
  await svc.start('web');
  await assert.rejects(svc.remove('web'), {
    name: 'StateError', message: 'cannot remove container "/web": container is running: stop the container before removing or force remove',
  });
  const removed = svc.wait('web', 'removed');
  await svc.remove('web', { force: true, volumes: true });
  await within(removed);
  assert.throws(() => svc.get('web'), { name: 'NotFoundError', message: 'No such container: web' });
  assert.equal(svc.find(Id), undefined);
  assert.ok(runtime.calls.includes(`kill ${Id} 9`));
  assert.equal(runtime.calls.at(-1), `delete ${Id}`);
  assert.deepEqual(volumes.released, [{ containerId: Id, removeAnonymous: true }]);
  assert.deepEqual(actions.slice(-3), ['kill', 'die', 'destroy']);
  await assert.rejects(svc.remove('web'), { name: 'NotFoundError' });
}));

test('a forced removal that comes while a start is under way kills what the start ran, then removes it', () => withService(async ({ svc, runtime }) => {
  // `docker build` cancelled while its RUN step's container starts; `docker rm -f` racing `docker start`.
  const { Id } = await svc.create({ Image: 'busybox' }, 'starting');
  let release = () => {};
  runtime.createGate = new Promise<void>((r) => { release = r; });
  const started = svc.start(Id);
  while (!runtime.calls.includes(`create ${Id}`)) await new Promise((r) => setTimeout(r, 1));
  assert.equal(svc.get(Id).state.status, 'created', 'the start is under way, nothing runs yet');
  const removed = svc.remove(Id, { force: true });
  release();
  runtime.createGate = undefined;
  await within(started);
  await within(removed);
  assert.throws(() => svc.get(Id), { name: 'NotFoundError' });
  assert.ok(runtime.calls.indexOf(`kill ${Id} 9`) > runtime.calls.indexOf(`start ${Id}`), runtime.calls.join(', '));
}));

test('a --rm container is reported removed before its host leftovers go; they go after, its record on disk kept until then', () => withService(async ({ svc, runtime, mounter }) => {
  const { Id } = await svc.create({ Image: 'busybox', HostConfig: { AutoRemove: true } }, 'quick');
  await svc.start(Id);
  const c = svc.get(Id);
  const merged = svc.mergedDir(c);
  const record = path.join(svc.dirOf(c), 'container.json');
  let release = () => {};
  runtime.deleteGate = new Promise<void>((r) => { release = r; });
  const removed = svc.wait(Id, 'removed');
  runtime.exit(Id, 0);
  await within(removed);
  assert.equal(svc.find(Id), undefined, 'gone for clients');
  assert.ok(runtime.calls.includes(`delete ${Id}`), 'the runtime delete is under way');
  assert.equal(JSON.parse(fs.readFileSync(record, 'utf8')).state.status, 'removing', 'a crash now is finished at the next start-up');
  // The name is free at once; the new container is another ID, so it cannot meet the leftovers.
  const { Id: again } = await svc.create({ Image: 'busybox' }, 'quick');
  assert.notEqual(again, Id);
  release();
  const gone = async () => { while (fs.existsSync(svc.dirOf(c))) await new Promise((r) => setTimeout(r, 5)); };
  await within(gone());
  assert.equal(await mounter.isMountPoint(merged), false, 'the root is unmounted');
}));

test('operations queued behind a removal answer "No such container", never a write into the removed directory', () => withService(async ({ svc }) => {
  const { Id } = await svc.create({ Image: 'busybox' }, 'doomed');
  const c = svc.get(Id);
  // The fuzzer's race: a removal holds the container, an update (health, pause...) waits for it, then saves.
  const removal = svc.remove(Id);
  const save = svc.saveRecord(c);
  await removal;
  await assert.rejects(save, { name: 'NotFoundError', message: `No such container: ${Id}` });
  await assert.rejects(svc.commit(Id, {}), { name: 'NotFoundError' });
  // A file operation that a removal overtakes answers that the container is gone, not the file error it caused.
  const { Id: other } = await svc.create({ Image: 'busybox' }, 'overtaken');
  const oc = svc.get(other);
  const overtaken = svc.unlessRemoved(oc, 'copy from', async () => {
    await svc.remove(other);
    throw Object.assign(new Error('mount point does not exist'), { code: 'ENOENT' });
  });
  await assert.rejects(overtaken, { name: 'NotFoundError', message: `No such container: ${other}` });
}));

test('a --rm container is removed when it exits; rename moves the name and refuses a taken one', () => withService(async ({ svc, runtime }) => {
  const { Id } = await svc.create({ Image: 'busybox', HostConfig: { AutoRemove: true } }, 'once');
  await svc.start(Id);
  const removed = svc.wait(Id, 'removed');
  runtime.exit(Id, 0);
  await within(removed);
  assert.equal(svc.find(Id), undefined);
  // A client that waits only after its start answered (dockerode's run) still gets the exit, by ID or name.
  assert.deepEqual(await within(svc.wait(Id)), { StatusCode: 0, Error: null });
  assert.deepEqual(await within(svc.wait('once', 'removed')), { StatusCode: 0, Error: null });
  await assert.rejects(svc.wait(Id, 'next-exit'), { name: 'NotFoundError' });
  await assert.rejects(svc.wait('never-was'), { name: 'NotFoundError' });

  await svc.create({ Image: 'busybox' }, 'one');
  const { Id: two } = await svc.create({ Image: 'busybox' }, 'two');
  await assert.rejects(svc.rename('one', 'two'), { name: 'ConflictError' });
  await assert.rejects(svc.rename('one', 'one'), { name: 'ConflictError', message: 'Renaming a container with the same name as its current name' });
  await svc.rename('two', 'three');
  assert.equal(svc.get('three').id, two);
  assert.equal(svc.find('two'), undefined);
}));

test('containers come back from the store with their state after a restart of the service', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-containers-'));
  try {
    const images = new FakeImageLookup();
    images.add('busybox:latest', ['sh']);
    const make = () => new ContainerService({
      root: path.join(root, 'data'), runRoot: path.join(root, 'run'), images, runtime: new FakeContainerRuntime(), mounter: new FakeMounter(),
      events: new EventBus(), volumes: new FakeContainerVolumes(), stdin: async () => undefined, defaultRuntime: 'crun', hostResources,
      hostResolvConf: '/dev/null', hostHosts: '/dev/null', logSizeMax: 0, log: { info: () => undefined, error: () => undefined },
    });
    const first = make();
    await first.init();
    const { Id } = await first.create({ Image: 'busybox' }, 'kept');
    first.shutdown();
    const second = make();
    await second.init();
    assert.equal(second.get('kept').id, Id);
    assert.equal(second.get('kept').state.status, 'created');
    second.shutdown();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
