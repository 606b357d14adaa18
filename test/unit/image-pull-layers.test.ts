// A pull's one-pass layers: prepared in parallel on parents not yet committed, flushed by one sync, committed
// in order; a failure mid-stream, a diff ID that does not match and a hostile tar leave nothing behind.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { makeTar, withLocalImages } from './image-helpers';
import { chainIdNext } from '../../src/image/layer-store';
import { sha256Digest } from '../../src/image/content-store';

const withStore = (fn: Parameters<typeof withLocalImages>[1]): Promise<void> => withLocalImages('berth-pull-layers-', fn);

/** What a failed or aborted prepare must not leave: ingest files (but the partial area), temporary layers. */
function leftovers(imageRoot: string): string[] {
  const ingest = fs.readdirSync(path.join(imageRoot, 'ingest')).filter((n) => n !== 'partial');
  const layers = fs.readdirSync(path.join(imageRoot, 'layers'));
  return [...ingest.map((n) => `ingest/${n}`), ...layers.map((n) => `layers/${n}`)];
}

/** A stream of `data` in small chunks that fails with `err` after `failAfter` bytes. */
function failingStream(data: Buffer, failAfter: number, err: Error): Readable {
  return Readable.from((async function* () {
    for (let off = 0; off < failAfter; off += 512) yield data.subarray(off, Math.min(off + 512, failAfter));
    throw err;
  })());
}

test('two layers of a stack prepared at once, the child first, commit in order; the tar is kept as a tar-split record', async () => {
  await withStore(async (images, _root, sync) => {
    const base = await makeTar([{ name: 'etc/base', data: 'base' }]);
    const top = await makeTar([{ name: 'etc/top', data: 'top' }, { name: 'etc/.wh.base' }]);
    const baseId = sha256Digest(base);
    const topId = sha256Digest(top);
    const lease = images.beginLease();
    // The child is unpacked before its parent exists: the unpacked files do not depend on it.
    const child = await images.prepareLayer(baseId, Readable.from([top]), topId, 'sha256:' + 'c'.repeat(64));
    const parent = await images.prepareLayer(null, Readable.from([base]), baseId, 'sha256:' + 'b'.repeat(64));
    assert.equal(images.hasLayer(null, baseId), false, 'nothing is visible before commit');
    // Committing the child before its parent is refused.
    await assert.rejects(child.commit(images.beginLease()), /parent layer .* does not exist/);
    const child2 = await images.prepareLayer(baseId, Readable.from([top]), topId, 'sha256:' + 'c'.repeat(64));
    await images.syncStore();
    assert.equal(sync.synced.length, 1);
    await parent.commit(lease);
    const rec = await child2.commit(lease);
    assert.equal(rec.chainId, chainIdNext(baseId, topId));
    assert.equal(images.hasLayer(baseId, topId), true);
    assert.equal(images.content.has(topId), false, 'no second copy of the tar is written');
    const kept = await images.layerTar(topId);
    assert.equal(kept.size, top.length);
    const chunks: Buffer[] = [];
    for await (const c of kept.open()) chunks.push(c as Buffer);
    assert.deepEqual(Buffer.concat(chunks), top, 'the tar regenerated from the record made in the same pass');
    assert.equal(fs.readFileSync(path.join(images.layers.diffDir(rec.chainId), 'etc/top'), 'utf8'), 'top');
    await images.endLease(lease, false);
  });
});

test('a stream failing mid-layer (a digest mismatch found by the download) leaves no layer and no blob', async () => {
  await withStore(async (images, root) => {
    const tarBytes = await makeTar([{ name: 'big', data: Buffer.alloc(64 * 1024, 7) }]);
    const mismatch = new Error('filesystem layer verification failed for digest sha256:abc');
    await assert.rejects(images.prepareLayer(null, failingStream(tarBytes, 20_000, mismatch), sha256Digest(tarBytes), 'sha256:' + 'a'.repeat(64)), /verification failed for digest sha256:abc/);
    assert.deepEqual(leftovers(root), []);
    assert.equal(images.hasLayer(null, sha256Digest(tarBytes)), false);
  });
});

test('content that does not hash to the expected diff ID is refused and nothing is kept', async () => {
  await withStore(async (images, root) => {
    const tarBytes = await makeTar([{ name: 'f', data: 'x' }]);
    await assert.rejects(images.prepareLayer(null, Readable.from([tarBytes]), sha256Digest('other'), 'sha256:' + 'a'.repeat(64)), /diff ID mismatch/);
    assert.deepEqual(leftovers(root), []);
  });
});

test('a hostile tar in a pulled layer is refused by entry and nothing is kept', async () => {
  await withStore(async (images, root) => {
    for (const entries of [
      [{ name: '../escape', data: 'x' }],
      [{ name: 'link', type: 'symlink' as const, linkname: '../../etc' }],
      [{ name: 'l', type: 'symlink' as const, linkname: '/etc' }, { name: 'l/passwd', data: 'x' }],
    ]) {
      const tarBytes = await makeTar(entries);
      await assert.rejects(images.prepareLayer(null, Readable.from([tarBytes]), sha256Digest(tarBytes), 'sha256:' + 'a'.repeat(64)), /refusing to unpack tar entry/);
      assert.deepEqual(leftovers(root), []);
    }
    assert.equal(fs.existsSync(path.join(root, 'escape')), false);
  });
});

test('an aborted prepared layer leaves nothing', async () => {
  await withStore(async (images, root) => {
    const tarBytes = await makeTar([{ name: 'f', data: 'x' }]);
    const p = await images.prepareLayer(null, Readable.from([tarBytes]), sha256Digest(tarBytes), 'sha256:' + 'a'.repeat(64));
    assert.notDeepEqual(leftovers(root), []);
    await p.abort();
    assert.deepEqual(leftovers(root), []);
  });
});

test('two pulls sharing a base prepare it both at once: the second commit reuses the first and leaves no temporary', async () => {
  await withStore(async (images, root) => {
    const base = await makeTar([{ name: 'bin/sh', data: 'sh' }]);
    const a = await makeTar([{ name: 'a', data: 'a' }]);
    const b = await makeTar([{ name: 'b', data: 'b' }]);
    const [baseId, aId, bId] = [sha256Digest(base), sha256Digest(a), sha256Digest(b)];
    const blob = 'sha256:' + 'd'.repeat(64);
    const [base1, top1, base2, top2] = await Promise.all([
      images.prepareLayer(null, Readable.from([base]), baseId, blob),
      images.prepareLayer(baseId, Readable.from([a]), aId, blob),
      images.prepareLayer(null, Readable.from([base]), baseId, blob),
      images.prepareLayer(baseId, Readable.from([b]), bId, blob),
    ]);
    await images.syncStore();
    const lease1 = images.beginLease();
    const lease2 = images.beginLease();
    const r1 = await base1.commit(lease1);
    await top1.commit(lease1);
    const r2 = await base2.commit(lease2);
    await top2.commit(lease2);
    assert.deepEqual(r2, r1);
    assert.equal(images.hasLayer(baseId, aId) && images.hasLayer(baseId, bId), true);
    assert.deepEqual(fs.readdirSync(path.join(root, 'layers')).filter((n) => n.startsWith('.tmp-')), []);
    assert.deepEqual(fs.readdirSync(path.join(root, 'ingest')).filter((n) => n !== 'partial'), []);
    await images.endLease(lease1, false);
    await images.endLease(lease2, false);
  });
});
