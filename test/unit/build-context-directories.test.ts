// The build context directories kept between builds: a directory whose extraction completed comes back to the next
// build; one that failed, is too large, or is one spare too many is removed; builder prune removes the spares.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContextDirectories } from '../../src/build/context-directories';
import { tempDir } from '../helpers/tmp';

const populated = (dir: { tree: { populated: boolean; files: Map<string, { size: number }> } }, bytes = 10) => {
  dir.tree.populated = true;
  dir.tree.files.set('f', { size: bytes } as never);
};

test('a completed context directory is reused by the next build; a failed or too large one is removed', async () => {
  const base = path.join(tempDir('berth-ctxdirs-'), 'contexts');
  const dirs = new ContextDirectories(base, { spares: 1, bytes: 100 });
  await dirs.init();
  const a = await dirs.take();
  assert.ok(fs.statSync(a.root).isDirectory());
  assert.equal(fs.statSync(a.root).mode & 0o777, 0o700);
  populated(a);
  await dirs.give(a);
  const again = await dirs.take();
  assert.equal(again, a, 'the same directory, with what it holds');

  const b = await dirs.take(); // a second build at the same time gets its own
  assert.notEqual(b.root, a.root);
  populated(b);
  await dirs.give(a);
  await dirs.give(b); // one spare too many
  assert.equal(fs.existsSync(b.root), false);
  assert.equal(fs.existsSync(a.root), true);

  const failed = await dirs.take();
  assert.equal(failed, a);
  failed.tree.populated = false;
  await dirs.give(failed);
  assert.equal(fs.existsSync(a.root), false);

  const big = await dirs.take();
  populated(big, 101);
  await dirs.give(big);
  assert.equal(fs.existsSync(big.root), false);

  const kept = await dirs.take();
  populated(kept, 42);
  await dirs.give(kept);
  // Listed as build cache (docker system df), with what it holds; prune says how much it freed.
  assert.deepEqual(dirs.kept().map((k) => [k.root, k.bytes]), [[kept.root, 42]]);
  assert.equal(await dirs.clear(), 42);
  assert.deepEqual(dirs.kept(), []);
  assert.equal(fs.existsSync(kept.root), false);
  assert.notEqual((await dirs.take()).root, kept.root);
  // A restarted daemon does not know what the old directories hold: init() empties the place.
  await dirs.init();
  assert.deepEqual(fs.readdirSync(base), []);
});
