// Layer unpacking: metadata kept, whiteouts converted with real mknod/setfattr, every escape refused.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { makeTar as makeTarWith, type TarEntry } from './image-helpers';

/** Builds a tar in memory; entries default to regular files with a fixed mtime. */
const makeTar = (entries: TarEntry[]): Promise<Buffer> => makeTarWith(entries, { mtime: new Date(1_600_000_000_000) });
import { unpack } from '../../src/image/unpack';
import { HostSpecialFiles } from '../../src/host/special-files';
import { FakeSpecialFiles } from '../fakes/special-files';

/** Builds a tar in memory from [{name, type, data, linkname, mode, uid, gid, mtime}]. */

async function withDirs(fn: (dest: string, base: string) => Promise<void>): Promise<void> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-unpack-'));
  const dest = path.join(base, 'dest');
  fs.mkdirSync(dest);
  try {
    await fn(dest, base);
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

const host = new HostSpecialFiles();

test('keeps modes, owners, mtimes, symlinks and hard links; detects gzip', () => withDirs(async (dest) => {
  const t = await makeTar([
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/passwd', data: 'root:x:0:0::/root:/bin/sh\n', mode: 0o644 },
    { name: 'bin/', type: 'directory', mode: 0o755 },
    { name: 'bin/tool', data: '#!/bin/sh\n', mode: 0o4755, uid: 1000, gid: 1001 },
    { name: 'bin/alias', type: 'link', linkname: 'bin/tool' },
    { name: 'bin/sh', type: 'symlink', linkname: '/bin/tool' },
    { name: 'bin/rel', type: 'symlink', linkname: '../etc/passwd' },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
  ]);
  const res = await unpack(Readable.from([zlib.gzipSync(t)]), dest, { special: host });
  const st = fs.statSync(path.join(dest, 'bin/tool'));
  assert.equal(st.mode & 0o7777, 0o4755);
  assert.equal(st.uid, 1000);
  assert.equal(st.gid, 1001);
  assert.equal(st.mtimeMs, 1_600_000_000_000);
  assert.equal(fs.statSync(path.join(dest, 'bin/alias')).ino, st.ino);
  assert.equal(fs.readlinkSync(path.join(dest, 'bin/sh')), '/bin/tool');
  assert.equal(fs.statSync(path.join(dest, 'tmp')).mode & 0o7777, 0o1777);
  assert.equal(fs.statSync(path.join(dest, 'etc')).mtimeMs, 1_600_000_000_000);
  assert.equal(res.diffId, 'sha256:' + createHash('sha256').update(t).digest('hex'));
  assert.equal(res.tarSize, t.length);
}));

test('converts whiteouts to overlayfs form (real mknod and setfattr)', () => withDirs(async (dest) => {
  const t = await makeTar([
    { name: 'a/', type: 'directory' },
    { name: 'a/.wh.gone', data: '' },
    { name: 'b/', type: 'directory' },
    { name: 'b/.wh..wh..opq', data: '' },
    { name: 'b/kept', data: 'x' },
    { name: 'dev/', type: 'directory' },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'fifo', type: 'fifo', mode: 0o600 },
  ]);
  await unpack(Readable.from([t]), dest, { special: host });
  const wh = fs.lstatSync(path.join(dest, 'a/gone'));
  assert.ok(wh.isCharacterDevice());
  assert.equal(wh.rdev, 0);
  assert.ok(!fs.existsSync(path.join(dest, 'a/.wh.gone')));
  assert.ok(!fs.existsSync(path.join(dest, 'b/.wh..wh..opq')));
  const attr = execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'trusted.overlay.opaque', path.join(dest, 'b')], { encoding: 'utf8' });
  assert.equal(attr, 'y');
  const dn = fs.lstatSync(path.join(dest, 'dev/null'));
  assert.ok(dn.isCharacterDevice());
  assert.equal(dn.rdev, (1 << 8) | 3);
  assert.ok(fs.lstatSync(path.join(dest, 'fifo')).isFIFO());
  assert.ok(fs.existsSync(path.join(dest, 'b/kept')));
}));

test('the fake special-files adapter records instead of touching the kernel', () => withDirs(async (dest) => {
  const fake = new FakeSpecialFiles();
  const t = await makeTar([{ name: 'a/', type: 'directory' }, { name: 'a/.wh.x', data: '' }, { name: 'a/.wh..wh..opq', data: '' }]);
  await unpack(Readable.from([t]), dest, { special: fake });
  assert.deepEqual([...fake.nodes.values()].map((n) => [path.relative(dest, n.path), n.type, n.major, n.minor]), [['a/x', 'c', 0, 0]]);
  assert.equal(fake.xattrs.get(path.join(dest, 'a'))?.get('trusted.overlay.opaque')?.toString(), 'y');
}));

