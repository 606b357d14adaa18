// The layer store: ChainIDs, reuse of existing layers, lowerdir order, crash leftovers.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { makeTar } from './image-helpers';
import { LayerStore, chainIdOf } from '../../src/image/layer-store';
import { FakeSpecialFiles } from '../fakes/special-files';


test('registers stacks by ChainID, reuses existing layers, lists lowerdirs top first', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-layers-'));
  try {
    const store = new LayerStore(root, new FakeSpecialFiles());
    await store.init();
    const t1 = await makeTar([{ name: 'a', data: '1' }]);
    const t2 = await makeTar([{ name: 'b', data: '2' }]);
    const l1 = await store.register(Readable.from([t1]), null);
    const l2 = await store.register(Readable.from([t2]), l1.chainId);
    assert.equal(l1.chainId, l1.diffId);
    assert.equal(l2.chainId, chainIdOf([l1.diffId, l2.diffId]));
    assert.equal(l2.parent, l1.chainId);
    assert.equal(l1.size, 1);
    const again = await store.register(Readable.from([t2]), l1.chainId);
    assert.deepEqual(again, l2);
    assert.deepEqual(store.lowerDirs(l2.chainId), [store.diffDir(l2.chainId), store.diffDir(l1.chainId)]);
    // The same diff on another parent is another layer.
    const alone = await store.register(Readable.from([t2]), null);
    assert.notEqual(alone.chainId, l2.chainId);
    await assert.rejects(store.register(Readable.from([t1]), null, { expectedDiffId: l2.diffId }), /diff ID mismatch/);
    assert.deepEqual(fs.readdirSync(path.join(root, 'layers')).filter((n) => n.startsWith('.tmp-')), []);
    // Crash leftovers and a layer whose parent vanished are dropped at init.
    fs.mkdirSync(path.join(root, 'layers', '.tmp-dead', 'diff'), { recursive: true });
    fs.rmSync(path.join(root, 'layers', l1.chainId.slice(7)), { recursive: true });
    const reopened = new LayerStore(root, new FakeSpecialFiles());
    await reopened.init();
    assert.deepEqual(reopened.list().map((l) => l.chainId), [alone.chainId]);
    assert.deepEqual(fs.readdirSync(path.join(root, 'layers')), [alone.chainId.slice(7)]);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
