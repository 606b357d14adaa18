// Unit tests of src/engine/rootfs-users.ts and rootfs-premount.ts: a stopped container's root mounted on the host for
// `docker cp` and export, counted, unmounted by the last user, mounts and unmounts taking turns; a running one's read
// through its own view (never mounted on the host), its readers aborted when it stops and waited for before the next
// mount; the host's mount dropped after create unless an operation holds it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { RootfsUsers, type LiveRoot } from '../../src/engine/rootfs-users';
import { RootfsPremounts } from '../../src/engine/rootfs-premount';
import type { ContainerRecord, ContainerStatus } from '../../src/engine/container-record';
import { FakeMounter } from '../fakes/mount';

/** A FakeMounter whose unmounts wait until the test lets them finish. */
class SlowUnmounter extends FakeMounter {
  private gates: (() => void)[] = [];
  override async umount(target: string): Promise<void> {
    await new Promise<void>((resolve) => this.gates.push(resolve));
    return super.umount(target);
  }
  pendingUnmounts(): number { return this.gates.length; }
  finishUnmounts(): void { for (const g of this.gates.splice(0)) g(); }
}

/** The mounter with a tick before each overlay mount: a mount begun at create is still under way when a user comes. */
function slowMounting(m: FakeMounter): FakeMounter {
  const mountOverlay = m.mountOverlay.bind(m);
  m.mountOverlay = async (...args: Parameters<FakeMounter['mountOverlay']>) => { await tick(); return mountOverlay(...args); };
  return m;
}

function setup(status: ContainerStatus = 'exited') {
  const mounter = new SlowUnmounter();
  const c = { id: 'c1', lowerDirs: ['/l'], state: { status, pid: status === 'running' ? 42 : 0 } } as unknown as ContainerRecord;
  const opened: { closed: boolean }[] = [];
  let users: RootfsUsers | undefined;
  const premounts = new RootfsPremounts({
    mounter: slowMounting(mounter), runtime: { delete: async () => undefined }, log: { error: () => undefined },
    mergedDir: () => '/m', upperDir: () => '/u', workDir: () => '/w', liveViewsGone: (r) => users!.liveViewsGone(r),
  });
  users = new RootfsUsers(premounts, {
    mergedDir: () => '/m', running: (r) => r.state.status === 'running' && r.state.pid > 0,
    openLive: async (r): Promise<LiveRoot | undefined> => {
      if (r.state.pid !== 42) return undefined;
      const h = { closed: false };
      opened.push(h);
      return { path: '/proc/1/fd/9', dev: 77, close: async () => { h.closed = true; } };
    },
  });
  return { mounter, c, users, premounts, opened };
}

const tick = () => new Promise((r) => setImmediate(r));
const kinds = (m: FakeMounter) => m.calls.map((l) => l.split(' ')[0]);

test('the last user out unmounts; users in between share one mount', async () => {
  const { mounter, c, users } = setup();
  const a = await users.acquire(c);
  const b = await users.acquire(c);
  assert.equal(a.root, '/m');
  assert.equal(a.liveDev, undefined);
  assert.equal(await mounter.isMountPoint('/m'), true);
  await a.release();
  await a.release(); // a release called twice counts once
  assert.equal(await mounter.isMountPoint('/m'), true);
  const last = b.release();
  await tick();
  mounter.finishUnmounts();
  await last;
  assert.equal(await mounter.isMountPoint('/m'), false);
  assert.deepEqual(kinds(mounter), ['mount', 'umount']);
});

test('an operation that starts during the last unmount waits for it and mounts again', async () => {
  const { mounter, c, users } = setup();
  const first = await users.acquire(c);
  const unmounting = first.release();
  await tick();
  assert.equal(mounter.pendingUnmounts(), 1);
  // Still mounted for now: without turns, this user would take the root for mounted by someone else.
  const second = users.acquire(c);
  await tick();
  mounter.finishUnmounts();
  await unmounting;
  const view = await second;
  assert.equal(await mounter.isMountPoint('/m'), true, 'the second user has the root mounted');
  const done = view.release();
  await tick();
  mounter.finishUnmounts();
  await done;
  assert.deepEqual(kinds(mounter), ['mount', 'umount', 'mount', 'umount']);
});

