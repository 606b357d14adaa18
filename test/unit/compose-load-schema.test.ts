// Bad compose files: YAML errors, schema errors (unknown key, wrong type), bad ports and volumes, unknown
// references and cycles; each a ComposeFileError naming the file, line, path and problem.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ComposeFileError } from '../../src/compose/load/index';
import { loadText } from './compose-load-fixture';

async function failure(compose: string, others: Record<string, string> = {}): Promise<ComposeFileError> {
  try {
    await loadText(compose, others);
  } catch (e) {
    assert.ok(e instanceof ComposeFileError, String(e));
    assert.equal(e.exitCode, 15);
    return e;
  }
  assert.fail('expected a ComposeFileError');
}

test('an unknown key names the key, the path and the line', async () => {
  const e = await failure('services:\n  x:\n    image: busybox\n    bogus_key: 1\n');
  assert.equal(e.path, 'services.x');
  assert.equal(e.line, 4);
  assert.equal(e.problem, 'additional property bogus_key is not allowed');
  assert.match(e.message, /compose\.yaml:4: services\.x: additional property bogus_key is not allowed/);
});

test('an unknown top-level key', async () => {
  const e = await failure('services: {}\nsevices:\n  x: {}\n');
  assert.equal(e.path, '(root)');
  assert.equal(e.line, 2);
  assert.match(e.problem, /sevices/);
});

test('a wrong type names the path in dotted form with list indices', async () => {
  const e = await failure('services:\n  web:\n    image: busybox\n    ports:\n      - target: 80\n        published: 8080\n        bogus: 1\n');
  assert.equal(e.path, 'services.web.ports[0]');
  assert.equal(e.line, 7);
  assert.match(e.problem, /bogus/);
  const t = await failure('services:\n  web:\n    image: busybox\n    privileged: maybe\n');
  assert.equal(t.path, 'services.web.privileged');
  assert.match(t.problem, /must be a boolean/);
  const s = await failure('services:\n  web:\n    image: [a, b]\n');
  assert.equal(s.path, 'services.web.image');
  assert.equal(s.line, 3);
});

test('x-* extensions are allowed where the schema allows them; version is accepted and ignored', async () => {
  const { project } = await loadText('version: "3.8"\nx-common: &c\n  image: busybox\nservices:\n  web:\n    <<: *c\n    x-note: hi\n');
  assert.equal(project.services.web.image, 'busybox');
  assert.deepEqual(project.extensions, { 'x-common': { image: 'busybox' } });
});

test('a YAML syntax error names the file and line', async () => {
  const e = await failure('services:\n  web:\n    image: busybox\n   ports: [\n');
  assert.match(e.file ?? '', /compose\.yaml$/);
  assert.ok(e.line !== undefined && e.line >= 3, String(e.line));
  assert.match(e.problem, /^yaml: /);
  const dup = await failure('services:\n  web:\n    image: a\n    image: b\n');
  assert.match(dup.problem, /unique|duplicate/i);
});

test('a port or volume that does not parse', async () => {
  const p = await failure('services:\n  web:\n    image: busybox\n    ports:\n      - "80"\n      - "abc:80"\n');
  assert.equal(p.path, 'services.web.ports[1]');
  assert.equal(p.line, 6);
  assert.match(p.problem, /invalid port "abc:80": invalid hostPort: abc/);
  const r = await failure('services:\n  web:\n    image: busybox\n    ports: ["8080-8082:80-81"]\n');
  assert.match(r.problem, /invalid ranges/);
  const v = await failure('services:\n  web:\n    image: busybox\n    volumes: ["a:/b:bogus"]\nvolumes: {a: {}}\n');
  assert.equal(v.path, 'services.web.volumes[0]');
  assert.match(v.problem, /unknown option bogus/);
});

test('unknown network, volume, secret, config and service are named', async () => {
  const cases: [string, RegExp][] = [
    ['services:\n  web: {image: a, networks: [nope]}\n', /service "web" refers to undefined network nope/],
    ['services:\n  web: {image: a, volumes: ["nope:/x"]}\n', /service "web" refers to undefined volume nope/],
    ['services:\n  web: {image: a, secrets: [nope]}\n', /service "web" refers to undefined secret nope/],
    ['services:\n  web: {image: a, configs: [nope]}\n', /service "web" refers to undefined config nope/],
    ['services:\n  web: {image: a, depends_on: [nope]}\n', /service "web" depends on undefined service "nope"/],
  ];
  for (const [compose, re] of cases) assert.match((await failure(compose)).message, re);
});

test('a depends_on cycle names the services', async () => {
  const e = await failure('services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [c]}\n  c: {image: x, depends_on: [a]}\n');
  assert.match(e.problem, /dependency cycle detected: a -> b -> c -> a/);
  const self = await failure('services:\n  a: {image: x, depends_on: [a]}\n');
  assert.match(self.problem, /cycle.*a -> a/);
});

test('the top level must be a mapping; a missing -f file is named', async () => {
  assert.match((await failure('- a\n- b\n')).problem, /top-level object must be a mapping/);
  await assert.rejects(loadText('services: {}\n', {}, { files: ['missing.yaml'] }), (e) => e instanceof ComposeFileError && /missing\.yaml/.test(e.message) && /no such file/.test(e.message));
});

test('scale and deploy.replicas must agree', async () => {
  assert.match((await failure('services:\n  a: {image: x, scale: 2, deploy: {replicas: 3}}\n')).problem, /distinct values/);
});

test('a service needs an image or a build', async () => {
  assert.match((await failure('services:\n  a: {command: x}\n')).message, /services\.a: service "a" has neither an image nor a build context specified/);
});

test('the project name from name: is interpolated once ($$ stays a dollar)', async () => {
  const { project } = await loadText('name: app$$x\nservices: {}\n');
  assert.equal(project.name, 'appx');
});
