// Compose's interpolation: every substitution form, nesting, `$$`, errors naming the variable and the path,
// the shell winning over .env, and where each variable's value came from.
import test from 'node:test';
import assert from 'node:assert/strict';
import { substitute, TemplateError, VariableLog, type Lookup } from '../../src/compose/load/interpolate';
import { ComposeFileError } from '../../src/compose/load/index';
import { loadText } from './compose-load-fixture';

const vars: Record<string, string> = { SET: 'value', EMPTY: '', B: 'bee' };
const lookup: Lookup = (n) => (n in vars ? { value: vars[n], source: 'shell' } : undefined);
const sub = (s: string) => substitute(s, lookup);

test('every form of substitution', () => {
  const rows: [string, string][] = [
    ['$SET', 'value'],
    ['${SET}', 'value'],
    ['x${SET}y', 'xvaluey'],
    ['$SET-x', 'value-x'],
    ['${UNSET}', ''],
    ['$UNSET', ''],
    ['${UNSET:-d}', 'd'],
    ['${EMPTY:-d}', 'd'],
    ['${EMPTY-d}', ''],
    ['${UNSET-d}', 'd'],
    ['${SET:-d}', 'value'],
    ['${SET:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET+alt}', ''],
    ['${SET:?boom}', 'value'],
    ['${EMPTY?boom}', ''],
    ['${UNSET:-${B}}', 'bee'],
    ['${UNSET:-${ALSO_UNSET:-deep}}', 'deep'],
    ['${UNSET:-a b c}', 'a b c'],
    ['$$SET', '$SET'],
    ['$${SET}', '${SET}'],
    ['a $$ b', 'a $ b'],
    ['${UNSET:-$$}', '$'],
    ['no dollars', 'no dollars'],
  ];
  for (const [input, want] of rows) assert.equal(sub(input), want, input);
});

test('required variables and malformed templates', () => {
  assert.throws(() => sub('${UNSET:?need UNSET}'), (e) => e instanceof TemplateError && /required variable UNSET is missing a value: need UNSET/.test(e.message));
  assert.throws(() => sub('${EMPTY:?empty}'), /required variable EMPTY/);
  assert.throws(() => sub('${UNSET?}'), /required variable UNSET is missing a value$/);
  assert.throws(() => sub('${SET'), /invalid interpolation format/);
  assert.throws(() => sub('${}'), /invalid interpolation format/);
  assert.throws(() => sub('cost $ 5'), /invalid interpolation format/);
  assert.throws(() => sub('${SET!x}'), /invalid interpolation format/);
});

test('the log records each variable once with its source and default', () => {
  const log = new VariableLog();
  substitute('${SET} ${UNSET:-dflt} $B ${SET:?x}', lookup, log);
  const byName = Object.fromEntries(log.list().map((v) => [v.name, v]));
  assert.deepEqual(byName.SET, { name: 'SET', value: 'value', source: 'shell', required: true });
  assert.equal(byName.UNSET.source, 'default');
  assert.equal(byName.UNSET.value, 'dflt');
  assert.equal(byName.UNSET.defaultValue, 'dflt');
  assert.equal(byName.B.value, 'bee');
});

test('files: the shell wins over .env, .env over defaults, and casts after substitution', async () => {
  const { project, variables } = await loadText(
    'services:\n  web:\n    image: "busybox:${TAG:-latest}"\n    environment:\n      FROM_ENV: $ONLY_DOTENV\n      BOTH: ${BOTH}\n    deploy:\n      replicas: ${N:-2}\n    read_only: ${RO}\n',
    { '.env': 'BOTH=dotenv\nONLY_DOTENV=yes\nRO=true\n' },
    { env: { BOTH: 'shell' } },
  );
  const web = project.services.web;
  assert.equal(web.image, 'busybox:latest');
  assert.deepEqual(web.environment, { FROM_ENV: 'yes', BOTH: 'shell' });
  assert.equal(web.deploy?.replicas, 2);
  assert.equal(web.scale, 2);
  assert.equal(web.read_only, true);
  const src = Object.fromEntries(variables.map((v) => [v.name, v.source]));
  assert.deepEqual(src, { BOTH: 'shell', N: 'default', ONLY_DOTENV: '.env', RO: '.env', TAG: 'default' });
});

test('--env-file replaces .env and is named as the source', async () => {
  const { project, variables, envFiles } = await loadText('services:\n  web:\n    image: $IMG\n', { '.env': 'IMG=dotenv\n', 'other.env': 'IMG=other\n' }, { envFiles: ['other.env'] });
  assert.equal(project.services.web.image, 'other');
  assert.equal(variables[0].source, '--env-file');
  assert.equal(envFiles.length, 1);
  assert.match(envFiles[0], /other\.env$/);
});

test('a missing required variable is a ComposeFileError naming the variable, message, path and line', async () => {
  await assert.rejects(loadText('services:\n  web:\n    image: busybox\n    environment:\n      X: ${X:?need X}\n'), (e) => {
    assert.ok(e instanceof ComposeFileError);
    assert.equal(e.path, 'services.web.environment.X');
    assert.equal(e.line, 5);
    assert.match(e.message, /compose\.yaml:5: services\.web\.environment\.X: required variable X is missing a value: need X/);
    return true;
  });
});

test('keys are not interpolated; --no-interpolate keeps templates', async () => {
  const { project } = await loadText('services:\n  web:\n    image: ${IMG:-busybox}\n    labels:\n      $KEY: v\n', {}, { interpolate: false });
  assert.equal(project.services.web.image, '${IMG:-busybox}');
  assert.deepEqual(project.services.web.labels, { $KEY: 'v' });
});
