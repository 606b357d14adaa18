// Unit tests of the query readers in src/api/router.ts, as moby's httputils reads query parameters.
import test from 'node:test';
import assert from 'node:assert/strict';
import { queryBool, queryInt } from '../../src/api/router';
import { InvalidParameterError } from '../../src/errdefs';

test('booleans: absent is the default; "", 0, no, false, none (any case, padded) are false; anything else true', () => {
  const q = (s: string) => new URLSearchParams(s);
  assert.equal(queryBool(q(''), 'stream', true), true);
  assert.equal(queryBool(q(''), 'stream'), false);
  for (const v of ['', '0', 'no', 'false', 'False', 'NONE', ' false ']) assert.equal(queryBool(q(`stream=${encodeURIComponent(v)}`), 'stream', true), false, JSON.stringify(v));
  for (const v of ['1', 'true', 'yes', 'True', 'x']) assert.equal(queryBool(q(`stream=${v}`), 'stream'), true, v);
});

test('integers: absent or empty is undefined; not an integer is refused by name', () => {
  assert.equal(queryInt(new URLSearchParams(''), 't'), undefined);
  assert.equal(queryInt(new URLSearchParams('t='), 't'), undefined);
  assert.equal(queryInt(new URLSearchParams('t=-3'), 't'), -3);
  assert.throws(() => queryInt(new URLSearchParams('t=1.5'), 't'), (e: unknown) => e instanceof InvalidParameterError && /invalid value for t/.test((e as Error).message));
});
