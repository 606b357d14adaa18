// The chunk gatherer a pull's download and the registry's uploads share: blocks of at least the size asked, the
// bytes in order, a single chunk passed on without a copy, clear() dropping what was gathered.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ChunkGatherer } from '../../src/util/streams';

test('gathers chunks into blocks, in order, and says when a block is full', () => {
  const g = new ChunkGatherer(10);
  assert.equal(g.take(), undefined);
  assert.equal(g.add(Buffer.from('abcd')), false);
  assert.equal(g.add(Buffer.from('efgh')), false);
  assert.equal(g.size, 8);
  assert.equal(g.add(Buffer.from('ijk')), true);
  assert.equal(g.take()!.toString(), 'abcdefghijk');
  assert.equal(g.size, 0);
  const big = Buffer.alloc(20, 1);
  assert.equal(g.add(big), true);
  assert.equal(g.take(), big, 'a single chunk is passed on as it is');
  g.add(Buffer.from('dropped'));
  g.clear();
  assert.equal(g.size, 0);
  assert.equal(g.take(), undefined);
});
