// Table tests of the image reference grammar (src/wire/reference.ts, distribution/reference's), which the daemon and
// the CLI (src/cli/reference.ts) now share. The cases marked "was:" are where the CLI's looser copy disagreed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseNormalizedNamed, parseDockerRef } from '../../src/wire/reference';
import { familiarWithTag, parseReference, registryOf } from '../../src/cli/reference';

const DIGEST = `sha256:${'a'.repeat(64)}`;

test('normalised names, as the daemon and the CLI read them', () => {
  const cases: [string, string, string | undefined, string | undefined][] = [
    ['busybox', 'docker.io/library/busybox', undefined, undefined],
    ['busybox:1.36', 'docker.io/library/busybox', '1.36', undefined],
    ['bar/baz', 'docker.io/bar/baz', undefined, undefined],
    ['localhost/x', 'localhost/x', undefined, undefined],
    ['localhost:5000/a/b:c', 'localhost:5000/a/b', 'c', undefined],
    ['registry.example.com/team/app@' + DIGEST, 'registry.example.com/team/app', undefined, DIGEST],
    ['busybox:1@' + DIGEST, 'docker.io/library/busybox', '1', DIGEST],
    ['[::1]:5000/a', '[::1]:5000/a', undefined, undefined],
    // was (CLI): index.docker.io/busybox stayed as written; distribution folds the legacy domain into docker.io.
    ['index.docker.io/busybox', 'docker.io/library/busybox', undefined, undefined],
    // was (CLI): docker.io/Foo/bar; an upper-case first component is a domain to distribution.
    ['Foo/bar', 'Foo/bar', undefined, undefined],
  ];
  for (const [s, repository, tag, digest] of cases) {
    const r = parseNormalizedNamed(s);
    assert.deepEqual([r.name, r.tag, r.digest], [repository, tag, digest], s);
    assert.deepEqual(parseReference(s), { repository, domain: r.domain, tag, digest }, s);
  }
});

test('bad references fail in the CLI with distribution\'s words, as in docker (was: sent on to the daemon)', () => {
  const cases: [string, string][] = [
    ['Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase'],
    ['busybox:bad tag', 'invalid reference format'],
    ['a::b', 'invalid reference format'],
    ['', 'invalid reference format'],
    ['busybox@sha256:abc', 'invalid reference format'],
    ['a'.repeat(64), `invalid repository name (${'a'.repeat(64)}), cannot specify 64-byte hexadecimal strings`],
  ];
  for (const [s, message] of cases) {
    assert.throws(() => parseNormalizedNamed(s), { message }, s);
    assert.throws(() => parseReference(s), { message }, s);
  }
});

test('familiar forms and registries', () => {
  const cases: [string, string, string][] = [
    ['busybox', 'busybox:latest', 'docker.io'],
    ['docker.io/library/busybox:1', 'busybox:1', 'docker.io'],
    ['bar/baz', 'bar/baz:latest', 'docker.io'],
    ['localhost:5000/a', 'localhost:5000/a:latest', 'localhost:5000'],
    [`busybox@${DIGEST}`, `busybox@${DIGEST}`, 'docker.io'],
  ];
  for (const [s, familiar, registry] of cases) {
    assert.equal(familiarWithTag(s), familiar, s);
    assert.equal(parseDockerRef(s).familiar(), familiar, s);
    assert.equal(registryOf(s), registry, s);
  }
});
