// Unit tests of src/runtime/runtime-binary-view.ts over the fake mounter and fake files that follow its mount table.
import test from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeBinaryViews, type BinaryFiles } from '../../src/runtime/runtime-binary-view';
import { FakeMounter } from '../fakes/mount';

/** Files whose identity is their own unless a mount lies on them: then the mounted file's, read-only if mounted `ro`. */
class FakeFiles implements BinaryFiles {
  readonly own = new Map<string, string>([['/usr/bin/crun', '8:1:100'], ['/usr/sbin/runc', '8:1:200']]);
  unrunnable = new Set<string>();
  constructor(private readonly mounter: FakeMounter) {}
  private async top(file: string) { return (await this.mounter.mounts()).filter((m) => m.mountPoint === file).pop(); }
  async identity(file: string) {
    const m = await this.top(file);
    return m ? this.own.get(m.source) : this.own.get(file);
  }
  async readOnly(file: string) { return (await this.top(file))?.superOptions.includes('ro') ?? false; }
  async placeholder(file: string) { if (!this.own.has(file)) this.own.set(file, `0:1:${file}`); }
  async runs(file: string) { return !this.unrunnable.has(file); }
}

const VIEW = '/run/b/runtime-bin/crun/crun';

function setup() {
  const mounter = new FakeMounter();
  const files = new FakeFiles(mounter);
  const errors: string[] = [];
  const log = { error: (m: string) => { errors.push(m); } };
  return { mounter, files, errors, log, views: new RuntimeBinaryViews('/run/b/runtime-bin', mounter, files) };
}

test('each runtime runs from a read-only bind mount of its binary, named as the binary (crun is known by its name)', async () => {
  const { mounter, log, errors, views } = setup();
  const out = await views.prepare({ crun: '/usr/bin/crun', runc: '/usr/sbin/runc' }, log);
  assert.deepEqual(out, { crun: VIEW, runc: '/run/b/runtime-bin/runc/runc' });
  assert.ok(mounter.calls.includes(`mount -t none -o bind,ro /usr/bin/crun ${VIEW}`), mounter.calls.join('\n'));
  assert.deepEqual(errors, []);
  await views.release();
  assert.deepEqual(await mounter.mounts(), [], 'release detaches every view');
  assert.ok(mounter.calls.includes(`umount -l ${VIEW}`));
});

test('a view left by a killed daemon is kept when it still shows the binary, and replaced when the binary was upgraded', async () => {
  const { mounter, files, log, views } = setup();
  await mounter.mount('none', '/usr/bin/crun', VIEW, ['bind', 'ro']);
  mounter.calls.length = 0;
  assert.deepEqual(await views.prepare({ crun: '/usr/bin/crun' }, log), { crun: VIEW });
  assert.deepEqual(mounter.calls, [], 'the same binary, read-only: nothing to do');

  // A package upgrade puts a new file at the path; the old view still shows the old one.
  files.own.set('/usr/bin/crun', '8:1:101');
  files.own.set('/var/cache/old-crun', '8:1:100');
  await mounter.umount(VIEW);
  await mounter.mount('none', '/var/cache/old-crun', VIEW, ['bind', 'ro']);
  mounter.calls.length = 0;
  const again = new RuntimeBinaryViews('/run/b/runtime-bin', mounter, files);
  assert.deepEqual(await again.prepare({ crun: '/usr/bin/crun' }, log), { crun: VIEW });
  assert.deepEqual(mounter.calls, [`umount -l ${VIEW}`, `mount -t none -o bind,ro /usr/bin/crun ${VIEW}`]);
  assert.equal(await files.identity(VIEW), '8:1:101');
});

test('a view that cannot be made, or does not run, leaves the runtime on its own path and says why', async () => {
  const { mounter, files, log, errors, views } = setup();
  files.unrunnable.add(VIEW);
  assert.deepEqual(await views.prepare({ crun: '/usr/bin/crun' }, log), { crun: '/usr/bin/crun' });
  assert.deepEqual(await mounter.mounts(), [], 'the view that does not run is detached again');
  assert.match(errors[0]!, /runtime crun: running \/usr\/bin\/crun itself.*the view does not run/);

  const failing = new FakeMounter();
  failing.mount = async () => { throw new Error('mount: permission denied'); };
  const quiet = new RuntimeBinaryViews('/run/b/runtime-bin', failing, new FakeFiles(failing));
  assert.deepEqual(await quiet.prepare({ crun: '/usr/bin/crun' }, log), { crun: '/usr/bin/crun' });
  assert.match(errors[1]!, /permission denied/);
});

test('a writable view is not used: it would not spare the copy, and would not protect the binary', async () => {
  const { mounter, log, errors, views } = setup();
  const plain = mounter.mount.bind(mounter);
  mounter.mount = (type, source, target, options = []) => plain(type, source, target, options.filter((o) => o !== 'ro'));
  assert.deepEqual(await views.prepare({ crun: '/usr/bin/crun' }, log), { crun: '/usr/bin/crun' });
  assert.match(errors[0]!, /the view is writable/);
  assert.deepEqual(await mounter.mounts(), []);
});
