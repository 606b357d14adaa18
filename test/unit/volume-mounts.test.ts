// -v, --mount and --volumes-from parsed and planned as moby's linux parser and registerMountPoints do; paths
// resolved as the container sees them; the OCI mounts made of them.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseBind, parseMountSpec, parseVolumesFrom, planMounts, validMountMode, ociMount, mountPointsOf, usesVolume, sortMounts, type ContainerMount, type MountInputs } from '../../src/engine/container-mounts';
import { readFileInRoot, resolveInContainer, resolveInRoot } from '../../src/host/rootfs';
import { tempDir } from '../helpers/tmp';

const exists = () => true;
const missing = () => false;

test('-v forms: named and anonymous volumes, binds, modes', () => {
  assert.deepEqual(parseBind('data:/srv'), {
    type: 'volume', source: '', destination: '/srv', mode: 'z', rw: true, propagation: '', name: 'data', copyData: true, create: { options: null, labels: null },
  });
  assert.deepEqual(parseBind('/host/dir:/srv/'), {
    type: 'bind', source: '/host/dir', destination: '/srv', mode: '', rw: true, propagation: 'rprivate', createSource: true,
  });
  const ro = parseBind('/a/../b:/c:ro,rslave');
  assert.equal(ro.source, '/b');
  assert.equal(ro.rw, false);
  assert.equal(ro.mode, 'ro,rslave');
  assert.equal(ro.propagation, 'rslave');
  const anon = parseBind('/only/target');
  assert.equal(anon.type, 'volume');
  assert.equal(anon.anonymous, true);
  assert.equal(anon.name, undefined);
  assert.equal(parseBind('v1:/x:nocopy').copyData, false);
  assert.equal(parseBind('v1:/x:ro').rw, false);
  assert.equal(parseBind('v1:/x:z').mode, 'z');
  // A file path with a colon-free relative source is a volume name, never a relative bind.
  assert.equal(parseBind('rel/dir:/x').type, 'volume');
});

test('-v errors use moby\'s words', () => {
  const bad = (raw: string, msg: string) => assert.throws(() => parseBind(raw), (e: Error) => e.name === 'InvalidParameterError' && e.message === msg, raw);
  bad(':/x', "invalid volume specification: ':/x'");
  bad('/foo:rw', "invalid volume specification: '/foo:rw'");
  bad('/a:/b:c:d', "invalid volume specification: '/a:/b:c:d'");
  bad('/a:/b:bogus', 'invalid mode: bogus');
  bad('/a:/b:ro,rw', 'invalid mode: ro,rw');
  bad('/a:/b:shared,slave', 'invalid mode: shared,slave');
  bad('vol:/', "invalid volume specification: 'vol:/': invalid mount config for type \"volume\": invalid specification: destination can't be '/'");
  bad('vol:rel', "invalid volume specification: 'vol:rel': invalid mount config for type \"volume\": invalid mount path: 'rel' mount path must be absolute");
  assert.throws(() => parseBind('v:/x', 'flocker'), /plugin "flocker" not found/);
  for (const m of ['', 'ro', 'rw', 'z', 'Z', 'ro,Z', 'rslave', 'nocopy', 'ro,nocopy,shared,z,cached']) assert.ok(validMountMode(m), m);
  for (const m of ['x', 'ro,ro', 'z,Z', 'nocopy,nocopy', 'private,rshared', 'RO']) assert.ok(!validMountMode(m), m);
});

