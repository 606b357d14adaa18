// The compose CLI's pieces that need no daemon: docker's global flags before `compose`, the project flags
// before or after the verb, ps and ls rendering, log prefixes.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { parsePluginArgv, PluginArgvError } from '../../src/compose/cli/argv';
import { composeVerbOf, mergeProjectFlags } from '../../src/compose/cli/main';
import { LogPrinter, useColor } from '../../src/compose/cli/log-printer';
import { renderPs, statusFilter } from '../../src/compose/cli/commands/ps';
import { renderStacks, stacksOf, matchesName } from '../../src/compose/cli/commands/ls';
import { attachedServices } from '../../src/compose/cli/commands/up';
import { parseScale } from '../../src/compose/cli/commands/lifecycle';
import type { ProjectContainer } from '../../src/compose/project/operations';

test('plugin argv: docker global flags before compose choose the daemon', () => {
  assert.deepEqual(parsePluginArgv(['-H', 'unix:///x', 'compose', 'up', '-d']), { debug: false, host: 'unix:///x', args: ['up', '-d'] });
  assert.deepEqual(parsePluginArgv(['--host=tcp://h:1', '-D', '--context', 'c', '--config', '/cfg', '-l', 'debug', 'compose', 'ps']),
    { debug: true, host: 'tcp://h:1', context: 'c', config: '/cfg', args: ['ps'] });
  assert.deepEqual(parsePluginArgv(['-c', 'ctx', 'compose', '-H', 'x']), { debug: false, context: 'ctx', args: ['-H', 'x'] });
  assert.deepEqual(parsePluginArgv(['compose']), { debug: false, args: [] });
  assert.deepEqual(parsePluginArgv(['ps', '-a']).args, ['ps', '-a']);
  assert.throws(() => parsePluginArgv(['-H']), PluginArgvError);
  assert.throws(() => parsePluginArgv(['--bogus', 'compose']), PluginArgvError);
});

test('project flags: the verb found past them; given before and after the verb they add up', () => {
  assert.equal(composeVerbOf(['-f', 'a.yml', '-p', 'x', '--profile', 'p', 'up', '-d']), 'up');
  assert.equal(composeVerbOf(['--dry-run', 'ps']), 'ps');
  assert.equal(composeVerbOf(['-f', 'a.yml']), undefined);
  assert.deepEqual(mergeProjectFlags({ file: ['a.yml'], projectName: 'x' }, { file: ['b.yml'], projectName: 'y' }), { file: ['a.yml', 'b.yml'], projectName: 'y' });
});

const container = (over: Partial<ProjectContainer>): ProjectContainer => ({
  id: 'a'.repeat(64), name: 'app-web-1', service: 'web', number: 1, oneoff: false, image: 'busybox', command: 'httpd -f -p 8080 -h /www',
  created: 1_700_000_000, state: 'running', status: 'Up 5 seconds', health: '', exitCode: 0,
  labels: { 'com.docker.compose.project': 'app' }, ports: [{ IP: '0.0.0.0', PrivatePort: 8080, PublicPort: 8080, Type: 'tcp' }], networks: ['app_default'], ...over,
});

test('ps: Compose v2 columns, JSON one object per line, quiet IDs, services', () => {
  const now = 1_700_000_010_000;
  const list = [container({}), container({ id: 'b'.repeat(64), name: 'app-cache-1', service: 'cache', ports: [], command: 'sh' })];
  const flags = { trunc: true, orphans: true };
  assert.equal(renderPs(list, flags, now),
    'NAME          IMAGE     COMMAND                  SERVICE   CREATED          STATUS         PORTS\n' +
    'app-web-1     busybox   "httpd -f -p 8080 -h…"   web       10 seconds ago   Up 5 seconds   0.0.0.0:8080->8080/tcp\n' +
    'app-cache-1   busybox   "sh"                     cache     10 seconds ago   Up 5 seconds   \n');
  const json = renderPs(list, { ...flags, format: 'json' }, now).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(json.length, 2);
  assert.equal(json[0]!.Name, 'app-web-1');
  assert.equal(json[0]!.Service, 'web');
  assert.equal(json[0]!.Project, 'app');
  assert.equal(json[0]!.ExitCode, 0);
  assert.deepEqual(json[0]!.Publishers, [{ URL: '0.0.0.0', TargetPort: 8080, PublishedPort: 8080, Protocol: 'tcp' }]);
  assert.equal(renderPs(list, { ...flags, quiet: true }), `${'a'.repeat(64)}\n${'b'.repeat(64)}\n`);
  assert.equal(renderPs(list, { ...flags, services: true }), 'web\ncache\n');
  assert.equal(renderPs(list, { ...flags, format: '{{.Service}}:{{.State}}' }), 'web:running\ncache:running\n');
  assert.deepEqual(statusFilter({ status: ['running'], filter: ['status=exited'] }), ['running', 'exited']);
  assert.throws(() => statusFilter({ status: ['bogus'] }), /invalid filter 'status=bogus'/);
});

