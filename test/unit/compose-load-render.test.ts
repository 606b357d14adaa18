// `config` output, and behaviours checked against Compose v2's own e2e scenarios (pkg/e2e config_test.go,
// compose_test.go's dotenv cases, env_file_test.go), re-created here in temp dirs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { renderConfig, renderServices, renderVariables, renderVolumes } from '../../src/compose/load/render';
import { load, loadText, projectDir } from './compose-load-fixture';

const PORTS = 'services:\n  test:\n    image: nginx\n    ports:\n      - ${PORT:-8080}:80\n';

test('config YAML: name first, ports in long form with Compose field order, published as a string', async () => {
  const { project } = await loadText(PORTS + 'volumes:\n  data: {}\n');
  const yaml = renderConfig(project);
  assert.ok(yaml.startsWith('name: app\nservices:\n  test:\n'), yaml);
  assert.ok(yaml.includes('    ports:\n      - mode: ingress\n        target: 80\n        published: "8080"\n        protocol: tcp\n'), yaml);
  assert.ok(yaml.indexOf('\nnetworks:') < yaml.indexOf('\nvolumes:'));
  assert.ok(!yaml.includes('working_dir') && !yaml.includes('disabled_services'));
  const json = JSON.parse(renderConfig(project, 'json'));
  assert.deepEqual(Object.keys(json), ['name', 'services', 'networks', 'volumes']);
  assert.equal(json.services.test.ports[0].published, '8080');
  assert.equal(json.services.test.name, undefined);
});

test('config --no-interpolate keeps the variable expression', async () => {
  const { project } = await loadText(PORTS, {}, { interpolate: false });
  assert.ok(renderConfig(project).includes('- ${PORT:-8080}:80'));
});

test('config --variables: value, source and default, in a table and in Compose\'s JSON shape', async () => {
  const { variables } = await loadText(PORTS + '    environment:\n      T: $TOKEN\n', { '.env': 'TOKEN=abc\n' });
  const table = renderVariables(variables);
  assert.match(table, /^NAME\s+REQUIRED\s+VALUE\s+SOURCE\s+DEFAULT VALUE\n/);
  assert.match(table, /\nPORT\s+false\s+8080\s+default\s+8080\n/);
  assert.match(table, /\nTOKEN\s+false\s+abc\s+\.env\n/);
  const json = JSON.parse(renderVariables(variables, 'json'));
  assert.deepEqual(json.PORT, { Name: 'PORT', DefaultValue: '8080', PresenceValue: '', Required: false, Value: '8080', Source: 'default' });
  assert.match(renderVariables(variables, 'yaml'), /PORT:\n {4}name: PORT\n {4}defaultvalue: "8080"/);
});

test('config --services and --volumes', async () => {
  const { project } = await loadText('services:\n  b: {image: x}\n  a: {image: x, volumes: [v1:/x]}\nvolumes:\n  v1: {}\n  v2: {}\n');
  assert.equal(renderServices(project), 'b\na\n');
  assert.equal(renderVolumes(project), 'v1\nv2\n');
});

test('e2e dotenv: COMPOSE_FILE and COMPOSE_PROFILES from the .env of cwd, the project dir .env beside it', async () => {
  const dir = projectDir({
    '.env': 'COMPOSE_FILE="${COMPOSE_FILE:-development/compose.yaml}"\nIMAGE_NAME=test\nCOMPOSE_PROFILES=test',
    'development/.env': 'IMAGE_NAME="${IMAGE_NAME:-backend}"\nIMAGE_TAG="${IMAGE_TAG:-latest}"\n',
    'development/compose.yaml': 'services:\n  backend:\n    image: $IMAGE_NAME:$IMAGE_TAG\n  test:\n    profiles:\n      - test\n    image: enabled:profile',
  });
  const yaml = renderConfig((await load(dir)).project);
  assert.ok(yaml.includes('image: test:latest'), yaml);
  assert.ok(yaml.includes('image: enabled:profile'), yaml);
  // --project-directory development: only its .env, so the default applies.
  const byDir = await load(dir, { projectDirectory: join(dir, 'development'), files: [join(dir, 'development/compose.yaml')] });
  assert.equal(byDir.project.services.backend.image, 'backend:latest');
});

test('e2e env_file: a missing env file only fails the services a command acts on', async () => {
  const files = {
    'compose.yaml': 'services:\n  serviceA:\n    image: nginx:latest\n  serviceB:\n    image: nginx:latest\n    env_file:\n      - /doesnotexist/.env\n  serviceC:\n    profiles: ["test"]\n    image: alpine\n    env_file: test.env\n',
    'test.env': 'FOO=BAR\n',
  };
  const { project } = await loadText(files['compose.yaml'], { 'test.env': files['test.env'] }, { services: ['serviceA'] });
  assert.equal(project.services.serviceA.image, 'nginx:latest');
  await assert.rejects(loadText(files['compose.yaml'], { 'test.env': files['test.env'] }, { services: ['serviceB'] }), /env file \/doesnotexist\/\.env not found/);
  await assert.rejects(loadText(files['compose.yaml'], { 'test.env': files['test.env'] }), /env file \/doesnotexist\/\.env not found/);
});

test('e2e comments in an env file: an unquoted # after a non-space is kept', async () => {
  const { project } = await loadText('services:\n  s:\n    image: x\n    env_file: [c.env]\n', { 'c.env': 'COMMENT=1234#5\nNO_COMMENT="1234#5"\nTRAIL=1234 # gone\n' });
  assert.deepEqual(project.services.s.environment, { COMMENT: '1234#5', NO_COMMENT: '1234#5', TRAIL: '1234' });
});
