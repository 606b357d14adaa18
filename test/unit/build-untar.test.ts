// The build's tar extraction (contexts, ADD archives): a tar that stops right after an entry's data is complete, as
// Go's archive/tar reads it (the docker CLI sends one for `docker build -f - dir`); a tar cut inside data is not;
// later entries replace earlier ones, never writing through a symlink; modes, mtimes and ownership as asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { extractTar } from '../../src/build/untar';
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
