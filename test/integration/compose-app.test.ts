// Issue 12's "done when", through the real docker CLI v28 and this checkout's plugin (installed in a temporary
// DOCKER_CONFIG by the script make up uses) against a TestDaemon: the seed talks' app, convergence, depends_on
// conditions, profiles, several -f files, .env interpolation, run --rm, orphans, and bad compose files.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { DOCKER, ROOT, TestDaemon, type RunResult } from '../helpers/daemon';

const SEED_DOCKERFILE = 'FROM busybox\nRUN mkdir -p /www && echo compose-ok > /www/index.html\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n';

function seedCompose(): string {
  return `services:
  web:
    build: ./web
    ports: ["127.0.0.1:\${WEB_PORT:-8080}:8080"]
    environment:
      GREETING: \${GREETING:-hello}
    depends_on:
      cache: {condition: service_healthy}
    volumes: [data:/data]
  cache:
    image: busybox
    command: ["sh", "-c", "mkdir -p /w && echo pong > /w/ping && exec httpd -f -p 6379 -h /w"]
    healthcheck: {test: ["CMD", "wget", "-qO-", "http://127.0.0.1:6379/ping"], interval: 1s, retries: 20}
volumes:
  data: {}
`;
}

/** A host port nobody else in the suite picks the same way at the same moment. */
function freePort(): number {
  return 20000 + ((process.pid * 7 + Math.floor(Math.random() * 1000)) % 20000);
}

