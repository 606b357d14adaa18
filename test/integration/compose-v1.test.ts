// Debian's docker-compose 1.29 (python, docker-py) drives berthd through a whole app life: a web service built from a
// Dockerfile with a published port, a healthchecked cache it waits for and reaches by name and by link, a named
// volume; up -d --build, ps, HTTP on the port, exec, a second up that recreates nothing, logs, scale (which
// recreates web_1: the path that read image inspect's ContainerConfig), run --rm, stop/start/restart, config, down -v.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { TestDaemon } from '../helpers/daemon';
import { tempDir } from '../helpers/tmp';
import { until } from '../helpers/wait';

const COMPOSE_V1 = '/usr/bin/docker-compose';
const skip = fs.existsSync(COMPOSE_V1) ? false : `needs Debian's docker-compose 1.29 at ${COMPOSE_V1} (make deps installs it)`;

const DOCKERFILE = 'FROM busybox\nRUN mkdir -p /www && echo compose-ok > /www/index.html\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n';
// init: true on both: httpd as PID 1 ignores SIGTERM, and each stop would wait out its 10 s.
const COMPOSE_FILE = `services:
  web:
    build: ./web
    init: true
    ports: ["127.0.0.1:\${WEB_PORT:-}:8080"]
    depends_on:
      cache: {condition: service_healthy}
    links: ["cache:redis"]
    volumes: [data:/data]
  cache:
    image: busybox
    init: true
    command: ["sh", "-c", "mkdir -p /w && echo pong > /w/ping && echo cache-ready && exec httpd -f -p 6379 -h /w"]
    healthcheck: {test: ["CMD", "wget", "-qO-", "http://127.0.0.1:6379/ping"], interval: 1s, retries: 20}
volumes:
  data:
    labels: {app.purpose: compose-v1-test}
`;

