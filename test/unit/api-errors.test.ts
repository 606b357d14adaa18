// The shared error mapping: typed engine errors and Node's input-caused errors get their HTTP status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusOf } from '../../src/api/errors';
import * as errors from '../../src/errdefs';

test('typed errors map to their status; input-caused Node errors are 400, other errors 500', () => {
  assert.equal(statusOf(new errors.NotFoundError('x')), 404);
  assert.equal(statusOf(new errors.InvalidParameterError('x')), 400);
  assert.equal(statusOf(new errors.ConflictError('x')), 409);
  const long = Object.assign(new Error('ENAMETOOLONG: name too long, mkdir'), { code: 'ENAMETOOLONG' });
  assert.equal(statusOf(long), 400);
  let badUrl;
  try { new URL('https://[bad/'); } catch (err) { badUrl = err; }
  assert.equal(statusOf(badUrl), 400);
  assert.equal(statusOf(Object.assign(new Error('disk'), { code: 'EIO' })), 500);
  assert.equal(statusOf(new TypeError('x is not a function')), 500);
  assert.equal(statusOf(undefined), 500);
});
