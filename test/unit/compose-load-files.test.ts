// Which files and names a project is made of: discovery upwards, extends, include, profiles, project name.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ComposeFileError } from '../../src/compose/load/index';
import { normalizeProjectName } from '../../src/compose/load/project-name';
import { load, loadText, projectDir } from './compose-load-fixture';

test('discovery looks in cwd then its parents, preferring compose.yaml', async () => {
  const dir = projectDir({ 'docker-compose.yml': 'services:\n  old: {image: a}\n', 'compose.yaml': 'services:\n  new: {image: a}\n' });
  mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
  const { project } = await load(join(dir, 'sub', 'deeper'));
  assert.deepEqual(Object.keys(project.services), ['new']);
  assert.equal(project.working_dir, dir);
  assert.deepEqual(project.config_files, [join(dir, 'compose.yaml')]);
});

test('no file found is an error', async () => {
  const dir = projectDir({});
  await assert.rejects(load(join(dir)), (e) => e instanceof ComposeFileError && /no configuration file provided/.test(e.message));
});

test('-f - reads the given stdin text', async () => {
  const dir = projectDir({});
  const { project } = await load(dir, { files: ['-'], stdin: 'services:\n  s: {image: a}\n' });
  assert.equal(project.services.s.image, 'a');
  assert.equal(project.working_dir, dir);
});

test('project name: -p, COMPOSE_PROJECT_NAME (shell or .env), name:, directory', async () => {
  const files = { 'compose.yaml': 'name: From_File\nservices: {}\n' };
  assert.equal((await load(projectDir(files), { projectName: 'given' })).project.name, 'given');
  assert.equal((await load(projectDir(files), { env: { COMPOSE_PROJECT_NAME: 'shellname' } })).project.name, 'shellname');
  assert.equal((await load(projectDir({ ...files, '.env': 'COMPOSE_PROJECT_NAME=dotenvname\n' }))).project.name, 'dotenvname');
  assert.equal((await load(projectDir(files))).project.name, 'from_file');
  assert.equal((await load(projectDir({ 'compose.yaml': 'name: ${N:-interp}\nservices: {}\n' }))).project.name, 'interp');
  assert.equal((await load(projectDir({ 'compose.yaml': 'services: {}\n' }, 'My.App_Dir'))).project.name, 'myapp_dir');
  await assert.rejects(load(projectDir(files), { projectName: 'Bad Name' }), /invalid project name "Bad Name"/);
  assert.equal(normalizeProjectName('--Foo.Bar-1'), 'foobar-1');
});

test('extends in the same file and from another file, paths against the extended file', async () => {
  const dir = projectDir({
    'compose.yaml': `services:
  base:
    image: busybox
    environment: [A=1]
    command: base
  child:
    extends: base
    environment: [B=2]
  remote:
    extends:
      file: common/base.yaml
      service: tmpl
    ports: ["81:81"]
`,
    'common/base.yaml': `services:
  root:
    image: alpine
    labels: [from=root]
  tmpl:
    extends: root
    build: ./ctx
    env_file: [vars.env]
    volumes: [./data:/data]
    ports: ["80:80"]
`,
    'common/vars.env': 'FROM_FILE=1\n',
  });
  const { project } = await load(dir);
  assert.deepEqual(project.services.child.environment, { A: '1', B: '2' });
  assert.deepEqual(project.services.child.command, ['base']);
  assert.equal(project.services.child.extends, undefined);
  const remote = project.services.remote;
  assert.equal(remote.image, 'alpine');
  assert.deepEqual(remote.labels, { from: 'root' });
  assert.equal(remote.build?.context, join(dir, 'common', 'ctx'));
  assert.equal(remote.volumes?.[0].source, join(dir, 'common', 'data'));
  assert.deepEqual(remote.environment, { FROM_FILE: '1' });
  assert.deepEqual(remote.ports?.map((p) => p.target), [80, 81]);
});

test('an extends cycle and a missing base are errors', async () => {
  await assert.rejects(loadText('services:\n  a: {extends: b, image: x}\n  b: {extends: a}\n'), /extends cycle/);
  await assert.rejects(loadText('services:\n  a: {extends: nope, image: x}\n'), /service "nope" not found/);
  const dir = projectDir({
    'compose.yaml': 'services:\n  a: {extends: {file: other.yaml, service: b}}\n',
    'other.yaml': 'services:\n  b: {extends: {file: compose.yaml, service: a}}\n',
  });
  await assert.rejects(load(dir), /extends cycle/);
});

test('include: local files with their own project directory and env_file', async () => {
  const dir = projectDir({
    'compose.yaml': `include:
  - inc/db.yaml
  - path: other/cache.yaml
    env_file: other/cache.env
services:
  web:
    image: web
    depends_on: [db, cache]
`,
    'inc/db.yaml': 'services:\n  db:\n    image: postgres:${PG:-16}\n    volumes: [./pgdata:/var/lib/postgresql/data]\n',
    'inc/.env': 'PG=15\n',
    'other/cache.yaml': 'services:\n  cache: {image: "redis:${REDIS}"}\nvolumes:\n  cachedata: {}\n',
    'other/cache.env': 'REDIS=7\n',
  });
  const { project } = await load(dir);
  assert.deepEqual(Object.keys(project.services).sort(), ['cache', 'db', 'web']);
  assert.equal(project.services.db.image, 'postgres:15');
  assert.equal(project.services.db.volumes?.[0].source, join(dir, 'inc', 'pgdata'));
  assert.equal(project.services.cache.image, 'redis:7');
  assert.equal(project.volumes.cachedata.name, 'app_cachedata');
});

test('include: a conflicting definition and a cycle are errors', async () => {
  const conflict = projectDir({ 'compose.yaml': 'include: [b.yaml]\nservices:\n  s: {image: a}\n', 'b.yaml': 'services:\n  s: {image: b}\n' });
  await assert.rejects(load(conflict), /defines conflicting service s/);
  const cycle = projectDir({ 'compose.yaml': 'include: [b.yaml]\nservices: {}\n', 'b.yaml': 'include: [compose.yaml]\nservices: {}\n' });
  await assert.rejects(load(cycle), /include cycle/);
});

test('profiles: --profile, COMPOSE_PROFILES, named services and their dependencies', async () => {
  const compose = `services:
  web: {image: a}
  debug: {image: a, profiles: [dev]}
  tool: {image: a, profiles: [ops], depends_on: [helper]}
  helper: {image: a, profiles: [never]}
`;
  const names = async (opts: Parameters<typeof loadText>[2]) => {
    const { project } = await loadText(compose, {}, opts);
    return [Object.keys(project.services).sort(), Object.keys(project.disabled_services).sort()];
  };
  assert.deepEqual(await names({}), [['web'], ['debug', 'helper', 'tool']]);
  assert.deepEqual(await names({ profiles: ['dev'] }), [['debug', 'web'], ['helper', 'tool']]);
  assert.deepEqual(await names({ env: { COMPOSE_PROFILES: 'dev,ops' } }), [['debug', 'helper', 'tool', 'web'], []]);
  assert.deepEqual(await names({ services: ['tool'] }), [['helper', 'tool', 'web'], ['debug']]);
  assert.deepEqual(await names({ profiles: ['*'] }), [['debug', 'helper', 'tool', 'web'], []]);
  assert.deepEqual(await names({ profiles: ['dev'], env: { COMPOSE_PROFILES: 'ops' } }), [['debug', 'web'], ['helper', 'tool']]);
});
