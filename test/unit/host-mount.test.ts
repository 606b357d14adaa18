// Unit tests of src/host/mount.ts: mountinfo parsing, overlay option planning, the fake mounter.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseMountInfo, isMountPointIn, planOverlayMount, MOUNT_DATA_MAX, OVERLAY_MAX_LOWER } from '../../src/host/mount';
import { FakeMounter } from '../fakes/mount';
import { InvalidParameterError, NotFoundError } from '../../src/errdefs';

// Lines from a Debian 12 host's /proc/self/mountinfo (hybrid cgroups), an overlay with a shared peer
// group, and a path with a space (escaped \040 by the kernel).
const MOUNTINFO = [
  '22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
  '30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  '120 29 0:50 / /var/lib/berth/overlay/abc/merged rw,relatime shared:60 master:1 - overlay overlay rw,lowerdir=/l1:/l2,upperdir=/u,workdir=/w,index=off',
  '121 29 8:1 /data/with\\040space /mnt/my\\040dir rw,relatime - ext4 /dev/sda1 rw',
  'garbage line',
  '',
].join('\n');

test('parseMountInfo reads fields, optional fields and octal escapes', () => {
  const m = parseMountInfo(MOUNTINFO);
  assert.equal(m.length, 7);
  assert.deepEqual(m[1], {
    id: 30, parentId: 22, device: '0:27', root: '/', mountPoint: '/sys/fs/cgroup',
    mountOptions: ['rw', 'relatime'], fsType: 'tmpfs', source: 'tmpfs', superOptions: ['rw', 'mode=755'],
  });
  const ovl = m[5];
  assert.equal(ovl.fsType, 'overlay');
  assert.equal(ovl.mountPoint, '/var/lib/berth/overlay/abc/merged');
  assert.ok(ovl.superOptions.includes('index=off'));
  assert.equal(m[6].root, '/data/with space');
  assert.equal(m[6].mountPoint, '/mnt/my dir');
  assert.equal(m[6].source, '/dev/sda1');
});

test('isMountPointIn matches resolved mount points only', () => {
  const m = parseMountInfo(MOUNTINFO);
  assert.equal(isMountPointIn(m, '/sys/fs/cgroup/unified'), true);
  assert.equal(isMountPointIn(m, '/sys/fs/cgroup/unified/'), true);
  assert.equal(isMountPointIn(m, '/mnt/my dir'), true);
  assert.equal(isMountPointIn(m, '/sys/fs'), false);
});

test('planOverlayMount: short paths relative to the container directory, lowerdir top-first, index=off', () => {
  const p = planOverlayMount(['/l/top', '/l/bottom'], '/c/upper', '/c/work', '/c/.lower-ab12cd');
  assert.equal(p.options, 'lowerdir=.lower-ab12cd/0:.lower-ab12cd/1,upperdir=upper,workdir=work,index=off');
  assert.equal(p.cwd, '/c');
});

const hex = (i: number): string => i.toString(16).padStart(64, '0');

test('planOverlayMount: the mount data no longer grows with the paths of the layers or the data root', () => {
  const root = '/var/lib/berth/containers/' + hex(7);
  const lower = [`/var/lib/berth/image/layers/${hex(1)}/diff`];
  const p = planOverlayMount(lower, `${root}/upper`, `${root}/work`, `${root}/.lower-x1y2z3`);
  assert.equal(p.cwd, root);
  assert.equal(p.options, 'lowerdir=.lower-x1y2z3/0,upperdir=upper,workdir=work,index=off');
});

test('planOverlayMount: hundreds of layers go through bare link numbers from the link directory', () => {
  const root = '/var/lib/berth/containers/' + hex(7);
  const lower = Array.from({ length: 400 }, (_v, i) => `/var/lib/berth/image/layers/${hex(i)}/diff`);
  const p = planOverlayMount(lower, `${root}/upper`, `${root}/work`, `${root}/.lower-x1y2z3`);
  assert.equal(p.cwd, `${root}/.lower-x1y2z3`);
  assert.ok(Buffer.byteLength(p.options) <= MOUNT_DATA_MAX);
  assert.ok(p.options.startsWith('lowerdir=0:1:2:'));
  assert.ok(p.options.endsWith(`,upperdir=${root}/upper,workdir=${root}/work,index=off`));
});

test('planOverlayMount: upper and work with no common parent stay absolute', () => {
  const p = planOverlayMount(['/l/0'], '/u', '/w', '/tmp/.lower-q');
  assert.equal(p.cwd, '/tmp/.lower-q');
  assert.equal(p.options, 'lowerdir=0,upperdir=/u,workdir=/w,index=off');
});

test('planOverlayMount: clear errors for bad input', () => {
  assert.throws(() => planOverlayMount([], '/u', '/w', '/k'), InvalidParameterError);
  assert.throws(() => planOverlayMount(['rel/dir'], '/u', '/w', '/k'), /absolute/);
  assert.throws(() => planOverlayMount(['/a:b'], '/u', '/w', '/k'), InvalidParameterError);
  assert.throws(() => planOverlayMount(['/a,b'], '/u', '/w', '/k'), InvalidParameterError);
  const many = Array.from({ length: OVERLAY_MAX_LOWER + 1 }, (_v, i) => `/l/${i}`);
  assert.throws(() => planOverlayMount(many, '/u', '/w', '/k'), /at most 500 lower layers/);
  const longUpper = '/' + 'u'.repeat(4100);
  assert.throws(() => planOverlayMount(['/l/1'], longUpper, '/w', '/k'), /4095-byte limit/);
});

test('FakeMounter keeps a mount table and records calls', async () => {
  const fake = new FakeMounter(parseMountInfo(MOUNTINFO));
  await fake.mount('cgroup', 'cgroup', '/sys/fs/cgroup/hugetlb', ['hugetlb']);
  assert.equal(await fake.isMountPoint('/sys/fs/cgroup/hugetlb'), true);
  const m = (await fake.mounts()).find((x) => x.mountPoint === '/sys/fs/cgroup/hugetlb');
  assert.equal(m?.fsType, 'cgroup');
  assert.ok(m?.superOptions.includes('hugetlb'));
  await fake.mountOverlay(['/l/1', '/l/0'], '/c/u', '/c/w', '/c/merged');
  assert.equal(await fake.isMountPoint('/c/merged'), true);
  await fake.umount('/c/merged', { lazy: true });
  assert.equal(await fake.isMountPoint('/c/merged'), false);
  await assert.rejects(fake.umount('/c/merged'), NotFoundError);
  assert.deepEqual(fake.calls, [
    'mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb',
    'mount -t overlay -o lowerdir=.lower-fake/0:.lower-fake/1,upperdir=u,workdir=w,index=off overlay /c/merged (cwd /c)',
    'umount -l /c/merged',
    'umount /c/merged',
  ]);
});
