// The build's tar extraction (contexts, ADD archives): a tar that stops right after an entry's data is complete, as
// Go's archive/tar reads it (the docker CLI sends one for `docker build -f - dir`); a tar cut inside data is not;
// later entries replace earlier ones, never writing through a symlink; modes, mtimes and ownership as asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { ExtractedTree, extractTar } from '../../src/build/untar';
import { makeTar } from './image-helpers';
import { tempDir } from '../helpers/tmp';

const extract = (buf: Buffer, opts = { keepOwnership: false }) => {
  const root = tempDir('berth-untar-');
  return extractTar(Readable.from([buf]), root, opts).then(() => root);
};

test('a tar without its end blocks or its last padding is complete; one cut inside data is refused', async () => {
  const full = await makeTar([{ name: 'a.txt', data: 'alpha\n' }, { name: 'dir/', type: 'directory', mode: 0o755 }, { name: 'dir/b.txt', data: 'beta!\n' }]);
  // Header a, data a, header dir, header b: 4 blocks; then b's 6 bytes of data, its padding, two zero blocks.
  const unpadded = full.subarray(0, 512 * 4 + 6);
  for (const buf of [full, full.subarray(0, 512 * 5), unpadded]) {
    const root = await extract(buf);
    assert.equal(fs.readFileSync(path.join(root, 'a.txt'), 'utf8'), 'alpha\n');
    assert.equal(fs.readFileSync(path.join(root, 'dir/b.txt'), 'utf8'), 'beta!\n');
  }
  await assert.rejects(extract(full.subarray(0, 512 * 4 + 3)), /invalid tar archive|end of data|unexpected end/i);
  await assert.rejects(extract(full.subarray(0, 512 * 3 + 100)), /invalid tar archive|end of data|unexpected end/i);
});

test('later entries win; a file never writes through a symlink; mode, mtime and owner kept as asked', async () => {
  const outside = tempDir('berth-untar-outside-');
  const buf = await makeTar([
    { name: 'same.txt', data: 'first\n' },
    { name: 'same.txt', data: 'second\n', mode: 0o600 },
    { name: 'link', type: 'symlink', linkname: path.join(outside, 'victim') },
    { name: 'link', data: 'replaces the link\n' },
    { name: 'owned', data: 'x', uid: 1234, gid: 4321, mode: 0o640, mtime: new Date(1_700_000_000_000) },
  ]);
  const root = await extract(buf, { keepOwnership: true });
  assert.equal(fs.readFileSync(path.join(root, 'same.txt'), 'utf8'), 'second\n');
  assert.equal(fs.statSync(path.join(root, 'same.txt')).mode & 0o7777, 0o600);
  assert.ok(fs.lstatSync(path.join(root, 'link')).isFile());
  assert.equal(fs.existsSync(path.join(outside, 'victim')), false);
  const st = fs.statSync(path.join(root, 'owned'));
  assert.deepEqual([st.uid, st.gid, st.mode & 0o7777, st.mtimeMs], [1234, 4321, 0o640, 1_700_000_000_000]);
  const mine = await extract(buf, { keepOwnership: false });
  assert.equal(fs.statSync(path.join(mine, 'owned')).uid, process.getuid!());
});

/** Every path under `root` with its type, mode, mtime and content (or link target): what a build can see. */
function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(path.join(root, r));
      const what = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? `link ${fs.readlinkSync(path.join(root, r))}` : `file ${fs.readFileSync(path.join(root, r), 'utf8')}`;
      out.push(`${r} ${(st.mode & 0o7777).toString(8)} ${st.isDirectory() ? '' : st.mtimeMs} ${what}`);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

test('a reused directory ends as a fresh extraction would; unchanged files are left in place, changed ones rewritten', async () => {
  const outside = tempDir('berth-untar-outside-');
  const t = new Date(1_700_000_000_000);
  const first = await makeTar([
    { name: 'keep.txt', data: 'same\n', mtime: t },
    { name: 'edit.txt', data: 'aaaa\n', mtime: t },
    { name: 'chmod.txt', data: 'x\n', mtime: t },
    { name: 'gone.txt', data: 'bye\n' },
    { name: 'gone-dir/', type: 'directory', mode: 0o755 },
    { name: 'gone-dir/f', data: 'f\n' },
    { name: 'was-file', data: 'file\n' },
    { name: 'was-dir/', type: 'directory', mode: 0o755 },
    { name: 'was-dir/inner', data: 'inner\n' },
    { name: 'sub', type: 'symlink', linkname: outside },
  ]);
  const second = await makeTar([
    { name: 'keep.txt', data: 'same\n', mtime: t },
    { name: 'edit.txt', data: 'bbbb\n', mtime: t }, // same size and mtime, other content: must be rewritten
    { name: 'chmod.txt', data: 'x\n', mtime: t, mode: 0o600 },
    { name: 'was-file/', type: 'directory', mode: 0o755 },
    { name: 'was-file/now', data: 'now\n' },
    { name: 'was-dir', data: 'now a file\n' },
    { name: 'sub/deep/new.txt', data: 'new\n' }, // no directory entries: a leftover link must not be followed
  ]);
  const tree = new ExtractedTree();
  const reused = tempDir('berth-untar-reused-');
  await extractTar(Readable.from([first]), reused, { keepOwnership: false, tree });
  assert.equal(tree.populated, true);
  const keepIno = fs.statSync(path.join(reused, 'keep.txt')).ino;
  await extractTar(Readable.from([second]), reused, { keepOwnership: false, tree });
  const fresh = await extract(second);
  assert.deepEqual(listing(reused), listing(fresh));
  assert.equal(fs.statSync(path.join(reused, 'keep.txt')).ino, keepIno, 'the unchanged file was not rewritten');
  assert.deepEqual(fs.readdirSync(outside), [], 'nothing was written through the old symlink');
  assert.deepEqual([...tree.files.keys()].sort(), ['chmod.txt', 'edit.txt', 'keep.txt', 'sub/deep/new.txt', 'was-dir', 'was-file/now']);
});

test("a reused tree's digests hold only while the file is as it was unpacked", async () => {
  const tree = new ExtractedTree();
  const root = tempDir('berth-untar-digest-');
  await extractTar(Readable.from([await makeTar([{ name: 'a.txt', data: 'alpha\n' }])]), root, { keepOwnership: false, tree });
  const file = path.join(root, 'a.txt');
  const sha = createHash('sha256').update('alpha\n').digest('hex');
  assert.equal(tree.digestOf('a.txt', fs.lstatSync(file)), sha);
  const st = fs.lstatSync(file);
  fs.writeFileSync(file, 'omega\n'); // same size
  fs.utimesSync(file, st.atime, st.mtime); // and the same mtime
  assert.equal(tree.digestOf('a.txt', fs.lstatSync(file)), undefined);
  // A failed extraction leaves the tree unusable: the directory is in no known state.
  await assert.rejects(extractTar(Readable.from([Buffer.alloc(700, 1)]), root, { keepOwnership: false, tree }));
  assert.equal(tree.populated, false);
});
