// The counting semaphore: never more than `limit` running, waiters started in the order they came, a failure frees its slot.
import test from 'node:test';
import assert from 'node:assert/strict';
import { semaphore } from '../../src/util/semaphore';

test('at most `limit` at once, the waiting ones in order, a failure frees its slot', async () => {
  const slot = semaphore(2);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const job = (i: number) => slot(async () => {
    started.push(i);
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, 5));
    running--;
    if (i === 1) throw new Error('job 1 failed');
    return i;
  });
  const results = await Promise.allSettled([0, 1, 2, 3, 4].map(job));
  assert.equal(most, 2);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
});