function httpGet(port: number): string {
  const r = spawnSync('curl', ['-sf', '-m', '3', `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
  return r.stdout;
}

test('docker compose runs a whole app through the plugin', { timeout: 600_000 }, async (t) => {
  const d = new TestDaemon('compose-app');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  execFileSync(path.join(ROOT, 'scripts/install-compose-plugin.sh'), [path.join(d.env.DOCKER_CONFIG!, 'cli-plugins', 'docker-compose')]);
  const apps: string[] = [];
  t.after(() => { for (const a of apps) fs.rmSync(a, { recursive: true, force: true }); });

  /** A project directory with these files. */
  const appDir = (files: Record<string, string>): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-app-'));
    apps.push(dir);
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), text);
    }
    return dir;
  };
  /** `docker compose ARGS` run in DIR, as a user types it there. */
  const dc = (dir: string, args: string[], env: NodeJS.ProcessEnv = {}, timeout = 180_000): RunResult => {
    const r = spawnSync(DOCKER, ['compose', ...args], { cwd: dir, env: { ...d.env, ...env }, encoding: 'utf8', timeout });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = (r: RunResult, what: string): string => {
    assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const ids = (names: string[]): string => d.dockerOk(['inspect', '-f', '{{.Id}}', ...names]);
  /** Everything the daemon holds for a project, by Compose's labels. */
  const leftovers = (project: string): string => [
    d.dockerOk(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]),
    d.dockerOk(['network', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`]),
    d.dockerOk(['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`]),
  ].join('').trim();

  await t.test('the seed app: build, port, volume, by name, ps, logs, no-change up, a change, scale, down -v', () => {
    const port = freePort();
    const app = appDir({ 'web/Dockerfile': SEED_DOCKERFILE, 'compose.yaml': seedCompose(), '.env': `WEB_PORT=${port}\n` });
    const P = 'seed';
    ok(dc(app, ['-p', P, 'up', '-d', '--wait']), 'up -d --wait');
    assert.equal(httpGet(port).trim(), 'compose-ok');

    const labels = JSON.parse(d.dockerOk(['inspect', '-f', '{{json .Config.Labels}}', `${P}-web-1`])) as Record<string, string>;
    assert.equal(labels['com.docker.compose.project'], P);
    assert.equal(labels['com.docker.compose.service'], 'web');
    assert.equal(labels['com.docker.compose.container-number'], '1');
    assert.equal(labels['com.docker.compose.oneoff'], 'False');
    assert.equal(labels['com.docker.compose.project.working_dir'], app);
    assert.equal(labels['com.docker.compose.project.config_files'], path.join(app, 'compose.yaml'));
    assert.match(labels['com.docker.compose.config-hash'] ?? '', /^[0-9a-f]{64}$/);
    assert.match(labels['com.docker.compose.depends_on'] ?? '', /^cache:service_healthy:/);
    assert.equal(d.dockerOk(['image', 'inspect', '-f', '{{.Id}}', `${P}-web`]).trim().length > 0, true);
    assert.equal(d.dockerOk(['network', 'inspect', '-f', '{{index .Labels "com.docker.compose.network"}}', `${P}_default`]).trim(), 'default');
    assert.equal(d.dockerOk(['volume', 'inspect', '-f', '{{index .Labels "com.docker.compose.volume"}}', `${P}_data`]).trim(), 'data');

    const ps = ok(dc(app, ['-p', P, 'ps']), 'ps');
    assert.match(ps, /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS$/m);
    assert.match(ps, new RegExp(`^${P}-web-1\\s.*127\\.0\\.0\\.1:${port}->8080/tcp`, 'm'));
    assert.match(ps, new RegExp(`^${P}-cache-1\\s.*\\(healthy\\)`, 'm'));
    const rows = ok(dc(app, ['-p', P, 'ps', '--format', 'json']), 'ps json').trim().split('\n').map((l) => JSON.parse(l) as { Service: string; State: string });
    assert.deepEqual(rows.map((r) => `${r.Service}:${r.State}`).sort(), ['cache:running', 'web:running']);
    assert.equal(ok(dc(app, ['-p', P, 'exec', '-T', 'web', 'wget', '-qO-', 'http://cache:6379/ping']), 'exec by name').trim(), 'pong');
    ok(dc(app, ['-p', P, 'exec', '-T', 'web', 'sh', '-c', 'echo line-from-web']), 'exec echo');
    const logs = ok(dc(app, ['-p', P, 'logs', '--no-color', 'cache']), 'logs');
    assert.equal(logs.split('\n').filter(Boolean).every((l) => l.startsWith('cache-1  | ')), true, logs);

    // Nothing changed: nothing recreated.
    const before = ids([`${P}-web-1`, `${P}-cache-1`]);
    const again = dc(app, ['-p', P, 'up', '-d', '--wait']);
    ok(again, 'second up');
    assert.equal(ids([`${P}-web-1`, `${P}-cache-1`]), before);
    assert.doesNotMatch(again.stderr, /Recreate/);

    // One field changed (through the shell, which wins over .env): only web is recreated, and it says why.
    const changed = dc(app, ['-p', P, 'up', '-d'], { GREETING: 'bonjour' });
    ok(changed, 'up after a change');
    assert.match(changed.stderr, /Container seed-web-1\s+Recreated?.*environment/);
    const [webAfter, cacheAfter] = ids([`${P}-web-1`, `${P}-cache-1`]).trim().split('\n');
    const [webBefore, cacheBefore] = before.trim().split('\n');
    assert.notEqual(webAfter, webBefore);
    assert.equal(cacheAfter, cacheBefore);
    assert.match(d.dockerOk(['inspect', '-f', '{{json .Config.Env}}', `${P}-web-1`]), /GREETING=bonjour/);

    // Scale up and down.
    ok(dc(app, ['-p', P, 'up', '-d', '--scale', 'cache=3'], { GREETING: 'bonjour' }), 'scale up');
    assert.equal(ok(dc(app, ['-p', P, 'ps', '-q', 'cache']), 'ps cache').trim().split('\n').length, 3);
    ok(dc(app, ['-p', P, 'up', '-d', '--scale', 'cache=1'], { GREETING: 'bonjour' }), 'scale down');
    assert.equal(ok(dc(app, ['-p', P, 'ps', '--services']), 'services'), 'cache\nweb\n');
    assert.equal(ok(dc(app, ['-p', P, 'ps', '-q', 'cache']), 'ps cache').trim().split('\n').length, 1);
    assert.equal(d.docker(['inspect', `${P}-cache-3`]).code, 1);

    ok(dc(app, ['-p', P, 'down', '-v']), 'down -v');
    assert.equal(leftovers(P), '');
    assert.equal(d.docker(['network', 'inspect', `${P}_default`]).code, 1);
    assert.equal(d.docker(['volume', 'inspect', `${P}_data`]).code, 1);
  });

  await t.test('depends_on: service_completed_successfully orders, a failing service_healthy names the probe', () => {
    const app = appDir({
      'compose.yaml': `services:
  migrate:
    image: busybox
    command: ["sh", "-c", "sleep 1; echo migrated"]
  app:
    image: busybox
    command: ["sleep", "300"]
    depends_on:
      migrate: {condition: service_completed_successfully}
`,
      'broken.yaml': `services:
  db:
    image: busybox
    command: ["sleep", "300"]
    healthcheck: {test: ["CMD-SHELL", "echo probe-says-no; exit 1"], interval: 1s, retries: 2}
  api:
    image: busybox
    command: ["sleep", "300"]
    depends_on:
      db: {condition: service_healthy}
`,
    });
    ok(dc(app, ['-p', 'order', 'up', '-d', '--wait']), 'up with a one-shot dependency');
    const finished = Date.parse(d.dockerOk(['inspect', '-f', '{{.State.FinishedAt}}', 'order-migrate-1']).trim());
    const started = Date.parse(d.dockerOk(['inspect', '-f', '{{.State.StartedAt}}', 'order-app-1']).trim());
    assert.ok(started >= finished, `app started ${started} before migrate finished ${finished}`);
    assert.equal(d.dockerOk(['inspect', '-f', '{{.State.ExitCode}}', 'order-migrate-1']).trim(), '0');
    ok(dc(app, ['-p', 'order', 'down']), 'down');

    const r = dc(app, ['-p', 'broken', '-f', 'broken.yaml', 'up', '-d']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /db/);
    assert.match(r.stderr, /unhealthy/);
    assert.match(r.stderr, /probe-says-no/);
    assert.equal(d.dockerOk(['inspect', '-f', '{{.State.Status}}', 'broken-api-1']).trim(), 'created');
    ok(dc(app, ['-p', 'broken', '-f', 'broken.yaml', 'down']), 'down broken');
    assert.equal(leftovers('broken'), '');
  });

  await t.test('profiles, several -f files, compose.override.yaml, .env and the shell', () => {
    const app = appDir({
      'compose.yaml': `services:
  main:
    image: busybox
    command: ["sleep", "300"]
    environment: {FROM_BASE: base, COLOUR: "\${COLOUR}"}
    ports: ["127.0.0.1::80"]
  debug:
    image: busybox
    command: ["sleep", "300"]
    profiles: [debug]
`,
      'compose.override.yaml': 'services:\n  main:\n    labels: {from.override: "yes"}\n',
      'extra.yaml': `services:
  main:
    command: ["sleep", "301"]
    environment: {FROM_EXTRA: extra}
    ports: ["127.0.0.1::81"]
`,
      '.env': 'COLOUR=blue\nCOMPOSE_PROJECT_NAME=prof\n',
    });
    // compose.override.yaml is read with compose.yaml when no -f is given; the project name comes from .env.
    const def = JSON.parse(ok(dc(app, ['config', '--format', 'json']), 'config')) as { name: string; services: Record<string, { labels?: Record<string, string>; environment: Record<string, string> }> };
    assert.equal(def.name, 'prof');
    assert.deepEqual(Object.keys(def.services), ['main']);
    assert.equal(def.services.main!.labels?.['from.override'], 'yes');
    assert.equal(def.services.main!.environment.COLOUR, 'blue');
    assert.equal((JSON.parse(ok(dc(app, ['config', '--format', 'json'], { COLOUR: 'red' }), 'config')) as typeof def).services.main!.environment.COLOUR, 'red');

    // Two -f files: command replaced, environment merged by key, ports appended.
    const merged = JSON.parse(ok(dc(app, ['-f', 'compose.yaml', '-f', 'extra.yaml', 'config', '--format', 'json']), 'config -f -f')) as { services: Record<string, { command: string[]; environment: Record<string, string>; ports: { target: number }[]; labels?: Record<string, string> }> };
    assert.deepEqual(merged.services.main!.command, ['sleep', '301']);
    assert.deepEqual(merged.services.main!.environment, { FROM_BASE: 'base', COLOUR: 'blue', FROM_EXTRA: 'extra' });
    assert.deepEqual(merged.services.main!.ports.map((p) => p.target).sort(), [80, 81]);
    assert.equal(merged.services.main!.labels?.['from.override'], undefined);

    ok(dc(app, ['up', '-d']), 'up without the profile');
    assert.equal(ok(dc(app, ['ps', '--services']), 'ps'), 'main\n');
    ok(dc(app, ['--profile', 'debug', 'up', '-d']), 'up --profile debug');
    assert.equal(ok(dc(app, ['ps', '--services']), 'ps'), 'debug\nmain\n');
    ok(dc(app, ['up', '-d'], { COMPOSE_PROFILES: 'debug' }), 'up with COMPOSE_PROFILES');
    ok(dc(app, ['--profile', 'debug', 'down']), 'down');
    assert.equal(leftovers('prof'), '');
  });

  await t.test('run --rm, exit codes, one-offs are not orphans, orphans warned and removed', () => {
    const app = appDir({
      'compose.yaml': 'services:\n  tool:\n    image: busybox\n    command: ["sleep", "300"]\n  gone:\n    image: busybox\n    command: ["sleep", "300"]\n',
      'smaller.yaml': 'services:\n  tool:\n    image: busybox\n    command: ["sleep", "300"]\n',
    });
    const P = 'oneoff';
    ok(dc(app, ['-p', P, 'up', '-d']), 'up');
    assert.equal(ok(dc(app, ['-p', P, 'run', '--rm', '-T', 'tool', 'echo', 'from-run']), 'run --rm').trim(), 'from-run');
    assert.equal(dc(app, ['-p', P, 'run', '--rm', '-T', 'tool', 'sh', '-c', 'exit 3']).code, 3);
    assert.equal(d.dockerOk(['ps', '-aq', '--filter', `label=com.docker.compose.project=${P}`, '--filter', 'label=com.docker.compose.oneoff=True']), '');
    ok(dc(app, ['-p', P, 'run', '-d', '--name', 'kept-oneoff', 'tool', 'sleep', '300']), 'run -d');

    const warned = dc(app, ['-p', P, '-f', 'smaller.yaml', 'up', '-d']);
    ok(warned, 'up without gone');
    assert.match(warned.stderr, /Found orphan containers \(\[oneoff-gone-1\]\)/);
    assert.doesNotMatch(warned.stderr, /kept-oneoff/);
    ok(dc(app, ['-p', P, '-f', 'smaller.yaml', 'up', '-d', '--remove-orphans']), 'up --remove-orphans');
    assert.equal(d.docker(['inspect', `${P}-gone-1`]).code, 1);
    assert.equal(d.docker(['inspect', 'kept-oneoff']).code, 0);
    ok(dc(app, ['-p', P, 'down', '--remove-orphans']), 'down');
    assert.equal(leftovers(P), '');
  });

  await t.test('bad compose files: a clear error naming file, place and problem; nothing created', () => {
    const cases: { name: string; yaml: string; message: RegExp; env?: NodeJS.ProcessEnv }[] = [
      { name: 'yaml-error', yaml: 'services:\n  web:\n    image: busybox\n   command: [oops\n', message: /bad\.yaml.*(line )?[34]/ },
      { name: 'unknown-key', yaml: 'services:\n  web:\n    image: busybox\n    bogus_key: 1\n', message: /bad\.yaml.*services\.web.*bogus_key/ },
      { name: 'wrong-type', yaml: 'services:\n  web:\n    image: busybox\n    privileged: [yes]\n', message: /bad\.yaml.*services\.web\.privileged/ },
      { name: 'required-var', yaml: 'services:\n  web:\n    image: "busybox:${TAG:?need TAG}"\n', message: /need TAG/ },
      { name: 'cycle', yaml: 'services:\n  a:\n    image: busybox\n    depends_on: [b]\n  b:\n    image: busybox\n    depends_on: [a]\n', message: /cycle|circular/i },
      { name: 'unknown-network', yaml: 'services:\n  web:\n    image: busybox\n    networks: [nowhere]\n', message: /nowhere/ },
      { name: 'bad-port', yaml: 'services:\n  web:\n    image: busybox\n    ports: ["80:abc"]\n', message: /services\.web\.ports\[0\]|80:abc/ },
    ];
    for (const c of cases) {
      const app = appDir({ 'bad.yaml': c.yaml });
      const r = dc(app, ['-p', `bad${c.name.replace(/-/g, '')}`, '-f', 'bad.yaml', 'up', '-d'], c.env);
      assert.notEqual(r.code, 0, `${c.name}: up succeeded`);
      assert.match(r.stderr, c.message, `${c.name}: ${r.stderr}`);
      assert.equal(leftovers(`bad${c.name.replace(/-/g, '')}`), '', c.name);
    }
  });
});
