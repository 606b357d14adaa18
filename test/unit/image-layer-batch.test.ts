// A batch of layers (a pull's or a load's): unpacked at once, the caller's clean-up before the one sync, committed
// in order; one failing layer leaves none committed and nothing behind; the early flushes name unpacked files only.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { makeTar, withLocalImages } from './image-helpers';
import { storeLayerBatch } from '../../src/image/layer-batch';
import { sha256Digest } from '../../src/image/content-store';

const withStore = (fn: Parameters<typeof withLocalImages>[1]): Promise<void> => withLocalImages('berth-layer-batch-', fn);

async function stack(): Promise<{ tars: Buffer[]; sources: { parent: string | null; diffId: string; compressedDigest: string; tar: Buffer }[] }> {
  const tars = [
    await makeTar([{ name: 'a', data: Buffer.alloc(200_000, 1) }]),
    await makeTar([{ name: 'b', data: 'b' }]),
    await makeTar([{ name: 'c', data: 'c' }]),
  ];
  let parent: string | null = null;
  const sources = tars.map((tar) => {
    const diffId = sha256Digest(tar);
    const s = { parent, diffId, compressedDigest: diffId, tar };
    parent = parent === null ? diffId : sha256Digest(`${parent} ${diffId}`);
    return s;
  });
  return { tars, sources };
}

test('layers committed in order after the clean-up and one sync; each commit told in order', async () => {
  await withStore(async (images, _root, sync) => {
    const { sources } = await stack();
    const steps: string[] = [];
    const lease = images.beginLease();
    await storeLayerBatch(images, lease, sources, {
      concurrency: 3,
      // The last layer finishes first: commits still go in layer order.
      prepare: async (s, prepare) => {
        if (s !== sources[2]) await new Promise((r) => setTimeout(r, 20));
        return prepare(Readable.from([s.tar]));
      },
      beforeSync: async () => { steps.push(`clean-up, synced ${sync.synced.length}`); },
      synced: () => steps.push('synced'),
      committed: (s, rec) => { steps.push(`committed ${sources.indexOf(s)} ${rec.diffId === s.diffId}`); },
    });
    assert.deepEqual(steps, ['clean-up, synced 0', 'synced', 'committed 0 true', 'committed 1 true', 'committed 2 true']);
    assert.equal(sync.synced.length, 1);
    let parent: string | null = null;
    for (const s of sources) {
      assert.ok(images.hasLayer(parent, s.diffId));
      parent = s.parent === null ? s.diffId : sha256Digest(`${parent} ${s.diffId}`);
    }
  });
});

test('one layer failing: none committed, the prepared ones aborted, no clean-up, the first error thrown', async () => {
  await withStore(async (images, root, sync) => {
    const { sources } = await stack();
    let cleanedUp = false;
    await assert.rejects(storeLayerBatch(images, images.beginLease(), sources, {
      concurrency: 2,
      prepare: (s, prepare) => prepare(Readable.from([s === sources[1] ? Buffer.from('not a tar at all, and long enough to be read as a header block'.repeat(10)) : s.tar])),
      beforeSync: async () => { cleanedUp = true; },
    }), /diff ID mismatch|invalid tar/);
    assert.equal(cleanedUp, false);
    assert.equal(sync.synced.length, 0);
    assert.equal(images.hasLayer(null, sources[0]!.diffId), false);
    assert.deepEqual(fs.readdirSync(path.join(root, 'layers')), [], 'temporary layers left');
  });
});

test('the early flushes name the unpacked files, and nothing else', async () => {
  await withStore(async (images, _root, sync) => {
    const big = await makeTar([{ name: 'big', data: Buffer.alloc(65 << 20, 3) }]);
    const diffId = sha256Digest(big);
    await storeLayerBatch(images, images.beginLease(), [{ parent: null, diffId }], {
      concurrency: 1,
      prepare: (_s, prepare) => prepare(Readable.from([big])),
    });
    assert.equal(sync.syncedFiles.length, 1, 'one early flush for 65 MiB');
    assert.equal(sync.syncedFiles[0]!.length, 1);
    assert.match(sync.syncedFiles[0]![0]!, /\/layers\/\.tmp-[0-9a-f]+\/diff\/big$/);
  });
});
