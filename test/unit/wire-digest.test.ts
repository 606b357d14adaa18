// The digest grammar (src/wire/digest.ts), table-driven: what the image store, the registry and pulls accept.
import test from 'node:test';
import assert from 'node:assert/strict';
import { isSha256Digest, isSha256Hex, isDigestLike } from '../../src/wire/digest';

const HEX = 'a'.repeat(63) + 'f';

test('sha256 digests: the only kind Berth stores', () => {
  const cases = [
    [`sha256:${HEX}`, true],
    [`sha256:${'0'.repeat(64)}`, true],
    [`sha256:${HEX.toUpperCase()}`, false], // go-digest's sha256 encoding is lowercase hex
    [`sha256:${HEX.slice(1)}`, false],
    [`sha256:${HEX}0`, false],
    [`sha512:${'a'.repeat(128)}`, false],
    [`SHA256:${HEX}`, false],
    [HEX, false],
    [`sha256:${HEX}\n`, false],
    [`sha256:../${HEX.slice(3)}`, false],
    ['', false],
  ];
  for (const [s, want] of cases) assert.equal(isSha256Digest(s), want, JSON.stringify(s));
  for (const v of [undefined, null, 5, {}, [`sha256:${HEX}`]]) assert.equal(isSha256Digest(v), false, String(v));
});

test('sha256 hex: names on disk, full IDs', () => {
  assert.equal(isSha256Hex(HEX), true);
  assert.equal(isSha256Hex(`sha256:${HEX}`), false);
  assert.equal(isSha256Hex(HEX.toUpperCase()), false);
  assert.equal(isSha256Hex(HEX.slice(2)), false);
  assert.equal(isSha256Hex(`${HEX}.tmp`), false);
});

test('any algorithm, as the distribution spec writes digests', () => {
  assert.equal(isDigestLike(`sha256:${HEX}`), true);
  assert.equal(isDigestLike(`sha512:${'b'.repeat(128)}`), true);
  assert.equal(isDigestLike('multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8'), true);
  assert.equal(isDigestLike('sha256:'), false);
  assert.equal(isDigestLike(':abc'), false);
  assert.equal(isDigestLike('Sha256:abc'), false);
  assert.equal(isDigestLike('sha256:ab/c'), false);
});
