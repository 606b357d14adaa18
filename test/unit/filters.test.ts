// labelMatch: the label filter of container, network, volume and event lists and prunes.
import test from 'node:test';
import assert from 'node:assert/strict';
import { labelMatch, labelsMatchAll, labelFiltersMatch } from '../../src/engine/filters';

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

test('only an object\'s own labels count, never what a plain object inherits', () => {
  for (const k of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    assert.equal(labelMatch({ a: 'b' }, k), false, k);
    assert.equal(labelMatch(JSON.parse('{"a":"b"}'), k), false, k);
  }
  assert.equal(labelMatch({ constructor: 'x' }, 'constructor'), true);
  assert.equal(labelMatch({ constructor: 'x' }, 'constructor=x'), true);
});

test('label filters all have to match (moby MatchKVList); none given matches everything', () => {
  const labels = { a: '1', b: '2' };
  assert.equal(labelsMatchAll(labels, undefined), true);
  assert.equal(labelsMatchAll(labels, []), true);
  assert.equal(labelsMatchAll({}, []), true);
  assert.equal(labelsMatchAll(labels, ['a', 'b=2']), true);
  assert.equal(labelsMatchAll(labels, ['a', 'c']), false);
  assert.equal(labelsMatchAll(labels, ['a=1', 'b=3']), false);
  assert.equal(labelsMatchAll({}, ['a']), false);
});

// moby's prune matchLabels (daemon/prune.go and the like): kept out only when every label! filter matches.
test('prune: label! keeps an object out only when all its filters match, label must all match', () => {
  const f = (obj: Record<string, string[]>) => new Map(Object.entries(obj));
  const ab = { a: '1', b: '2' };
  const a = { a: '1' };
  const none: Record<string, string> = {};
  assert.equal(labelFiltersMatch(ab, f({})), true);
  assert.equal(labelFiltersMatch(none, f({})), true);
  // one label!: the objects with it are kept out, the others pruned
  assert.equal(labelFiltersMatch(a, f({ 'label!': ['a'] })), false);
  assert.equal(labelFiltersMatch(none, f({ 'label!': ['a'] })), true);
  assert.equal(labelFiltersMatch(a, f({ 'label!': ['a=2'] })), true);
  assert.equal(labelFiltersMatch(a, f({ 'label!': ['a=1'] })), false);
  // two label!: an object that has only one of them is still pruned (not "any matches")
  assert.equal(labelFiltersMatch(a, f({ 'label!': ['a', 'b'] })), true);
  assert.equal(labelFiltersMatch(ab, f({ 'label!': ['a', 'b'] })), false);
  assert.equal(labelFiltersMatch(ab, f({ 'label!': ['a', 'b=3'] })), true);
  // an empty label! list filters nothing out
  assert.equal(labelFiltersMatch(ab, f({ 'label!': [] })), true);
  // label and label! together
  assert.equal(labelFiltersMatch(ab, f({ label: ['a'], 'label!': ['b=3'] })), true);
  assert.equal(labelFiltersMatch(ab, f({ label: ['a'], 'label!': ['b'] })), false);
  assert.equal(labelFiltersMatch(a, f({ label: ['a', 'b'] })), false);
  assert.equal(labelFiltersMatch(ab, f({ label: ['a', 'b'], until: ['1h'] })), true);
});