const escapes: Array<[string, TarEntry[], RegExp]> = [
  ['dot-dot escape', [{ name: '../evil', data: 'x' }], /escapes/],
  ['nested dot-dot escape', [{ name: 'a/../../evil', data: 'x' }], /escapes/],
  ['absolute dot-dot escape', [{ name: '/../evil', data: 'x' }], /escapes/],
  ['write through a symlink', [{ name: 'link', type: 'symlink', linkname: '/tmp' }, { name: 'link/evil', data: 'x' }], /is a symlink/],
  ['write through a relative symlink to ..', [{ name: 'up', type: 'symlink', linkname: '.' }, { name: 'up/evil', data: 'x' }], /is a symlink/],
  ['hard link outside', [{ name: 'h', type: 'link', linkname: '../outside' }], /escapes/],
  ['hard link to a missing file', [{ name: 'h', type: 'link', linkname: 'nothere' }], /does not exist/],
  ['hard link through a symlink', [{ name: 's', type: 'symlink', linkname: '/etc' }, { name: 'h', type: 'link', linkname: 's/passwd' }], /through a symlink/],
  ['relative symlink escaping', [{ name: 'a/', type: 'directory' }, { name: 'a/s', type: 'symlink', linkname: '../../etc/passwd' }], /escapes/],
  ['whiteout escaping', [{ name: '../.wh.x', data: '' }], /escapes/],
  ['whiteout of ".." (would remove the parent of the layer)', [{ name: '.wh...', data: '' }], /invalid whiteout name/],
  ['whiteout of its own directory', [{ name: 'a/.wh.', data: '' }], /invalid whiteout name/],
  ['absolute name', [{ name: '/etc/passwd', data: 'x' }], /absolute path/],
  ['hard link to an absolute name', [{ name: 'f', data: 'x' }, { name: 'h', type: 'link', linkname: '/f' }], /absolute path/],
  ['entry below a regular file', [{ name: 'f', data: 'x' }, { name: 'f/g', data: 'y' }], /EEXIST|not a directory/],
];

for (const [what, entries, pattern] of escapes) {
  test(`refuses ${what}, writing nothing outside`, () => withDirs(async (dest, base) => {
    fs.writeFileSync(path.join(base, 'outside'), 'secret');
    const before = fs.readdirSync(base).sort();
    const t = await makeTar(entries);
    await assert.rejects(unpack(Readable.from([t]), dest, { special: new FakeSpecialFiles() }), (err: Error) => {
      assert.equal(err.name, 'InvalidParameterError');
      assert.match(err.message, pattern);
      assert.match(err.message, /refusing to unpack tar entry/);
      return true;
    });
    assert.deepEqual(fs.readdirSync(base).sort(), before);
    assert.ok(!fs.existsSync('/tmp/evil'));
    assert.equal(fs.readFileSync(path.join(base, 'outside'), 'utf8'), 'secret');
  }));
}

test('archive mode refuses absolute names, absolute symlinks and devices', () => withDirs(async (dest) => {
  for (const entries of [
    [{ name: '/abs', data: 'x' }],
    [{ name: 's', type: 'symlink', linkname: '/etc/passwd' }],
    [{ name: 'd', type: 'character-device', devmajor: 1, devminor: 3 }],
  ] as TarEntry[][]) {
    const t = await makeTar(entries);
    await assert.rejects(unpack(Readable.from([t]), dest, { special: new FakeSpecialFiles(), mode: 'archive' }), { name: 'InvalidParameterError' });
  }
}));

test('a corrupt tar is an InvalidParameterError', () => withDirs(async (dest) => {
  const junk = Buffer.alloc(1024, 7);
  await assert.rejects(unpack(Readable.from([junk]), dest, { special: new FakeSpecialFiles() }), { name: 'InvalidParameterError' });
}));


test('a directory replaced by a symlink drops what was queued below it: nothing is made through the link', () => withDirs(async (dest, base) => {
  const outside = path.join(base, 'outside');
  fs.mkdirSync(outside);
  const fake = new FakeSpecialFiles();
  const t = await makeTar([
    { name: 'd/', type: 'directory' },
    { name: 'd/.wh.x', data: '' },
    { name: 'd/node', type: 'character-device', devmajor: 1, devminor: 3 },
    { name: 'd', type: 'symlink', linkname: outside },
  ]);
  await unpack(Readable.from([t]), dest, { special: fake });
  assert.deepEqual(fs.readdirSync(outside), []);
  assert.deepEqual([...fake.nodes.keys()], []);
  assert.equal(fs.readlinkSync(path.join(dest, 'd')), outside);
}));

test('a repeated directory entry keeps what was queued below it', () => withDirs(async (dest) => {
  const fake = new FakeSpecialFiles();
  const t = await makeTar([{ name: 'a/', type: 'directory' }, { name: 'a/.wh.x', data: '' }, { name: 'a/', type: 'directory' }]);
  await unpack(Readable.from([t]), dest, { special: fake });
  assert.deepEqual([...fake.nodes.keys()].map((p) => path.relative(dest, p)), ['a/x']);
}));

test('overlayfs attributes in PAX records are dropped, others kept', () => withDirs(async (dest) => {
  const fake = new FakeSpecialFiles();
  const t = await makeTar([{ name: 'f', data: 'x', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc', 'SCHILY.xattr.user.k': 'v' } }]);
  await unpack(Readable.from([t]), dest, { special: fake });
  const attrs = fake.xattrs.get(path.join(dest, 'f'));
  assert.deepEqual([...(attrs?.keys() ?? [])], ['user.k']);
}));

test('tells onFileBytes of every regular file it writes with all its bytes, and of nothing else', () => withDirs(async (dest) => {
  const big = Buffer.alloc(3 << 20, 7);
  const t = await makeTar([
    { name: 'd/', type: 'directory' },
    { name: 'd/big', data: big },
    { name: 'd/small', data: 'x' },
    { name: 'd/link', type: 'symlink', linkname: 'small' },
    { name: 'd/.wh.gone', data: '' },
  ]);
  const told = new Map<string, number>();
  await unpack(Readable.from([t]), dest, { special: new FakeSpecialFiles(), onFileBytes: (f, n) => told.set(f, (told.get(f) ?? 0) + n) });
  const real = fs.realpathSync(dest);
  assert.deepEqual([...told.entries()].sort(), [[path.join(real, 'd/big'), big.length], [path.join(real, 'd/small'), 1]]);
}));
