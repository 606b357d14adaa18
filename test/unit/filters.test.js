'use strict';
// labelMatch: the label filter of container, network, volume and event lists and prunes.
const test = require('node:test');
const assert = require('node:assert/strict');
const { labelMatch } = require('../../dist/engine/filters');

test('a bare key asks for the label, key=value for its value (split at the first =)', () => {
  const labels = { a: 'b', e: '', eq: 'x=y' };
  assert.equal(labelMatch(labels, 'a'), true);
  assert.equal(labelMatch(labels, 'z'), false);
  assert.equal(labelMatch(labels, 'a=b'), true);
  assert.equal(labelMatch(labels, 'a=c'), false);
  assert.equal(labelMatch(labels, 'a='), false);
  assert.equal(labelMatch(labels, 'e='), true);
  assert.equal(labelMatch(labels, 'e'), true);
  assert.equal(labelMatch(labels, 'eq=x=y'), true);
  assert.equal(labelMatch(labels, 'eq=x'), false);
  assert.equal(labelMatch(labels, 'z='), false);
  assert.equal(labelMatch({}, 'a'), false);
});