test('a running container\'s root is its own view: nothing mounted or unmounted on the host, the view closed on release', async () => {
  const { mounter, c, users, opened } = setup('running');
  const view = await users.acquire(c);
  assert.equal(view.root, '/proc/1/fd/9');
  assert.equal(view.liveDev, 77);
  await view.release();
  assert.deepEqual(mounter.calls, []);
  assert.equal(opened[0]!.closed, true);
});

test('a running container whose process is gone: a clear error, nothing mounted', async () => {
  const { mounter, c, users } = setup('running');
  c.state.pid = 43;
  await assert.rejects(users.acquire(c), /is not running/);
  assert.deepEqual(mounter.calls, []);
});

test('a stop aborts the live readers, and the next mount waits until they let go', async () => {
  const { mounter, c, users, premounts } = setup('running');
  const view = await users.acquire(c);
  let reason: unknown;
  view.signal.addEventListener('abort', () => { reason = view.signal.reason; });
  users.stopped(c);
  assert.match(String(reason), /stopped during the operation/);
  c.state = { ...c.state, status: 'exited', pid: 0 };
  const starting = premounts.mount(c);
  await tick(); await tick();
  assert.deepEqual(mounter.calls, [], 'no second overlay while the last run\'s root is still held');
  await view.release();
  await starting;
  assert.deepEqual(kinds(mounter), ['mount']);
});

test('a live root opened across a stop is let go at once with an error', async () => {
  const { c, users, opened } = setup('running');
  const acquiring = users.acquire(c);
  users.stopped(c);
  await assert.rejects(acquiring, /stopped during the operation/);
  assert.equal(opened[0]!.closed, true);
});

test('after create the host mount goes, unless a stopped-time user holds it: then its last release unmounts', async () => {
  const { mounter, c, users, premounts } = setup('created');
  premounts.begin(c);
  const held = await users.acquire(c);
  c.state = { ...c.state, status: 'running', pid: 42 };
  await premounts.unmountUnlessHeld(c);
  assert.equal(await mounter.isMountPoint('/m'), true, 'kept under the user that holds it');
  const done = held.release();
  await tick();
  mounter.finishUnmounts();
  await done;
  assert.equal(await mounter.isMountPoint('/m'), false);
  assert.deepEqual(kinds(mounter), ['mount', 'umount']);
});

test('a mount begun at create: a user arriving meanwhile waits for it, neither mounts twice nor unmounts it', async () => {
  const { mounter, c, users, premounts } = setup('created');
  premounts.begin(c);
  const view = await users.acquire(c);
  assert.deepEqual(kinds(mounter), ['mount'], 'one mount: the one begun at create');
  await view.release();
  assert.equal(await mounter.isMountPoint('/m'), true, 'a created container keeps its mount');
});

test('a mount begun at create that fails is forgotten: the next mount is start\'s', async () => {
  const failing = new FakeMounter();
  let fail = true;
  const mountOverlay = failing.mountOverlay.bind(failing);
  failing.mountOverlay = async (...args) => { await tick(); if (fail) throw new Error('mount: no space'); return mountOverlay(...args); };
  const premounts = new RootfsPremounts({
    mounter: failing, runtime: { delete: async () => undefined }, log: { error: () => undefined },
    mergedDir: () => '/m', upperDir: () => '/u', workDir: () => '/w', liveViewsGone: async () => undefined,
  });
  const c = { id: 'c2', lowerDirs: ['/l'], state: { status: 'created' } } as unknown as ContainerRecord;
  premounts.begin(c);
  fail = false;
  await premounts.mount(c);
  assert.equal(await failing.isMountPoint('/m'), true);
});
