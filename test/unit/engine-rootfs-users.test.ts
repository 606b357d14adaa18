// Unit tests of src/engine/rootfs-users.ts: a stopped container's root mounted for `docker cp` and export, counted,
// unmounted by the last user, and never taken for mounted while an unmount is still under way.
import test from 'node:test';
import assert from 'node:assert/strict';
import { RootfsUsers } from '../../src/engine/rootfs-users';
import { RootfsPremounts } from '../../src/engine/rootfs-premount';
import type { ContainerRecord } from '../../src/engine/container-record';
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

function setup(running = false) {
  const mounter = new SlowUnmounter();
  const c = { id: 'c1', lowerDirs: ['/l'], state: { status: running ? 'running' : 'exited' } } as unknown as ContainerRecord;
  const premounts = new RootfsPremounts({
    mounter: slowMounting(mounter), runtime: { delete: async () => undefined }, log: { error: () => undefined },
    mergedDir: () => '/m', upperDir: () => '/u', workDir: () => '/w',
  });
  const users = new RootfsUsers(mounter, {
    mergedDir: () => '/m', upperDir: () => '/u', workDir: () => '/w', running: (r) => r.state.status === 'running',
    mountSettled: (r) => premounts.settled(r.id),
  });
  return { mounter, c, users, premounts };
}

const tick = () => new Promise((r) => setImmediate(r));

test('the last user out unmounts; users in between share one mount', async () => {
  const { mounter, c, users } = setup();
  const a = await users.acquire(c);
  const b = await users.acquire(c);
  assert.equal(await mounter.isMountPoint('/m'), true);
  await a();
  await a(); // a release called twice counts once
  assert.equal(await mounter.isMountPoint('/m'), true);
  const last = b();
  await tick();
  mounter.finishUnmounts();
  await last;
  assert.equal(await mounter.isMountPoint('/m'), false);
  assert.deepEqual(mounter.calls.map((l) => l.split(' ')[0]), ['mount', 'umount']);
});

test('an operation that starts during the last unmount waits for it and mounts again', async () => {
  const { mounter, c, users } = setup();
  const first = await users.acquire(c);
  const unmounting = first();
  await tick();
  assert.equal(mounter.pendingUnmounts(), 1);
  // Still mounted for now: without turns, this user would take the root for mounted by someone else.
  const second = users.acquire(c);
  await tick();
  mounter.finishUnmounts();
  await unmounting;
  const release = await second;
  assert.equal(await mounter.isMountPoint('/m'), true, 'the second user has the root mounted');
  const done = release();
  await tick();
  mounter.finishUnmounts();
  await done;
  assert.deepEqual(mounter.calls.map((l) => l.split(' ')[0]), ['mount', 'umount', 'mount', 'umount']);
});

test('a running container\'s root is its own: not mounted, not unmounted', async () => {
  const { mounter, c, users } = setup(true);
  await mounter.mountOverlay(['/l'], '/u', '/w', '/m');
  const release = await users.acquire(c);
  await release();
  assert.equal(await mounter.isMountPoint('/m'), true);
  assert.equal(mounter.calls.length, 1);
});

test('a mount begun at create: a user arriving meanwhile waits for it and neither mounts twice nor unmounts it', async () => {
  const { mounter, c, users, premounts } = setup();
  premounts.begin(c);
  const release = await users.acquire(c);
  assert.deepEqual(mounter.calls.map((l) => l.split(' ')[0]), ['mount'], 'one mount: the one begun at create');
  await release();
  assert.equal(await mounter.isMountPoint('/m'), true, 'the user did not mount it, so does not unmount it');
});

test('a mount begun at create that fails is forgotten: settled resolves, and the next mount is start\'s', async () => {
  const failing = new FakeMounter();
  failing.mountOverlay = async () => { await tick(); throw new Error('mount: no space'); };
  const premounts = new RootfsPremounts({
    mounter: failing, runtime: { delete: async () => undefined }, log: { error: () => undefined },
    mergedDir: () => '/m', upperDir: () => '/u', workDir: () => '/w',
  });
  const c = { id: 'c2' } as unknown as ContainerRecord;
  premounts.begin(c);
  await premounts.settled('c2');
  assert.equal(await Promise.race([premounts.settled('c2').then(() => 'settled'), tick().then(() => 'pending')]), 'settled');
});
