// The shipper's queue: first in, first out through compaction, things put back at the front, drained in order.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Fifo } from '../../src/util/fifo';

test('Fifo keeps order across compaction, unshift and drain', () => {
  const q = new Fifo<number>();
  for (let i = 0; i < 5000; i++) q.push(i);
  for (let i = 0; i < 3000; i++) assert.equal(q.shift(), i);
  assert.equal(q.length, 2000);
  assert.equal(q.peek(), 3000);
  q.unshift([-2, -1]);
  assert.deepEqual([q.shift(), q.shift(), q.shift()], [-2, -1, 3000]);
  q.push(5000, 5001);
  assert.deepEqual([...q].slice(-3), [4999, 5000, 5001]);
  const all = q.drain();
  assert.equal(all.length, 2001);
  assert.equal(all[0], 3001);
  assert.equal(q.length, 0);
  assert.equal(q.shift(), undefined);
});
