// Write-behind of a pull: a background flush every N bytes, never two at once, settle() waits for the running
// one, a flush is told the files written since the last one, and a failed early flush is not the write's error (the final sync is the one that reports).
import test from 'node:test';
import assert from 'node:assert/strict';
import { WriteBehind } from '../../src/util/write-behind';

/** A flush that stays running until release() is called; counts its calls. */
function heldFlush(fail = false): { flush: (files: string[]) => Promise<void>; calls: () => number; files: string[][]; release: () => void } {
  let calls = 0;
  let release: () => void = () => undefined;
  const files: string[][] = [];
  return {
    files,
    flush: (f: string[]) => {
      calls++;
      files.push(f);
      return new Promise<void>((resolve, reject) => { release = () => (fail ? reject(new Error('EIO')) : resolve()); });
    },
    calls: () => calls,
    release: () => release(),
  };
}

test('a flush starts once `every` bytes were written, not before', () => {
  const f = heldFlush();
  const wb = new WriteBehind(f.flush, 100);
  wb.wrote('/a', 60);
  assert.equal(f.calls(), 0);
  wb.wrote('/a', 40);
  assert.equal(f.calls(), 1);
});

test('never two flushes at once; what was written meanwhile starts the next one at the next write', async () => {
  const f = heldFlush();
  const wb = new WriteBehind(f.flush, 100);
  wb.wrote('/a', 100);
  wb.wrote('/a', 500);
  assert.equal(f.calls(), 1, 'a second flush while the first runs');
  f.release();
  await wb.settle();
  wb.wrote('/a', 1);
  assert.equal(f.calls(), 2, 'the 500 bytes written during the first flush were not flushed');
  f.release();
  await wb.settle();
  wb.wrote('/a', 99);
  assert.equal(f.calls(), 2, 'a flush before `every` new bytes');
});

test('settle() waits for the running flush and a failed one does not reject', async () => {
  const f = heldFlush(true);
  const wb = new WriteBehind(f.flush, 10);
  wb.wrote('/a', 10);
  let settled = false;
  const s = wb.settle().then(() => { settled = true; });
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'settle() returned while the flush was running');
  f.release();
  await s;
  assert.equal(settled, true);
});

test('settle() with nothing running returns at once', async () => {
  const wb = new WriteBehind(() => Promise.reject(new Error('never called')), 10);
  await wb.settle();
});

test('each flush is told the files written since the previous one, each once', async () => {
  const f = heldFlush();
  const wb = new WriteBehind(f.flush, 100);
  wb.wrote('/a', 30);
  wb.wrote('/b', 30);
  wb.wrote('/a', 40);
  assert.deepEqual(f.files, [['/a', '/b']]);
  wb.wrote('/c', 10);
  f.release();
  await wb.settle();
  wb.wrote('/d', 90);
  assert.deepEqual(f.files[1], ['/c', '/d'], 'files written while a flush ran go with the next one');
  f.release();
  await wb.settle();
});