test('--mount forms: bind (source must exist), volume options, tmpfs options', () => {
  assert.deepEqual(parseMountSpec({ Type: 'bind', Source: '/h', Target: '/c', ReadOnly: true }, exists), {
    type: 'bind', source: '/h', destination: '/c', mode: '', rw: false, propagation: 'rprivate',
  });
  const b = parseMountSpec({ Type: 'bind', Source: '/h', Target: '/c', BindOptions: { Propagation: 'rshared', NonRecursive: true, CreateMountpoint: true } }, missing);
  assert.equal(b.propagation, 'rshared');
  assert.equal(b.nonRecursive, true);
  assert.equal(b.createSource, true);
  assert.throws(() => parseMountSpec({ Type: 'bind', Source: '/x', Target: '/c' }, missing),
    { message: 'invalid mount config for type "bind": bind source path does not exist: /x' });
  assert.throws(() => parseMountSpec({ Type: 'bind', Target: '/c' }, exists), { message: 'invalid mount config for type "bind": field Source must not be empty' });
  assert.throws(() => parseMountSpec({ Type: 'bind', Source: 'rel', Target: '/c' }, exists), /invalid mount path: 'rel' mount path must be absolute/);
  assert.throws(() => parseMountSpec({ Type: 'bind', Source: '/h', Target: '/c', BindOptions: { Propagation: 'weird' } }, exists), /invalid propagation mode: weird/);
  assert.throws(() => parseMountSpec({ Type: 'bind', Source: '/h', Target: '/c', VolumeOptions: {} }, exists), /field VolumeOptions must not be specified/);

  const v = parseMountSpec({ Type: 'volume', Source: 'db', Target: '/var/lib/db', VolumeOptions: { NoCopy: true, Labels: { a: 'b' }, DriverConfig: { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs' } } } }, exists);
  assert.deepEqual(v, {
    type: 'volume', source: '', destination: '/var/lib/db', mode: 'z', rw: true, propagation: '', name: 'db', copyData: false,
    create: { options: { type: 'tmpfs', device: 'tmpfs' }, labels: { a: 'b' } },
  });
  assert.equal(parseMountSpec({ Type: 'volume', Target: '/anon' }, exists).anonymous, true);
  assert.equal(parseMountSpec({ Type: 'volume', Source: 'db', Target: '/x', VolumeOptions: { Subpath: 'sub/dir' } }, exists).subpath, 'sub/dir');
  assert.throws(() => parseMountSpec({ Type: 'volume', Target: '/x', VolumeOptions: { Subpath: 'a' } }, exists), /must not set Subpath when using anonymous volumes/);
  assert.throws(() => parseMountSpec({ Type: 'volume', Source: 'v', Target: '/x', VolumeOptions: { Subpath: '../up' } }, exists), /subpath must be a relative path within the volume/);

  assert.equal(parseMountSpec({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1 << 20, Mode: 0o1777 } }, exists).tmpfsData, 'mode=1777,size=1m');
  assert.equal(parseMountSpec({ Type: 'tmpfs', Target: '/t', ReadOnly: true, TmpfsOptions: { SizeBytes: 1000, Options: [['exec']] } }, exists).tmpfsData, 'ro,size=1000,exec');
  assert.throws(() => parseMountSpec({ Type: 'tmpfs', Source: 'x', Target: '/t' }, exists), /field Source must not be specified/);
  assert.throws(() => parseMountSpec({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { Options: [['suid']] } }, exists), /invalid option: suid/);
  assert.throws(() => parseMountSpec({ Type: 'npipe', Target: '/t' }, exists), /mount type unknown/);
  assert.throws(() => parseMountSpec({ Type: 'volume', Target: '' }, exists), /field Target must not be empty/);
  assert.throws(() => parseMountSpec({ Type: 'volume', Target: '//' }, exists), /destination can't be '\/'/);
});

test('--volumes-from specs', () => {
  assert.deepEqual(parseVolumesFrom('db'), { container: 'db', mode: 'rw' });
  assert.deepEqual(parseVolumesFrom('db:ro'), { container: 'db', mode: 'ro' });
  assert.throws(() => parseVolumesFrom(''), /volumes-from specification cannot be an empty string/);
  assert.throws(() => parseVolumesFrom('db:rshared'), /invalid mode: rshared/);
  assert.throws(() => parseVolumesFrom('db:nocopy'), /invalid mode: nocopy/);
  assert.throws(() => parseVolumesFrom('db:bogus'), /invalid mode: bogus/);
});

test('planning: volumes-from first, then binds and --mount (duplicates refused), then image volumes', () => {
  const fromMounts: ContainerMount[] = [
    { type: 'volume', name: 'shared', source: '/v/shared/_data', destination: '/shared', mode: 'z', rw: true, propagation: '', driver: 'local', anonymous: true, copyData: true },
    { type: 'bind', source: '/h', destination: '/h', mode: '', rw: true, propagation: 'rprivate', createSource: true },
    { type: 'volume', name: 'over', source: '/v/over/_data', destination: '/over', mode: '', rw: true, propagation: '', driver: 'local' },
  ];
  const plan = planMounts({
    hostConfig: { VolumesFrom: ['src:ro'], Binds: ['mine:/over', '/x:/deep/er/path'], Mounts: [{ Type: 'tmpfs', Target: '/deep' }], Tmpfs: { '/run': '' } },
    volumes: { '/img': {}, '/shared': {}, 'rel': {}, '/run': {} },
    mountsOf: (ref) => { assert.equal(ref, 'src'); return fromMounts; },
    sourceExists: exists,
  });
  const byDest = Object.fromEntries(plan.map((m) => [m.destination, m]));
  assert.deepEqual(Object.keys(byDest).sort(), ['/deep', '/deep/er/path', '/h', '/img', '/over', '/rel', '/shared']);
  assert.equal(byDest['/shared'].rw, false, ':ro applies to what is shared');
  assert.equal(byDest['/shared'].create, false, 'a shared volume must exist');
  assert.equal(byDest['/shared'].anonymous, undefined, 'rm -v of the sharer never removes it');
  assert.equal(byDest['/shared'].copyData, false);
  assert.equal(byDest['/over'].name, 'mine', 'a bind overrides volumes-from at the same destination');
  assert.equal(byDest['/img'].anonymous, true);
  assert.equal(byDest['/img'].mode, '');
  assert.equal(byDest['/rel'].anonymous, true);
  // Parents come before what is mounted inside them.
  assert.ok(plan.findIndex((m) => m.destination === '/deep') < plan.findIndex((m) => m.destination === '/deep/er/path'));

  const plan2 = (hc: MountInputs['hostConfig']) => () => planMounts({ hostConfig: hc, volumes: null, mountsOf: () => [], sourceExists: exists });
  assert.throws(plan2({ Binds: ['a1:/x', '/h:/x'] }), { message: 'Duplicate mount point: /x' });
  assert.throws(plan2({ Binds: ['a1:/x'], Mounts: [{ Type: 'tmpfs', Target: '/x/' }] }), { message: 'Duplicate mount point: /x/' });
  assert.throws(plan2({ Binds: ['a1:/run'], Tmpfs: { '/run': 'size=1m' } }), { message: 'Duplicate mount point: /run' });
  assert.throws(() => planMounts({ hostConfig: { VolumesFrom: ['ghost'] }, volumes: null, mountsOf: () => { throw new Error('No such container: ghost'); }, sourceExists: exists }), /No such container: ghost/);
  assert.deepEqual(sortMounts([{ destination: '/a/b/c' }, { destination: '/a' }, { destination: '/z/y' }]).map((m) => m.destination), ['/a', '/z/y', '/a/b/c']);
});

test('OCI mounts and inspect views', () => {
  assert.deepEqual(ociMount({ type: 'bind', source: '/h', destination: '/c', mode: 'ro', rw: false, propagation: 'rslave' }, '/c', '/h'),
    { destination: '/c', type: 'bind', source: '/h', options: ['rbind', 'ro', 'rslave'] });
  assert.deepEqual(ociMount({ type: 'volume', source: '/v', destination: '/d', mode: 'z', rw: true, propagation: '' }, '/real/d', '/v'),
    { destination: '/real/d', type: 'bind', source: '/v', options: ['rbind', 'rprivate'] });
  assert.deepEqual(ociMount({ type: 'bind', source: '/h', destination: '/c', mode: '', rw: true, propagation: 'rprivate', nonRecursive: true }, '/c', '/h').options, ['bind', 'rprivate']);
  assert.deepEqual(ociMount({ type: 'tmpfs', source: '', destination: '/t', mode: '', rw: true, propagation: '', tmpfsData: 'size=1m,exec' }, '/t', '').options,
    ['noexec', 'nosuid', 'nodev', 'size=1m', 'exec', 'rprivate'].filter((o) => o !== 'noexec'));
  const views = mountPointsOf([
    { type: 'volume', name: 'v', driver: 'local', source: '/s', destination: '/d', mode: 'z', rw: true, propagation: '', copyData: true, anonymous: false },
    { type: 'bind', source: '/h', destination: '/b', mode: 'ro', rw: false, propagation: 'rprivate', createSource: true },
  ]);
  assert.deepEqual(views, [
    { Type: 'volume', Name: 'v', Source: '/s', Destination: '/d', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
    { Type: 'bind', Source: '/h', Destination: '/b', Mode: 'ro', RW: false, Propagation: 'rprivate' },
  ]);
  // Only the fields usesVolume reads.
  const mount = (m: Pick<ContainerMount, 'type' | 'name' | 'source' | 'destination'>) => m as ContainerMount;
  assert.ok(usesVolume([mount({ type: 'volume', name: 'v', source: '/s', destination: '/d' })], 'v'));
  assert.ok(usesVolume([mount({ type: 'bind', source: '/h', destination: '/d' })], '/h'));
  assert.ok(usesVolume([mount({ type: 'bind', source: '/h', destination: '/d' })], '/d'));
  assert.ok(!usesVolume([mount({ type: 'volume', name: 'v', source: '/s', destination: '/d' })], '/s'));
  assert.ok(!usesVolume(undefined, 'v'));
});

test('paths resolve as the container sees them, never outside its root or its mounts', async () => {
  const base = tempDir('berth-volume-mounts-');
  const root = path.join(base, 'root');
  const vol = path.join(base, 'vol');
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.mkdirSync(path.join(root, 'data'), { recursive: true });
  fs.mkdirSync(vol);
  fs.symlinkSync('/etc', path.join(root, 'abs'));
  fs.symlinkSync('../../../../../../tmp', path.join(root, 'up'));
  fs.symlinkSync('/data/inner', path.join(root, 'todata'));
  fs.symlinkSync('/etc/passwd', path.join(vol, 'tohost'));
  fs.symlinkSync('../../..', path.join(vol, 'climb'));
  const mounts = [{ destination: '/data', source: vol }];
  const r = (p: string, follow?: boolean) => resolveInContainer(root, mounts, p, follow);
  assert.deepEqual(await r('/abs/passwd'), { hostPath: path.join(root, 'etc/passwd'), containerPath: '/etc/passwd' });
  assert.deepEqual(await r('/up/x'), { hostPath: path.join(root, 'tmp/x'), containerPath: '/tmp/x' });
  assert.deepEqual(await r('/data'), { hostPath: vol, containerPath: '/data' });
  assert.deepEqual(await r('/data/f'), { hostPath: path.join(vol, 'f'), containerPath: '/data/f' });
  assert.deepEqual(await r('/todata'), { hostPath: path.join(vol, 'inner'), containerPath: '/data/inner' });
  // A link inside the mount is read in the container's view: "/etc/passwd" of the rootfs, not the host's.
  assert.deepEqual(await r('/data/tohost'), { hostPath: path.join(root, 'etc/passwd'), containerPath: '/etc/passwd' });
  assert.deepEqual(await r('/data/tohost', false), { hostPath: path.join(vol, 'tohost'), containerPath: '/data/tohost' });
  assert.deepEqual(await r('/data/climb/etc'), { hostPath: path.join(root, 'etc'), containerPath: '/etc' });
  assert.deepEqual(await r('/../../x'), { hostPath: path.join(root, 'x'), containerPath: '/x' });
  fs.symlinkSync('loop2', path.join(root, 'loop1'));
  fs.symlinkSync('loop1', path.join(root, 'loop2'));
  await assert.rejects(r('/loop1/x'), /too many levels of symbolic links/);
  // resolveInRoot is the same walk with nothing mounted: /data is the rootfs's own directory.
  assert.equal(await resolveInRoot(root, '/todata'), path.join(root, 'data/inner'));
  assert.equal(await resolveInRoot(root, '/up/../abs/passwd'), path.join(root, 'etc/passwd'));
  assert.equal(await resolveInRoot(root, 'abs/missing/x'), path.join(root, 'etc/missing/x'));
  await assert.rejects(resolveInRoot(root, '/loop2'), /too many levels of symbolic links/);
  assert.ok(os.tmpdir());
});

test('readFileInRoot reads a file whole through the container\'s links, at any size, and undefined when missing', async () => {
  const root = tempDir('berth-read-in-root-');
  fs.mkdirSync(path.join(root, 'etc'));
  fs.symlinkSync('/etc', path.join(root, 'conf'));
  const line = (i: number) => `user${i}:x:${i}:${i}::/home/user${i}:/bin/sh\n`;
  // Around the one-read size (64 KiB): under it, exactly it, and past it (the rest read after the first block).
  for (const size of [0, 100, 65535, 65536, 65537, 300_000]) {
    let text = '';
    for (let i = 0; text.length < size; i++) text += line(i);
    text = text.slice(0, size);
    fs.writeFileSync(path.join(root, 'etc/passwd'), text);
    assert.equal(await readFileInRoot(root, '/conf/passwd'), text, `a file of ${size} bytes`);
  }
  // A two-byte character whose bytes straddle the first 64 KiB block (a GECOS field in UTF-8) comes back whole.
  const straddling = 'x'.repeat(65535) + 'é:x:1:1::/home/e:/bin/sh\n';
  fs.writeFileSync(path.join(root, 'etc/passwd'), straddling);
  assert.equal(await readFileInRoot(root, '/etc/passwd'), straddling);
  fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nwheel:x:10:root\n');
  assert.equal(await readFileInRoot(root, '/etc/group'), 'root:x:0:\nwheel:x:10:root\n');
  assert.equal(await readFileInRoot(root, '/etc/shadow'), undefined);
  assert.equal(await readFileInRoot(root, '/etc'), undefined, 'a directory is not a file');
});
