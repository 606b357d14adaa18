// Unit tests of src/host/prepare.ts over a fixture /proc and /sys/fs/cgroup with a fake mounter.
import test, { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { prepareHost } from '../../src/host/prepare';
import { FakeMounter } from '../fakes/mount';
import type { MountInfo } from '../../src/host/mount';
import { SystemError } from '../../src/errdefs';

function fixture(t: TestContext, { controllers, filesystems = 'nodev\tcgroup2\nnodev\toverlay\n', v2 = false }: { controllers: string; filesystems?: string; v2?: boolean }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-prepare-unit-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cgroupRoot = path.join(dir, 'cgroup');
  const procRoot = path.join(dir, 'proc');
  const v2Mount = v2 ? cgroupRoot : path.join(cgroupRoot, 'unified');
  fs.mkdirSync(v2Mount, { recursive: true });
  fs.writeFileSync(path.join(v2Mount, 'cgroup.controllers'), controllers);
  fs.mkdirSync(path.join(procRoot, 'sys/net/ipv4'), { recursive: true });
  fs.writeFileSync(path.join(procRoot, 'filesystems'), filesystems);
  fs.writeFileSync(path.join(procRoot, 'sys/net/ipv4/ip_forward'), '0\n');
  const mount = (id: number, mp: string, type: string, opts: string[]): MountInfo => ({
    id, parentId: 1, device: '0:0', root: '/', mountPoint: mp, mountOptions: ['rw'], fsType: type, source: type, superOptions: ['rw', ...opts],
  });
  const table = v2
    ? [mount(1, cgroupRoot, 'cgroup2', [])]
    : [
        mount(1, cgroupRoot, 'tmpfs', []),
        mount(2, path.join(cgroupRoot, 'memory'), 'cgroup', ['memory']),
        mount(3, path.join(cgroupRoot, 'pids'), 'cgroup', ['pids']),
        mount(4, v2Mount, 'cgroup2', []),
      ];
  const opts = {
    dataRoot: path.join(dir, 'data'), runRoot: path.join(dir, 'run'), procRoot, cgroupRoot, mounter: new FakeMounter(table),
  };
  return { dir, cgroupRoot, procRoot, v2Mount, opts };
}

test('hybrid host: mounts a v1 hierarchy for each controller cgroup2 holds, then does nothing', async (t) => {
  const f = fixture(t, { controllers: 'hugetlb\n' });
  const r1 = await prepareHost({ ...f.opts, ipForward: true });
  assert.equal(r1.cgroupMode, 'hybrid');
  assert.deepEqual(r1.mountedControllers, ['hugetlb']);
  assert.deepEqual(r1.v2Controllers, []);
  assert.deepEqual(f.opts.mounter.calls, [`mount -t cgroup -o hugetlb cgroup ${f.cgroupRoot}/hugetlb`]);
  assert.ok(fs.statSync(path.join(f.cgroupRoot, 'hugetlb')).isDirectory());
  assert.equal(r1.ipForward, 'enabled');
  assert.equal(fs.readFileSync(path.join(f.procRoot, 'sys/net/ipv4/ip_forward'), 'utf8').trim(), '1');
  assert.equal(fs.statSync(f.opts.runRoot).mode & 0o7777, 0o700);
  assert.equal(fs.statSync(f.opts.dataRoot).mode & 0o7777, 0o711);
  assert.deepEqual(r1.directories, [f.opts.runRoot, f.opts.dataRoot]);

  // The kernel then lists the controller on v1 only.
  fs.writeFileSync(path.join(f.v2Mount, 'cgroup.controllers'), '');
  const r2 = await prepareHost({ ...f.opts, ipForward: true });
  assert.deepEqual(r2.actions, []);
  assert.deepEqual(r2.mountedControllers, []);
  assert.equal(r2.ipForward, 'already');
  assert.equal(f.opts.mounter.calls.length, 1);
});

test('io on cgroup2 is mounted as v1 blkio; a failing mount is a clear SystemError', async (t) => {
  const f = fixture(t, { controllers: 'io hugetlb\n' });
  const r = await prepareHost(f.opts);
  assert.deepEqual(r.mountedControllers, ['blkio', 'hugetlb']);
  assert.equal(r.ipForward, 'skipped');

  const g = fixture(t, { controllers: 'hugetlb\n' });
  g.opts.mounter.mount = async () => { throw new Error('mount: /x: cgroup already mounted or busy.'); };
  await assert.rejects(prepareHost(g.opts), (err) => err instanceof SystemError && /crun 1\.8 refuses/.test(err.message) && /busy/.test(err.message));
});

test('pure v2 host: nothing mounted; directory modes are corrected', async (t) => {
  const f = fixture(t, { controllers: 'cpuset cpu io memory pids\n', v2: true });
  fs.mkdirSync(f.opts.dataRoot, { mode: 0o755 });
  fs.chmodSync(f.opts.dataRoot, 0o755);
  const r = await prepareHost(f.opts);
  assert.equal(r.cgroupMode, 'v2');
  assert.deepEqual(r.mountedControllers, []);
  assert.deepEqual(r.v2Controllers, ['cpuset', 'cpu', 'io', 'memory', 'pids']);
  assert.equal(f.opts.mounter.calls.length, 0);
  assert.equal(fs.statSync(f.opts.dataRoot).mode & 0o7777, 0o711);
  assert.ok(r.actions.some((a) => a.startsWith('set mode of')));
});

test('overlay: modprobe when absent from /proc/filesystems, error when it cannot load', async (t) => {
  const f = fixture(t, { controllers: '', filesystems: 'nodev\tcgroup2\n' });
  const loaded: string[] = [];
  const r = await prepareHost({
    ...f.opts,
    modprobe: async (m) => { loaded.push(m); fs.appendFileSync(path.join(f.procRoot, 'filesystems'), 'nodev\toverlay\n'); },
  });
  assert.deepEqual(loaded, ['overlay']);
  assert.equal(r.overlay, 'loaded');

  const g = fixture(t, { controllers: '', filesystems: 'nodev\tcgroup2\n' });
  await assert.rejects(prepareHost({ ...g.opts, modprobe: async () => { throw new Error('modprobe: FATAL: Module overlay not found'); } }),
    /overlay filesystem is not available.*Module overlay not found/);
});
