// compareApiVersions: how routes tell older API versions from newer ones ("1.9" < "1.41" < "1.44").
import test from 'node:test';
import assert from 'node:assert/strict';
import { compareApiVersions } from '../../src/api/router';

test('API versions compare by major, then minor, as numbers', () => {
  assert.ok(compareApiVersions('1.41', '1.42') < 0);
  assert.ok(compareApiVersions('1.44', '1.42') > 0);
  assert.equal(compareApiVersions('1.44', '1.44'), 0);
  assert.ok(compareApiVersions('1.9', '1.41') < 0, 'minor versions are numbers, not strings');
  assert.ok(compareApiVersions('2.0', '1.47') > 0);
  assert.ok(compareApiVersions('1.47', '2.0') < 0);
});