/** A TCP port nobody listens on now. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The body of GET http://127.0.0.1:<port>/, or undefined when nothing answers. */
function httpGet(port: number): string | undefined {
  const r = spawnSync('curl', ['-sf', '-m', '2', `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

test('docker-compose 1.29 runs an app through its whole life on berthd', { skip, timeout: 600_000 }, async (t) => {
  const d = new TestDaemon('compose-v1');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const app = tempDir('berth-compose-v1-');
  fs.mkdirSync(path.join(app, 'web'));
  fs.writeFileSync(path.join(app, 'web', 'Dockerfile'), DOCKERFILE);
  fs.writeFileSync(path.join(app, 'docker-compose.yml'), COMPOSE_FILE);
  const project = `v1t${process.pid}`;
  const port = await freePort();
  // COMPOSE_DOCKER_CLI_BUILD=0: the build goes through docker-py's POST /build, the API berthd must answer (the
  // docker CLI's build path is covered elsewhere).
  const env = { ...d.env, WEB_PORT: String(port), COMPOSE_DOCKER_CLI_BUILD: '0' };
  const compose = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(COMPOSE_V1, ['-p', project, ...args], { cwd: app, env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 180_000 });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const ok = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const r = compose(args, extraEnv);
    assert.equal(r.code, 0, `docker-compose ${args.join(' ')} exited ${r.code}:\n${r.out}`);
    assert.doesNotMatch(r.out, /Traceback|WARNING|ERROR/, `docker-compose ${args.join(' ')} complained:\n${r.out}`);
    return r.out;
  };
  const idsOf = (...names: string[]) => d.dockerOk(['inspect', '-f', '{{.Id}}', ...names]).trim().split('\n');
  t.after(() => { compose(['down', '-v', '-t', '1']); });

  const up = ok(['up', '-d', '--build']);
  assert.match(up, new RegExp(`Creating ${project}_cache_1 .*done`));
  assert.match(up, new RegExp(`Creating ${project}_web_1 .*done`));
  assert.match(up, /Successfully tagged/);

  const ps = ok(['ps']);
  assert.match(ps, new RegExp(`${project}_web_1 .* Up .*127\\.0\\.0\\.1:${port}->8080/tcp`));
  assert.match(ps, new RegExp(`${project}_cache_1 .* Up \\(healthy\\)`));
  assert.equal(await until(() => httpGet(port), `web answering on ${port}`, 40), 'compose-ok');

  // exec without a TTY: output, the cache by service name and by link alias, the exit code passed through.
  assert.equal(ok(['exec', '-T', 'web', 'wget', '-qO-', 'http://cache:6379/ping']).trim(), 'pong');
  assert.equal(ok(['exec', '-T', 'web', 'wget', '-qO-', 'http://redis:6379/ping']).trim(), 'pong');
  assert.equal(compose(['exec', '-T', 'web', 'sh', '-c', 'test -d /data && exit 3']).code, 3);

  // Nothing changed: nothing recreated.
  const before = idsOf(`${project}_web_1`, `${project}_cache_1`);
  const again = ok(['up', '-d']);
  assert.match(again, new RegExp(`${project}_web_1 is up-to-date`));
  assert.doesNotMatch(again, /Recreating|Creating/);
  assert.deepEqual(idsOf(`${project}_web_1`, `${project}_cache_1`), before);

  assert.match(ok(['logs', '--no-color', 'cache']), /cache_1 +\| cache-ready/);

  // Scale with no fixed host port: web_1's ports change, so it is recreated (reading the image's ContainerConfig).
  const scaled = ok(['up', '-d', '--scale', 'web=2'], { WEB_PORT: '' });
  assert.match(scaled, new RegExp(`Recreating ${project}_web_1 .*done`));
  assert.match(scaled, new RegExp(`Creating ${project}_web_2 .*done`));
  for (const index of ['1', '2']) {
    const published = ok(['port', `--index=${index}`, 'web', '8080'], { WEB_PORT: '' }).trim();
    const hostPort = Number(published.split(':').pop());
    assert.ok(hostPort > 0, `web_${index} publishes 8080: ${published}`);
    assert.equal(await until(() => httpGet(hostPort), `web_${index} answering on ${hostPort}`, 40), 'compose-ok');
  }

  // A one-off container: its output and exit code, and it is gone after.
  const run = compose(['run', '--rm', '-T', 'web', 'sh', '-c', 'wget -qO- http://cache:6379/ping; exit 4'], { WEB_PORT: '' });
  assert.equal(run.code, 4, run.out);
  assert.match(run.out, /pong/);
  assert.equal(d.dockerOk(['ps', '-aq', '--filter', `label=com.docker.compose.oneoff=True`]).trim(), '');

  ok(['stop', '-t', '2'], { WEB_PORT: '' });
  assert.doesNotMatch(ok(['ps'], { WEB_PORT: '' }), / Up /);
  ok(['start'], { WEB_PORT: '' });
  ok(['restart', '-t', '2'], { WEB_PORT: '' });
  const afterRestart = ok(['ps'], { WEB_PORT: '' });
  for (const name of ['web_1', 'web_2', 'cache_1']) assert.match(afterRestart, new RegExp(`${project}_${name} .* Up`));

  assert.match(ok(['config'], { WEB_PORT: '' }), /services:\n {2}cache:/);
  assert.equal(d.dockerOk(['volume', 'inspect', '-f', '{{index .Labels "app.purpose"}}', `${project}_data`]).trim(), 'compose-v1-test');

  const down = ok(['down', '-v', '-t', '2'], { WEB_PORT: '' });
  assert.match(down, new RegExp(`Removing network ${project}_default`));
  assert.match(down, new RegExp(`Removing volume ${project}_data`));
  assert.equal(d.dockerOk(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]).trim(), '');
  assert.notEqual(d.docker(['network', 'inspect', `${project}_default`]).code, 0, 'the network is gone');
  assert.notEqual(d.docker(['volume', 'inspect', `${project}_data`]).code, 0, 'the volume is gone');
});
