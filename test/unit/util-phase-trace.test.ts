// Unit tests of PhaseTrace (src/util/phase-trace.ts): phases timed between marks, one line per operation, silent when off.
import test from 'node:test';
import assert from 'node:assert/strict';
import { PhaseTrace, traceFromEnv } from '../../src/util/phase-trace';
import { allSettledOrThrow } from '../../src/util/promises';

test('each phase is the time since the mark before it; the line ends with the total', () => {
  const lines: string[] = [];
  let now = 100;
  const trace = new PhaseTrace((l) => lines.push(l), () => now);
  const id = 'ab'.repeat(32);
  trace.begin('container', id);
  now += 2.5;
  trace.mark(id, 'create');
  now += 10;
  trace.mark(id, 'start');
  trace.mark('unknown', 'ignored');
  now += 0.25;
  trace.end(id, 'removed');
  assert.deepEqual(lines, [`trace container ${id.slice(0, 12)} create=2.5 start=10.0 removed=0.3 total=12.8`]);
  trace.end(id, 'again');
  assert.equal(lines.length, 1, 'an ended trace writes nothing more');
});

test('off, or dropped, nothing is written', () => {
  const lines: string[] = [];
  const off = traceFromEnv({}, { info: (l) => lines.push(l) });
  assert.equal(off.enabled, false);
  off.begin('exec', 'x');
  off.end('x', 'done');
  const on = traceFromEnv({ BERTH_TRACE: '1' }, { info: (l) => lines.push(l) });
  on.begin('exec', 'y');
  on.drop('y');
  on.end('y', 'done');
  assert.deepEqual(lines, []);
  on.begin('exec', 'z');
  on.end('z', 'done');
  assert.equal(lines.length, 1);
});

test('allSettledOrThrow waits for every step before it rejects with the first failure', async () => {
  let slowDone = false;
  const slow = new Promise<void>((r) => setTimeout(() => { slowDone = true; r(); }, 30));
  await assert.rejects(allSettledOrThrow([Promise.reject(new Error('first')), slow, Promise.reject(new Error('second')), undefined]), /first/);
  assert.equal(slowDone, true, 'the slow step finished before the rejection');
  await allSettledOrThrow([Promise.resolve(1), undefined]);
});
