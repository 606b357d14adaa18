// Every other `docker compose` verb through the real docker CLI v28 and this checkout's plugin, each with its
// effect checked: config (Berth's renderer, the containers' hash, --variables with sources), run and its flags,
// exec, ps, ls, port, wait, version, events, images, top, cp, the lifecycle verbs, scale, build, push and pull
// (against a loopback Berth registry).
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestRegistry } from '../helpers/registry';
import { BackgroundCompose, composeDaemon, composeDir, containerState, dc, ok } from '../helpers/compose';
import { tempDir } from '../helpers/tmp';

const SLEEPER = '["sleep", "300"]';

test('compose verbs through the plugin', { timeout: 900_000 }, async (t) => {
  const d = await composeDaemon(t, 'compose-verbs');
  const inspect = (name: string, format: string) => d.dockerOk(['inspect', '-f', format, name]).trim();
  const state = (name: string) => containerState(d, name);

  await t.test('config: the canonical form, -q, --no-interpolate, -o, --variables with sources, --hash as on the container', () => {
    const app = composeDir({
      'compose.yaml': 'services:\n  web:\n    image: "busybox:${TAG:-latest}"\n    environment:\n      FROM_ENV: ${FROM_ENV}\n      FROM_FILE: ${FROM_FILE}\n    command: ${CMD:-sleep 300}\n',
      '.env': 'FROM_ENV=dotenv\n',
      'other.env': 'FROM_FILE=envfile\nFROM_ENV=dotenv\n',
    });
    const yaml = ok(dc(d, app, ['-p', 'cfg', 'config'], { FROM_FILE: 'shell' }), 'config');
    assert.match(yaml, /^name: cfg\nservices:\n {2}web:\n/);
    assert.match(yaml, /image: busybox:latest/);
    assert.match(yaml, /FROM_ENV: dotenv/);
    assert.equal(ok(dc(d, app, ['-p', 'cfg', 'config', '-q']), 'config -q'), '');
    assert.match(ok(dc(d, app, ['-p', 'cfg', 'config', '--no-interpolate']), 'no-interpolate'), /image: busybox:\$\{TAG:-latest\}/);
    const out = path.join(tempDir('compose-cfg-'), 'out.json');
    assert.equal(ok(dc(d, app, ['-p', 'cfg', 'config', '--format', 'json', '-o', out]), 'config -o'), '');
    assert.equal((JSON.parse(fs.readFileSync(out, 'utf8')) as { name: string }).name, 'cfg');
    assert.equal(ok(dc(d, app, ['-p', 'cfg', 'config', '--services']), 'services'), 'web\n');

    // Each variable's value and where it came from: the shell, .env, --env-file, the file's default.
    const table = ok(dc(d, app, ['-p', 'cfg', 'config', '--variables'], { FROM_FILE: 'shell' }), 'variables');
    assert.match(table, /^NAME\s+REQUIRED\s+VALUE\s+SOURCE\s+DEFAULT VALUE$/m);
    assert.match(table, /^FROM_ENV\s+false\s+dotenv\s+\.env\s*$/m);
    assert.match(table, /^FROM_FILE\s+false\s+shell\s+shell\s*$/m);
    assert.match(table, /^TAG\s+false\s+latest\s+default\s+latest$/m);
    const json = JSON.parse(ok(dc(d, app, ['-p', 'cfg', '--env-file', 'other.env', 'config', '--variables', '--format', 'json']), 'variables json')) as Record<string, { Value: string; Source: string }>;
    assert.deepEqual([json.FROM_FILE?.Value, json.FROM_FILE?.Source], ['envfile', '--env-file']);

    // --hash prints what up puts in com.docker.compose.config-hash.
    ok(dc(d, app, ['-p', 'cfg', 'up', '-d']), 'up');
    const hash = ok(dc(d, app, ['-p', 'cfg', 'config', '--hash', 'web']), 'hash');
    assert.equal(hash, `web ${inspect('cfg-web-1', '{{index .Config.Labels "com.docker.compose.config-hash"}}')}\n`);
    ok(dc(d, app, ['-p', 'cfg', 'down', '-t', '0']), 'down');
  });

  await t.test('run: deps first, --no-deps, -e -u -w --entrypoint -l --name -v -p --service-ports, exit code, --rm leaves nothing', () => {
    const host = tempDir('compose-run-');
    fs.writeFileSync(path.join(host, 'note'), 'from the host\n');
    fs.chmodSync(host, 0o755); // read by -u 1000 inside
    const app = composeDir({
      'compose.yaml': `services:
  db:
    image: busybox
    command: ${SLEEPER}
  tool:
    image: busybox
    command: ${SLEEPER}
    ports: ["127.0.0.1::8080"]
    depends_on: [db]
`,
    });
    const P = 'runs';
    ok(dc(d, app, ['-p', P, 'run', '--rm', '-T', '--no-deps', 'tool', 'true']), 'run --no-deps');
    assert.equal(d.docker(['inspect', `${P}-db-1`]).code, 1, '--no-deps started db');
    const out = ok(dc(d, app, ['-p', P, 'run', '--rm', '-T', '-e', 'X=ex', '-u', '1000', '-w', '/tmp', '-v', `${host}:/h:ro`,
      '--entrypoint', 'sh -c', 'tool', 'echo $X $(id -u) $(pwd); cat /h/note']), 'run with flags');
    assert.equal(out, 'ex 1000 /tmp\nfrom the host\n');
    assert.equal(state(`${P}-db-1`), 'running', 'the dependency is started first');
    assert.equal(dc(d, app, ['-p', P, 'run', '--rm', '-T', 'tool', 'sh', '-c', 'exit 4']).code, 4);
    assert.equal(d.dockerOk(['ps', '-aq', '--filter', `label=com.docker.compose.project=${P}`, '--filter', 'label=com.docker.compose.oneoff=True']), '');

    ok(dc(d, app, ['-p', P, 'run', '-d', '--name', 'named-run', '-l', 'team=blue', 'tool']), 'run -d --name -l');
    assert.equal(inspect('named-run', '{{index .Config.Labels "team"}} {{index .Config.Labels "com.docker.compose.oneoff"}}'), 'blue True');
    assert.match(inspect('named-run', '{{json .HostConfig.PortBindings}}'), /^(null|\{\})$/, 'service ports only with --service-ports');
    ok(dc(d, app, ['-p', P, 'run', '-d', '--name', 'ported-run', '--service-ports', '-p', '127.0.0.1::9090', 'tool']), 'run --service-ports -p');
    const bindings = JSON.parse(inspect('ported-run', '{{json .HostConfig.PortBindings}}')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(bindings).sort(), ['8080/tcp', '9090/tcp']);
    // One-offs only with ps -a.
    assert.doesNotMatch(ok(dc(d, app, ['-p', P, 'ps']), 'ps'), /named-run/);
    assert.match(ok(dc(d, app, ['-p', P, 'ps', '-a']), 'ps -a'), /named-run/);
    ok(dc(d, app, ['-p', P, 'down', '-t', '0', '--remove-orphans']), 'down');
    assert.equal(d.docker(['inspect', 'named-run']).code, 1);
  });

  await t.test('exec, ps, ls, port, top, images, cp, version, wait', () => {
    const app = composeDir({
      'compose.yaml': `services:
  web:
    image: busybox
    command: ${SLEEPER}
    ports: ["127.0.0.1::8080", "127.0.0.1::53/udp"]
  job:
    image: busybox
    command: ["sh", "-c", "sleep 6; exit 3"]
`,
    });
    const P = 'verbs';
    ok(dc(d, app, ['-p', P, 'up', '-d', '--scale', 'web=2']), 'up');
    const id2 = inspect(`${P}-web-2`, '{{.Id}}');
    assert.equal(ok(dc(d, app, ['-p', P, 'exec', '-T', '--index', '2', '-e', 'A=aa', '-u', '1000', '-w', '/tmp', 'web', 'sh', '-c', 'echo $A $(id -u) $(pwd) $(hostname)']), 'exec'),
      `aa 1000 /tmp ${id2.slice(0, 12)}\n`);
    ok(dc(d, app, ['-p', P, 'exec', '-d', 'web', 'sh', '-c', 'echo detached > /tmp/d']), 'exec -d');
    let seen = '';
    for (let i = 0; i < 20 && seen !== 'detached\n'; i++) seen = dc(d, app, ['-p', P, 'exec', '-T', 'web', 'cat', '/tmp/d']).stdout;
    assert.equal(seen, 'detached\n');

    // wait (on running containers, as Compose): the job's exit code, printed and returned.
    const w = dc(d, app, ['-p', P, 'wait', 'job']);
    assert.equal(w.code, 3, w.stderr);
    assert.match(w.stdout, /^container "[0-9a-f]{64}" exited with status code 3$/m);

    assert.equal(ok(dc(d, app, ['-p', P, 'ps', '--status', 'exited', '--format', '{{.Name}}']), 'ps --status'), `${P}-job-1\n`);
    assert.equal(ok(dc(d, app, ['-p', P, 'ps', '--filter', 'status=running', '--format', '{{.Name}}']), 'ps --filter'), `${P}-web-1\n${P}-web-2\n`);
    assert.equal(ok(dc(d, app, ['-p', P, 'ps', '--format', '{{.Name}}']), 'ps'), `${P}-web-1\n${P}-web-2\n`);
    assert.equal(ok(dc(d, app, ['-p', P, 'ps', '-a', '--format', '{{.Name}}']), 'ps -a'), `${P}-job-1\n${P}-web-1\n${P}-web-2\n`);
    assert.match(ok(dc(d, app, ['-p', P, 'ps', '--no-trunc', '--format', '{{.ID}} {{.Command}}', 'web']), 'ps --no-trunc'), /^[0-9a-f]{64} "sleep 300"$/m);
    assert.equal(dc(d, app, ['-p', P, 'ps', '--status', 'bogus']).code, 1);

    // Running containers only, unless -a.
    assert.match(ok(dc(d, app, ['ls']), 'ls'), new RegExp(`^${P}\\s+running\\(2\\)\\s+${app}/compose\\.yaml$`, 'm'));
    assert.match(ok(dc(d, app, ['ls', '-a']), 'ls -a'), new RegExp(`^${P}\\s+exited\\(1\\), running\\(2\\)\\s+${app}/compose\\.yaml$`, 'm'));
    assert.equal(ok(dc(d, app, ['ls', '-q', '--filter', `name=${P}`]), 'ls -q --filter'), `${P}\n`);
    const ls = JSON.parse(ok(dc(d, app, ['ls', '-a', '--format', 'json']), 'ls json')) as { Name: string; Status: string }[];
    assert.equal(ls.find((x) => x.Name === P)?.Status, 'exited(1), running(2)');

    const p1 = ok(dc(d, app, ['-p', P, 'port', 'web', '8080']), 'port');
    const p2 = ok(dc(d, app, ['-p', P, 'port', '--index', '2', 'web', '8080']), 'port --index');
    assert.equal(p2, `127.0.0.1:${inspect(`${P}-web-2`, '{{(index (index .NetworkSettings.Ports "8080/tcp") 0).HostPort}}')}\n`);
    assert.notEqual(p1, p2);
    assert.match(ok(dc(d, app, ['-p', P, 'port', '--protocol', 'udp', 'web', '53']), 'port --protocol'), /^127\.0\.0\.1:\d+\n$/);

    assert.match(ok(dc(d, app, ['-p', P, 'top', 'web']), 'top'), new RegExp(`^${P}-web-1\\n.*PID.*\\n.*sleep 300.*\\n\\n${P}-web-2\\n`, 's'));
    const images = ok(dc(d, app, ['-p', P, 'images']), 'images').trimEnd().split('\n');
    assert.match(images[0]!, /^CONTAINER\s+REPOSITORY\s+TAG\s+PLATFORM\s+IMAGE ID\s+SIZE\s+CREATED$/);
    assert.match(images[1]!, new RegExp(`^${P}-job-1\\s+busybox\\s+latest\\s+linux/\\w+\\s+[0-9a-f]{12}\\s+\\S+\\s+\\S`));
    assert.equal(images.length, 4);
    const imageJson = JSON.parse(ok(dc(d, app, ['-p', P, 'images', '--format', 'json']), 'images json')) as { ContainerName: string; Repository: string; Tag: string; ID: string }[];
    assert.deepEqual(imageJson.map((i) => `${i.Repository}:${i.Tag}`), ['busybox:latest', 'busybox:latest', 'busybox:latest']);
    assert.equal(ok(dc(d, app, ['-p', P, 'images', '-q']), 'images -q'), `${imageJson[0]!.ID.replace(/^sha256:/, '')}\n`);

    const dir = tempDir('compose-cp-');
    fs.writeFileSync(path.join(dir, 'in.txt'), 'into the container\n');
    ok(dc(d, app, ['-p', P, 'cp', path.join(dir, 'in.txt'), 'web:/tmp/in.txt']), 'cp to');
    ok(dc(d, app, ['-p', P, 'cp', '--index', '1', 'web:/tmp/in.txt', path.join(dir, 'back.txt')]), 'cp from');
    assert.equal(fs.readFileSync(path.join(dir, 'back.txt'), 'utf8'), 'into the container\n');

    assert.deepEqual(Object.keys(JSON.parse(ok(dc(d, app, ['version', '--format', 'json']), 'version json')) as object), ['version']);
    ok(dc(d, app, ['-p', P, 'down', '-t', '0']), 'down');
  });

  await t.test('events --json and plain: Compose v2\'s fields', async () => {
    const app = composeDir({ 'compose.yaml': `services:\n  web:\n    image: busybox\n    command: ${SLEEPER}\n` });
    const P = 'ev';
    ok(dc(d, app, ['-p', P, 'create']), 'create');
    const json = new BackgroundCompose(d, app, ['-p', P, 'events', '--json']);
    const plain = new BackgroundCompose(d, app, ['-p', P, 'events']);
    await new Promise((r) => setTimeout(r, 1500));
    ok(dc(d, app, ['-p', P, 'start']), 'start');
    await json.waitFor(/"action":"start"/);
    await plain.waitFor(/ container start /);
    json.interruptGroup();
    plain.interruptGroup();
    assert.equal((await json.end()).code, 130);
    await plain.end();
    const start = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.action === 'start')!;
    assert.deepEqual(Object.keys(start), ['action', 'attributes', 'id', 'service', 'time', 'type']);
    assert.equal(start.type, 'container');
    assert.equal(start.service, 'web');
    assert.equal(start.id, inspect(`${P}-web-1`, '{{.Id}}'));
    assert.equal((start.attributes as Record<string, string>).name, `${P}-web-1`);
    assert.equal(Object.keys(start.attributes as object).some((k) => k.startsWith('com.docker.compose.')), false);
    assert.match(start.time as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    assert.match(plain.stdout, new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6} container start [0-9a-f]{64} \\(.*name=${P}-web-1.*\\)$`, 'm'));
    ok(dc(d, app, ['-p', P, 'down', '-t', '0']), 'down');
  });

  await t.test('create, start, stop, restart, pause, unpause, kill -s, rm -f -s -v, scale', () => {
    const app = composeDir({
      'compose.yaml': `services:\n  web:\n    image: busybox\n    command: ${SLEEPER}\n    volumes: ["/anon"]\n`,
    });
    const P = 'life';
    const dcOk = (args: string[]) => ok(dc(d, app, ['-p', P, ...args]), args.join(' '));
    dcOk(['create']);
    assert.equal(state(`${P}-web-1`), 'created');
    dcOk(['start']);
    assert.equal(state(`${P}-web-1`), 'running');
    const started = inspect(`${P}-web-1`, '{{.State.StartedAt}}');
    dcOk(['restart', '-t', '0']);
    assert.notEqual(inspect(`${P}-web-1`, '{{.State.StartedAt}}'), started);
    dcOk(['pause']);
    assert.equal(state(`${P}-web-1`), 'paused');
    dcOk(['unpause']);
    assert.equal(state(`${P}-web-1`), 'running');
    dcOk(['stop', '-t', '0']);
    assert.equal(state(`${P}-web-1`), 'exited');
    dcOk(['start']);
    dcOk(['kill', '-s', 'SIGUSR1']);
    // sleep as PID 1 has no handler: an unhandled SIGUSR1 is ignored there; SIGKILL is not.
    assert.equal(state(`${P}-web-1`), 'running');
    dcOk(['kill']);
    assert.equal(inspect(`${P}-web-1`, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');
    dcOk(['scale', 'web=2']);
    assert.equal(state(`${P}-web-1`), 'running');
    assert.equal(state(`${P}-web-2`), 'running');
    const anon = inspect(`${P}-web-2`, '{{range .Mounts}}{{.Name}}{{end}}');
    assert.equal(d.docker(['volume', 'inspect', anon]).code, 0);
    dcOk(['rm', '-f', '-s', '-v']);
    assert.equal(d.dockerOk(['ps', '-aq', '--filter', `label=com.docker.compose.project=${P}`]), '');
    assert.equal(d.docker(['volume', 'inspect', anon]).code, 1, 'rm -v removes the anonymous volume');
    dcOk(['down']);
  });

  await t.test('build, push, pull and run --build / --pull always against a loopback registry', async () => {
    const registry = await new TestRegistry().start();
    t.after(() => registry.stop());
    const ref = `${registry.host}/compose/pushed:1`;
    const app = composeDir({
      'img/Dockerfile': 'FROM busybox\nARG MARK=one\nRUN echo $MARK > /marker\n',
      'compose.yaml': `services:
  pushed:
    image: ${ref}
    build: {context: ./img}
  puller:
    image: ${ref}
    command: ${SLEEPER}
`,
    });
    const P = 'img';
    const dcOk = (args: string[]) => ok(dc(d, app, ['-p', P, ...args]), args.join(' '));
    dcOk(['build', 'pushed']);
    assert.equal(d.dockerOk(['run', '--rm', ref, 'cat', '/marker']), 'one\n');
    dcOk(['push', 'pushed']);
    d.dockerOk(['rmi', ref]);
    dcOk(['pull', 'puller']);
    assert.equal(d.dockerOk(['run', '--rm', ref, 'cat', '/marker']), 'one\n');
    // run --build builds again first (a new build arg, so a new image).
    fs.writeFileSync(path.join(app, 'img/Dockerfile'), 'FROM busybox\nRUN echo two > /marker\n');
    assert.equal(dcOk(['run', '--rm', '-T', '--build', 'pushed', 'cat', '/marker']), 'two\n');
    // run --pull always replaces the local image with the registry's.
    assert.equal(dcOk(['run', '--rm', '-T', '--pull', 'always', 'puller', 'cat', '/marker']), 'one\n');
    dcOk(['down', '--rmi', 'all']);
  });
});
