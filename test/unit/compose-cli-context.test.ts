// The compose plugin finds the daemon as the docker CLI does: -H, --context, DOCKER_HOST, DOCKER_CONTEXT, config.json.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContextNotFoundError, DOCKER_DEFAULT_HOST, resolveDaemonHost } from '../../src/compose/cli/context';

function configDir(current?: string, contexts: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-ctx-'));
  if (current) fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ currentContext: current }));
  for (const [name, host] of Object.entries(contexts)) {
    const meta = path.join(dir, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'));
    fs.mkdirSync(meta, { recursive: true });
    fs.writeFileSync(path.join(meta, 'meta.json'), JSON.stringify({ Name: name, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }));
  }
  return dir;
}

test('-H wins over everything', () => {
  const dir = configDir('ctx', { ctx: 'unix:///ctx.sock' });
  assert.equal(resolveDaemonHost({ host: 'unix:///flag.sock', context: 'ctx' }, { DOCKER_CONFIG: dir, DOCKER_HOST: 'unix:///env.sock' }), 'unix:///flag.sock');
});

test('--context beats DOCKER_HOST; DOCKER_HOST beats DOCKER_CONTEXT and the config', () => {
  const dir = configDir('cur', { ctx: 'unix:///ctx.sock', other: 'tcp://1.2.3.4:2375', cur: 'unix:///cur.sock' });
  const env = { DOCKER_CONFIG: dir, DOCKER_HOST: 'unix:///env.sock', DOCKER_CONTEXT: 'other' };
  assert.equal(resolveDaemonHost({ context: 'ctx' }, env), 'unix:///ctx.sock');
  assert.equal(resolveDaemonHost({}, env), 'unix:///env.sock');
  assert.equal(resolveDaemonHost({}, { DOCKER_CONFIG: dir, DOCKER_CONTEXT: 'other' }), 'tcp://1.2.3.4:2375');
  assert.equal(resolveDaemonHost({}, { DOCKER_CONFIG: dir }), 'unix:///cur.sock');
});

test('--config names the config directory; no config and no env give the default socket', () => {
  const dir = configDir('cur', { cur: 'unix:///cur.sock' });
  assert.equal(resolveDaemonHost({ config: dir }, { HOME: '/nonexistent' }), 'unix:///cur.sock');
  assert.equal(resolveDaemonHost({}, { HOME: '/nonexistent' }), DOCKER_DEFAULT_HOST);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-home-'));
  fs.renameSync(dir, path.join(home, '.docker'));
  assert.equal(resolveDaemonHost({}, { HOME: home }), 'unix:///cur.sock');
});

test('context "default" is DOCKER_HOST or the default socket; an unknown context is an error naming it', () => {
  const dir = configDir('default');
  assert.equal(resolveDaemonHost({}, { DOCKER_CONFIG: dir }), DOCKER_DEFAULT_HOST);
  assert.equal(resolveDaemonHost({ context: 'default' }, { DOCKER_CONFIG: dir }), DOCKER_DEFAULT_HOST);
  assert.throws(() => resolveDaemonHost({ context: 'nope' }, { DOCKER_CONFIG: dir }), (e: unknown) => e instanceof ContextNotFoundError && /"nope"/.test(e.message));
  fs.writeFileSync(path.join(dir, 'config.json'), '{not json');
  assert.equal(resolveDaemonHost({}, { DOCKER_CONFIG: dir }), DOCKER_DEFAULT_HOST);
});
