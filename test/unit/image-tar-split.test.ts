// tar-split records: a layer unpacked with a recorder regenerates exactly its tar from the record and the
// unpacked files (hard links, whiteouts, long names and PAX, empty files, entries replaced within the layer,
// GNU tar's own output), and a file changed on disk fails the regeneration naming the layer, never a whole tar.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { makeTar, type TarEntry } from './image-helpers';
import { sha256Digest } from '../../src/image/content-store';
import { regenerate, TarSplitRecorder } from '../../src/image/tar-split';
import { unpack } from '../../src/image/unpack';
import { FakeSpecialFiles } from '../fakes/special-files';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tar-split-'));
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `data` in chunks of `size` bytes (odd sizes cut headers and payloads anywhere). */
function chunked(data: Buffer, size: number): Readable {
  return Readable.from((function* () {
    for (let off = 0; off < data.length; off += size) yield data.subarray(off, off + size);
  })());
}

async function collect(r: Readable): Promise<{ bytes: Buffer; error?: Error }> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of r) chunks.push(c as Buffer);
    return { bytes: Buffer.concat(chunks) };
  } catch (err) {
    return { bytes: Buffer.concat(chunks), error: err as Error };
  }
}

/** Unpacks `tarBytes` into `<layerDir>/diff` with a recorder; returns the diff ID. */
async function recordLayer(layerDir: string, tarBytes: Buffer, chunkSize = 700): Promise<string> {
  fs.mkdirSync(path.join(layerDir, 'diff'), { recursive: true });
  const recorder = new TarSplitRecorder(layerDir);
  const res = await unpack(chunked(tarBytes, chunkSize), path.join(layerDir, 'diff'), { special: new FakeSpecialFiles(), mode: 'layer', recorder });
  assert.equal(res.diffId, sha256Digest(tarBytes));
  return res.diffId;
}

async function assertRoundTrip(tarBytes: Buffer, chunkSize?: number): Promise<void> {
  await withDir(async (layerDir) => {
    const diffId = await recordLayer(layerDir, tarBytes, chunkSize);
    const { bytes, error } = await collect(regenerate(layerDir, diffId));
    assert.equal(error, undefined);
    assert.equal(bytes.length, tarBytes.length);
    assert.ok(bytes.equals(tarBytes), 'the regenerated tar is byte for byte the original');
  });
}

test('files, directories, symlinks, hard links and empty files regenerate exactly, in any chunking', async () => {
  const entries: TarEntry[] = [
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/passwd', data: 'root:x:0:0::/root:/bin/sh\n' },
    { name: 'etc/empty', data: '' },
    { name: 'etc/big', data: Buffer.alloc(3 * 1024 * 1024 + 17, 9) },
    { name: 'etc/hard', type: 'link', linkname: 'etc/passwd' },
    { name: 'etc/sym', type: 'symlink', linkname: 'passwd' },
    { name: 'etc/odd', data: Buffer.alloc(511, 1) },
  ];
  const tarBytes = await makeTar(entries);
  for (const size of [1, 512, 700, 1 << 20]) {
    if (size === 1) await assertRoundTrip(await makeTar(entries.filter((e) => e.name !== 'etc/big')), size);
    else await assertRoundTrip(tarBytes, size);
  }
  // The record holds headers and padding, not the payloads.
  await withDir(async (layerDir) => {
    await recordLayer(layerDir, tarBytes);
    const raw = fs.statSync(path.join(layerDir, 'tar-split', 'raw')).size;
    assert.ok(raw < 16 * 1024, `raw ${raw} bytes for a ${tarBytes.length}-byte tar`);
  });
});

test('long names and PAX records (xattrs, a size over the ustar field) regenerate exactly', async () => {
  const long = 'd/' + 'x'.repeat(150) + '/' + 'y'.repeat(120);
  await assertRoundTrip(await makeTar([
    { name: long, data: 'long' },
    { name: 'cap', data: 'bin', pax: { 'SCHILY.xattr.security.capability': 'abc' } },
    { name: 'l', type: 'symlink', linkname: 'z'.repeat(200) },
  ]));
});