test('ls: projects from labels with counted states and their files', () => {
  const c = (project: string, state: string, files?: string) => ({
    State: state, Labels: { 'com.docker.compose.project': project, ...(files ? { 'com.docker.compose.project.config_files': files } : {}) },
  });
  const stacks = stacksOf([c('web', 'running', '/a/compose.yaml'), c('app', 'running', '/b/compose.yaml'), c('app', 'exited', '/b/compose.yaml,/b/o.yaml'), c('app', 'running', '/b/compose.yaml'), c('x', 'running')]);
  assert.deepEqual(stacks, [
    { Name: 'app', Status: 'exited(1), running(2)', ConfigFiles: '/b/compose.yaml,/b/o.yaml' },
    { Name: 'web', Status: 'running(1)', ConfigFiles: '/a/compose.yaml' },
    { Name: 'x', Status: 'running(1)', ConfigFiles: 'N/A' },
  ]);
  assert.equal(renderStacks(stacks.slice(1, 2), 'table', false), 'NAME                STATUS              CONFIG FILES\nweb                 running(1)          /a/compose.yaml\n');
  assert.equal(renderStacks(stacks.slice(1, 2), 'json', false), '[{"Name":"web","Status":"running(1)","ConfigFiles":"/a/compose.yaml"}]\n');
  assert.equal(renderStacks(stacks, undefined, true), 'app\nweb\nx\n');
  assert.ok(matchesName(['^ap'], 'app'));
  assert.ok(!matchesName(['web'], 'app'));
});

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  return { stream: new Writable({ write: (c: Buffer, _e, cb) => { text += c.toString(); cb(); } }), text: () => text };
}

test('log prefixes: aligned to the longest name, one colour each, none when colour is off, partial lines held', () => {
  const out = sink();
  const err = sink();
  const p = new LogPrinter(out.stream, err.stream, { color: false, prefix: true });
  p.register('web-1');
  p.register('cache-1');
  p.write('web-1', 'stdout', 'hello\nwor');
  p.write('web-1', 'stdout', 'ld\n');
  p.write('cache-1', 'stderr', 'oops\n');
  p.write('web-1', 'stdout', 'tail');
  p.flush('web-1');
  p.status('web-1', 'exited with code 0');
  assert.equal(out.text(), 'web-1    | hello\nweb-1    | world\nweb-1    | tail\nweb-1 exited with code 0\n');
  assert.equal(err.text(), 'cache-1  | oops\n');

  const colored = sink();
  const c = new LogPrinter(colored.stream, colored.stream, { color: true, prefix: true });
  c.write('a-1', 'stdout', 'x\n');
  c.write('bb-1', 'stdout', 'y\n');
  assert.equal(colored.text(), '\x1b[36ma-1  | \x1b[0mx\n\x1b[33mbb-1  | \x1b[0my\n');

  const bare = sink();
  new LogPrinter(bare.stream, bare.stream, { color: false, prefix: false }).write('web-1', 'stdout', 'plain\n');
  assert.equal(bare.text(), 'plain\n');

  assert.equal(useColor(undefined, false, { isTTY: true }), true);
  assert.equal(useColor(undefined, false, { isTTY: false }), false);
  assert.equal(useColor('never', false, { isTTY: true }), false);
  assert.equal(useColor(undefined, true, { isTTY: true }), false);
  assert.equal(useColor('always', false, { isTTY: false }), true);
});

test('up: attached services and --scale', () => {
  assert.deepEqual([...attachedServices(['web', 'db'], [], undefined, ['db'])], ['web']);
  assert.deepEqual([...attachedServices(['web', 'db'], ['db'], undefined, undefined)], ['db']);
  assert.deepEqual([...attachedServices(['web', 'db'], [], ['web'], undefined)], ['web']);
  assert.deepEqual(parseScale(['web=3', 'db=0']), { web: 3, db: 0 });
  assert.throws(() => parseScale(['web']), /SERVICE=NUM/);
});
