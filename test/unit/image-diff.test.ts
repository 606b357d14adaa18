// Container changes from a real overlayfs upper dir: `docker diff` kinds, and the layer tar round trip.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { changes, layerTarFromUpper, tarDirectory } from '../../src/image/diff';
import { unpack } from '../../src/image/unpack';
import { HostSpecialFiles } from '../../src/host/special-files';

const special = new HostSpecialFiles();

/** What a test looks at of one tar entry. */
interface TarListing { name: string; type: string; size: number; linkname: string; mtime: number }

async function listTar(stream: Readable): Promise<TarListing[]> {
  const extract = tar.extract();
  const out: TarListing[] = [];
  const done = new Promise<void>((resolve, reject) => { extract.on('finish', () => resolve()); extract.on('error', reject); });
  extract.on('entry', (h, s, next) => { out.push({ name: h.name, type: h.type, size: h.size, linkname: h.linkname, mtime: h.mtime.getTime() }); s.resume(); s.on('end', next); });
  stream.pipe(extract);
  await done;
  return out;
}

/** The directories of a test overlay mount and a way to unmount it early. */
interface Overlay { base: string; lower: string; upper: string; merged: string; umount: () => void }

async function withOverlay(fn: (o: Overlay) => Promise<void>): Promise<void> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-diff-'));
  const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => path.join(base, d));
  for (const d of [lower, upper, work, merged]) fs.mkdirSync(d);
  fs.mkdirSync(path.join(lower, 'etc'));
  fs.writeFileSync(path.join(lower, 'etc/passwd'), 'root\n');
  fs.writeFileSync(path.join(lower, 'etc/group'), 'root\n');
  fs.mkdirSync(path.join(lower, 'data/sub'), { recursive: true });
  fs.writeFileSync(path.join(lower, 'data/sub/f'), 'old');
  fs.mkdirSync(path.join(lower, 'untouched'));
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]);
  let mounted = true;
  const umount = () => { if (mounted) { execFileSync('umount', [merged]); mounted = false; } };
  try {
    await fn({ base, lower, upper, merged, umount });
  } finally {
    umount();
    fs.rmSync(base, { recursive: true, force: true });
  }
}

test('docker diff kinds from a real overlay upper dir, and the layer tar round trip', () => withOverlay(async ({ base, lower, upper, merged, umount }) => {
  fs.appendFileSync(path.join(merged, 'etc/passwd'), 'me\n');
  fs.rmSync(path.join(merged, 'etc/group'));
  fs.writeFileSync(path.join(merged, 'new.txt'), 'hi');
  fs.rmSync(path.join(merged, 'data'), { recursive: true });
  fs.mkdirSync(path.join(merged, 'data'));
  fs.writeFileSync(path.join(merged, 'data/fresh'), 'new');
  umount();

  const list = await changes(upper, [lower], special);
  assert.deepEqual(list, [
    { Path: '/data', Kind: 2 },
    { Path: '/data/fresh', Kind: 1 },
    { Path: '/etc', Kind: 0 },
    { Path: '/etc/group', Kind: 2 },
    { Path: '/etc/passwd', Kind: 0 },
    { Path: '/new.txt', Kind: 1 },
  ]);

  const entries = await listTar(await layerTarFromUpper(upper, special));
  const names = entries.map((e) => e.name);
  assert.deepEqual(names, ['data/', 'data/.wh..wh..opq', 'data/fresh', 'etc/', 'etc/.wh.group', 'etc/passwd', 'new.txt']);
  assert.equal(entries.find((e) => e.name === 'etc/.wh.group')!.type, 'file');

  // Reproducible: the same upper dir gives the same bytes.
  const bytes = async () => { const c: Buffer[] = []; for await (const x of await layerTarFromUpper(upper, special)) c.push(x); return Buffer.concat(c); };
  assert.deepEqual(await bytes(), await bytes());

  // And back: unpacking the tar gives the overlay form again.
  const again = path.join(base, 'again');
  fs.mkdirSync(again);
  await unpack(await layerTarFromUpper(upper, special), again, { special });
  assert.ok(fs.lstatSync(path.join(again, 'etc/group')).isCharacterDevice());
  assert.equal(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'trusted.overlay.opaque', path.join(again, 'data')], { encoding: 'utf8' }), 'y');
  assert.deepEqual(await changes(again, [lower], special), list);
}));

test('tarDirectory archives a whole tree sorted, with hard links once', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tardir-'));
  try {
    fs.mkdirSync(path.join(dir, 'b'));
    fs.writeFileSync(path.join(dir, 'b/x'), 'data');
    fs.linkSync(path.join(dir, 'b/x'), path.join(dir, 'a'));
    fs.symlinkSync('b/x', path.join(dir, 'c'));
    const entries = await listTar(tarDirectory(dir));
    assert.deepEqual(entries.map((e) => [e.name, e.type]), [['a', 'file'], ['b/', 'directory'], ['b/x', 'link'], ['c', 'symlink']]);
    assert.equal(entries[2].linkname, 'a');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
