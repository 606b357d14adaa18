// Docker's filters parameter parsed at the edge: both JSON forms, moby's words for bad JSON, unknown keys and bad booleans.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Filters, parseFilters } from '../../src/wire/filters';
import { queryFilters } from '../../src/api/router';

test('both JSON forms parse; absent or empty is no filter', () => {
  assert.deepEqual([...parseFilters('{"status":["running","paused"]}', ['status'])], [['status', ['running', 'paused']]]);
  assert.deepEqual([...parseFilters('{"status":{"running":true}}', ['status'])], [['status', ['running']]]);
  assert.equal(parseFilters(null, []).size, 0);
  assert.equal(parseFilters('', []).size, 0);
  assert.equal(queryFilters(new URLSearchParams(`filters=${encodeURIComponent('{"label":["a=b"]}')}`), ['label']).get('label')![0], 'a=b');
});

test("refusals in moby's words: bad JSON, not an object, an unknown key, a bad value, a bad boolean", () => {
  assert.throws(() => parseFilters('{bad', ['x']), { message: 'invalid filter: {bad is not valid JSON' });
  assert.throws(() => parseFilters('[1]', ['x']), { message: 'invalid filter: expected a JSON object' });
  assert.throws(() => parseFilters('{"x":["y"]}', ['label']), { message: "invalid filter 'x'" });
  assert.throws(() => parseFilters('{"label":5}', ['label']), { message: "invalid filter 'label'" });
  assert.throws(() => new Filters([['nope', []]], ['label']), { message: "invalid filter 'nope'" });
  const f = parseFilters('{"dangling":["True"]}', ['dangling']);
  assert.equal(f.bool('dangling'), true);
  assert.equal(parseFilters('{"dangling":["0"]}', ['dangling']).bool('dangling'), false);
  assert.equal(parseFilters('{}', ['dangling']).bool('dangling'), undefined);
  assert.throws(() => parseFilters('{"dangling":["maybe"]}', ['dangling']).bool('dangling'), { message: "invalid filter 'dangling=maybe'" });
  assert.throws(() => f.set('other', ['x']), { message: "invalid filter 'other'" }, 'a checked Filters takes no unknown key later either');
});
