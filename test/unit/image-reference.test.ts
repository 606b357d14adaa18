// Image reference parsing and normalization, against distribution/reference's behaviour.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as ref from '../../src/wire/reference';

test('normalizes names like Docker', () => {
  const cases = [
    ['busybox', 'docker.io/library/busybox', 'busybox'],
    ['busybox:latest', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['library/busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['docker.io/library/busybox', 'docker.io/library/busybox', 'busybox'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox', 'busybox'],
    ['bar/committed:1', 'docker.io/bar/committed:1', 'bar/committed:1'],
    ['localhost:5000/a/b:t', 'localhost:5000/a/b:t', 'localhost:5000/a/b:t'],
    ['localhost/foo', 'localhost/foo', 'localhost/foo'],
    ['example.com/x/y/z', 'example.com/x/y/z', 'example.com/x/y/z'],
    ['[::1]:5000/a', '[::1]:5000/a', '[::1]:5000/a'],
    ['a_b.c-d__e', 'docker.io/library/a_b.c-d__e', 'a_b.c-d__e'],
    [`busybox@sha256:${'a'.repeat(64)}`, `docker.io/library/busybox@sha256:${'a'.repeat(64)}`, `busybox@sha256:${'a'.repeat(64)}`],
    [`busybox:1@sha256:${'b'.repeat(64)}`, `docker.io/library/busybox:1@sha256:${'b'.repeat(64)}`, `busybox:1@sha256:${'b'.repeat(64)}`],
    ['Foo.com/bar', 'Foo.com/bar', 'Foo.com/bar'],
  ];
  for (const [input, full, familiar] of cases) {
    const r = ref.parseNormalizedNamed(input);
    assert.equal(r.toString(), full, input);
    assert.equal(r.familiar(), familiar, input);
  }
});

test('adds :latest only to bare names', () => {
  assert.equal(ref.parseDockerRef('busybox').familiar(), 'busybox:latest');
  assert.equal(ref.parseDockerRef('busybox:1').familiar(), 'busybox:1');
  assert.equal(ref.parseDockerRef(`busybox@sha256:${'c'.repeat(64)}`).tag, undefined);
});

test('refuses invalid references with Docker\'s messages', () => {
  assert.throws(() => ref.parseNormalizedNamed('Foo'), { message: 'invalid reference format: repository name (library/Foo) must be lowercase' });
  assert.throws(() => ref.parseNormalizedNamed('bar/Foo:1'), { message: 'invalid reference format: repository name (bar/Foo) must be lowercase' });
  for (const bad of ['', ':tag', 'a:b:c', 'busybox:', 'a//b', '-a', 'a-', 'a:' + 'x'.repeat(129), 'foo/../bar', 'a b', 'busybox@sha256:abc']) {
    assert.throws(() => ref.parseNormalizedNamed(bad), (err: Error) => err.name === 'InvalidParameterError' && /invalid reference format/.test(err.message), JSON.stringify(bad));
  }
  assert.throws(() => ref.parseNormalizedNamed('a'.repeat(64)), /cannot specify 64-byte hexadecimal strings/);
  assert.throws(() => ref.parseNormalizedNamed('x/' + 'a'.repeat(260)), /must not be more than 255 characters/);
});

test('tells IDs from names', () => {
  const hex = 'd'.repeat(64);
  assert.deepEqual(ref.parseAnyReference(hex), { kind: 'id', id: `sha256:${hex}` });
  assert.deepEqual(ref.parseAnyReference(`sha256:${hex}`), { kind: 'id', id: `sha256:${hex}` });
  assert.equal(ref.parseAnyReference('abc123').kind, 'named');
});

test('repo/tag query pairs and familiar matching', () => {
  assert.equal(ref.repoTagReference('foo', '').familiar(), 'foo:latest');
  assert.equal(ref.repoTagReference('foo', 'v2').familiar(), 'foo:v2');
  assert.equal(ref.repoTagReference('foo:1', '').familiar(), 'foo:1');
  assert.throws(() => ref.repoTagReference(`foo@sha256:${'e'.repeat(64)}`, ''), /digest/);
  assert.throws(() => ref.repoTagReference('foo', 'bad tag'), /invalid reference format/);
  const r = ref.parseDockerRef('bar/committed:1');
  assert.ok(ref.familiarMatch('bar/*', r));
  assert.ok(ref.familiarMatch('bar/committed', r));
  assert.ok(ref.familiarMatch('*:1', r) === false); // '*' does not cross '/'
  assert.ok(ref.familiarMatch('*/*:1', r));
  assert.equal(ref.truncateId(`sha256:${'0123456789ab'.repeat(5)}abcd`), '0123456789ab');
});