test('whiteouts (with a payload, hostile) and opaque directories are kept in the record', async () => {
  await assertRoundTrip(await makeTar([
    { name: 'a/', type: 'directory' },
    { name: 'a/.wh..wh..opq', data: '' },
    { name: '.wh.gone', data: '' },
    { name: '.wh.payload', data: 'a whiteout should have no payload' },
    { name: './', type: 'file', data: 'the root as a file' },
  ]));
});

test('an entry replaced later in the same layer keeps its payload readable (moved aside)', async () => {
  await assertRoundTrip(await makeTar([
    { name: 'dup', data: 'first version' },
    { name: 'dup', data: 'second, longer version' },
    { name: 'd/f', data: 'under a directory that a file replaces' },
    { name: 'd', data: 'now a file' },
    { name: 'w', data: 'whited out in its own layer' },
    { name: '.wh.w', data: '' },
    { name: 'h', data: 'linked, then replaced' },
    { name: 'h2', type: 'link', linkname: 'h' },
    { name: 'h', type: 'directory' },
  ]));
});

test("GNU tar's own output (gnu long names, PAX format, hard links, empty files) regenerates exactly", async () => {
  await withDir(async (src) => {
    const tree = path.join(src, 'tree');
    const deep = path.join(tree, 'n'.repeat(120), 'm'.repeat(120));
    fs.mkdirSync(deep, { recursive: true });
    fs.writeFileSync(path.join(deep, 'f'.repeat(100)), 'deep');
    fs.writeFileSync(path.join(tree, 'empty'), '');
    fs.writeFileSync(path.join(tree, 'data'), Buffer.alloc(100_000, 3));
    fs.linkSync(path.join(tree, 'data'), path.join(tree, 'data-link'));
    for (const format of ['gnu', 'posix', 'ustar']) {
      const out = path.join(src, `${format}.tar`);
      const args = ['-C', tree, `--format=${format}`, '--sort=name', '-cf', out, '.'];
      try {
        execFileSync('tar', args, { stdio: 'pipe' });
      } catch (err) {
        // ustar cannot hold the long names: that format's refusal is expected.
        if (format === 'ustar') continue;
        throw err;
      }
      await assertRoundTrip(fs.readFileSync(out));
    }
  });
});

test('a file changed on disk fails the regeneration naming the layer, before the tar is whole', async () => {
  await withDir(async (layerDir) => {
    const tarBytes = await makeTar([{ name: 'a', data: Buffer.alloc(2 * 1024 * 1024, 1) }, { name: 'b', data: 'bbbb' }]);
    const diffId = await recordLayer(layerDir, tarBytes);
    // Same size, other content: found by the digest at the end; the last bytes are held back.
    fs.writeFileSync(path.join(layerDir, 'diff', 'a'), Buffer.alloc(2 * 1024 * 1024, 2));
    let { bytes, error } = await collect(regenerate(layerDir, diffId));
    assert.match(String(error), new RegExp(`layer ${diffId}: its tar cannot be regenerated.*got sha256:`));
    assert.ok(bytes.length < tarBytes.length, 'never the whole (wrong) tar');
    // Another size: found before its bytes go out.
    fs.writeFileSync(path.join(layerDir, 'diff', 'b'), 'bb');
    ({ bytes, error } = await collect(regenerate(layerDir, diffId)));
    assert.match(String(error), /diff\/b is 2 bytes, the tar had 4/);
    // Gone.
    fs.rmSync(path.join(layerDir, 'diff', 'a'));
    ({ error } = await collect(regenerate(layerDir, diffId)));
    assert.match(String(error), new RegExp(`layer ${diffId}: .*diff/a: ENOENT`));
  });
});

test('a failed unpack leaves no record behind to be read', async () => {
  await withDir(async (layerDir) => {
    const tarBytes = await makeTar([{ name: '../escape', data: 'x' }]);
    fs.mkdirSync(path.join(layerDir, 'diff'));
    const recorder = new TarSplitRecorder(layerDir);
    await assert.rejects(unpack(Readable.from([tarBytes]), path.join(layerDir, 'diff'), { special: new FakeSpecialFiles(), mode: 'layer', recorder }), /refusing to unpack/);
    const { error } = await collect(regenerate(layerDir, sha256Digest(tarBytes)));
    assert.match(String(error), /no tar record/);
  });
});
