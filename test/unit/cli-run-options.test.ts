// The run/create flag → create-request mapping, checked against what the docker CLI v28 sent for the same argv.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tempDir } from '../helpers/tmp';
import * as path from 'node:path';
import { parseRunArgs } from '../../src/cli/commands/run';
import { parsePortSpecs, parseMount, parseRestartPolicy, expandEnv } from '../../src/cli/container-options';
import { unitFixtures } from '../helpers/paths';

/** Zero values are what Go sends for unset fields; they carry no meaning, so both sides drop them. */
function normalize(v: unknown): unknown {
  if (Array.isArray(v)) {
    const a = v.map(normalize).filter((x) => x !== undefined);
    return a.length ? a : undefined;
  }
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const n = normalize((v as Record<string, unknown>)[k]);
      if (n !== undefined) o[k] = n;
    }
    return Object.keys(o).length ? o : undefined;
  }
  if (v === null || v === '' || v === 0 || v === false) return undefined;
  return v;
}

/** A fixture: the argv given to the docker CLI v28, its environment and env file, and the requests it sent. */
interface RunFixture {
  argv: string[];
  env: NodeJS.ProcessEnv;
  envFile: string;
  requests: Array<{ url: string; body: { Entrypoint?: unknown; Cmd?: unknown } }>;
}

const fixtures = fs.readdirSync(unitFixtures).filter((f) => /^cli-run-.*\.json$/.test(f));

for (const file of fixtures) {
  test(`create body matches docker CLI: ${file}`, () => {
    const fx = JSON.parse(fs.readFileSync(path.join(unitFixtures, file), 'utf8')) as RunFixture;
    const dir = tempDir('berth-cli-');
    const envFile = path.join(dir, 'envfile');
    fs.writeFileSync(envFile, fx.envFile);
    const argv = fx.argv.map((a) => (a === 'ENVFILE' ? envFile : a));
    const verb = argv[0] as 'run' | 'create';
    const req = parseRunArgs(verb, argv.slice(1), fx.env);
    const create = fx.requests.find((r) => r.url.includes('/containers/create'))!;
    const url = new URL(create.url, 'http://x');
    assert.equal(req.name, url.searchParams.get('name') ?? undefined);
    assert.equal(req.platform, url.searchParams.get('platform') ?? undefined);
    // Docker sends -1 for "unset" swappiness; so do we, and both normalize the same.
    assert.deepEqual(normalize(req.body), normalize(create.body));
    // The keys docker treats as meaningful even when empty.
    assert.deepEqual(req.body.Entrypoint, create.body.Entrypoint);
    assert.deepEqual(req.body.Cmd, create.body.Cmd);
  });
}

test('ports: ranges, protocols, host IPs', () => {
  const { exposed, bindings } = parsePortSpecs(['127.0.0.1:8080:80/udp', '9000-9001:9000-9001', '5000', '[::1]:53:53', '8000-8002:80']);
  assert.deepEqual(Object.keys(exposed).sort(), ['5000/tcp', '53/tcp', '80/tcp', '80/udp', '9000/tcp', '9001/tcp']);
  assert.deepEqual(bindings['9001/tcp'], [{ HostIp: '', HostPort: '9001' }]);
  assert.deepEqual(bindings['53/tcp'], [{ HostIp: '::1', HostPort: '53' }]);
  assert.deepEqual(bindings['80/tcp'], [{ HostIp: '', HostPort: '8000-8002' }]);
});

test('mounts, restart policies, env', () => {
  assert.deepEqual(parseMount('type=bind,src=/a,dst=/b,ro=false,bind-propagation=rshared'),
    { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: false, BindOptions: { Propagation: 'rshared' } });
  assert.throws(() => parseMount('src=/a'), /target is required/);
  assert.deepEqual(parseRestartPolicy('on-failure:3'), { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(parseRestartPolicy('unless-stopped'), { Name: 'unless-stopped', MaximumRetryCount: 0 });
  assert.throws(() => parseRestartPolicy('always:2'));
  assert.equal(expandEnv('HOME', { HOME: '/root' }), 'HOME=/root');
  assert.equal(expandEnv('NOPE', {}), 'NOPE');
});

test('--rm conflicts with --restart', () => {
  assert.throws(() => parseRunArgs('run', ['--rm', '--restart', 'always', 'busybox']), /cannot specify both --restart and --rm/);
});

test('flags stop at the image; later dashes belong to the command', () => {
  const req = parseRunArgs('run', ['-it', '--rm', 'busybox', 'sh', '-c', 'echo -d', '--rm'], {});
  assert.deepEqual(req.body.Cmd, ['sh', '-c', 'echo -d', '--rm']);
  assert.equal(req.body.Tty, true);
  assert.equal(req.body.OpenStdin, true);
  assert.equal(req.body.HostConfig!.AutoRemove, true);
});
