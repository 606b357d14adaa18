// `docker compose` through the real docker CLI v28 and this worktree's plugin (a temporary DOCKER_CONFIG's
// cli-plugins/docker-compose, never the installed one), against a TestDaemon.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestDaemon, ROOT } from '../helpers/daemon';
import { composeDaemon } from '../helpers/compose';

/** A container made by hand with the labels Compose v2 sets, as if `up` had made it. */
function labelled(d: TestDaemon, project: string, service: string, n: number, extra: string[], cmd: string[]): string {
  return d.dockerOk(['run', '-d', '--name', `${project}-${service}-${n}`,
    '--label', `com.docker.compose.project=${project}`, '--label', `com.docker.compose.service=${service}`,
    '--label', `com.docker.compose.container-number=${n}`, '--label', 'com.docker.compose.oneoff=False',
    '--label', 'com.docker.compose.config-hash=0', '--label', `com.docker.compose.project.config_files=/srv/${project}/compose.yaml`,
    ...extra, 'busybox', ...cmd]).trim();
}

test('docker compose through the real docker CLI plugin path', { timeout: 300_000 }, async (t) => {
  const d = await composeDaemon(t, 'compose-cli');

  await t.test('version and the plugin listed with Vendor Berth', () => {
    assert.match(d.dockerOk(['compose', 'version']), /^Docker Compose version v\d+\.\d+\.\d+-berth\n$/);
    assert.match(d.dockerOk(['compose', 'version', '--short']), /^\d+\.\d+\.\d+-berth\n$/);
    const plugins = JSON.parse(d.dockerOk(['info', '--format', '{{json .ClientInfo.Plugins}}'])) as { Name: string; Vendor: string; Path: string }[];
    const compose = plugins.find((p) => p.Name === 'compose');
    assert.equal(compose?.Vendor, 'Berth');
    assert.equal(compose?.Path, path.join(d.env.DOCKER_CONFIG!, 'cli-plugins', 'docker-compose'));
  });

  await t.test('the metadata call loads only the entry and the version', () => {
    const probe = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'compose-probe-')), 'probe.js');
    fs.writeFileSync(probe, `process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(Object.keys(require.cache)) + '\\n'));\n`);
    const r = d.docker(['compose', 'version'], { env: { NODE_OPTIONS: `--require ${probe}` } });
    assert.equal(r.code, 0, r.stderr);
    // The installed wrapper answers from text; the entry itself (berth compose's, and the wrapper's source) must stay as light.
    const plugin = path.join(d.env.DOCKER_CONFIG!, 'cli-plugins', 'docker-compose');
    assert.equal(JSON.parse(spawnSync(plugin, ['docker-cli-plugin-metadata'], { encoding: 'utf8' }).stdout).Vendor, 'Berth');
    const entry = path.join(ROOT, 'dist/compose/plugin-main.js');
    const meta = spawnSync(process.execPath, ['--require', probe, entry, 'docker-cli-plugin-metadata'], { encoding: 'utf8' });
    assert.equal(JSON.parse(meta.stdout).Vendor, 'Berth');
    const loaded = (JSON.parse(/LOADED (.*)/.exec(meta.stderr)![1]!) as string[]).filter((f) => f !== probe);
    assert.deepEqual(loaded.map((f) => path.relative(ROOT, f)).sort(), ['dist/compose/model.js', 'dist/compose/plugin-main.js']);
    fs.rmSync(path.dirname(probe), { recursive: true, force: true });
  });

  await t.test('-H before compose is honoured over DOCKER_HOST', () => {
    const bogus = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
    assert.notEqual(d.docker(['compose', 'ls'], { env: bogus }).code, 0);
    const r = d.docker(['-H', `unix://${d.sock}`, 'compose', 'ls'], { env: bogus });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAME\s+STATUS\s+CONFIG FILES\n$/);
  });

  await t.test('read-only verbs on containers labelled as Compose labels them', () => {
    labelled(d, 'app', 'web', 1, ['-p', '127.0.0.1::8080'], ['sh', '-c', 'echo hello from web; mkdir -p /www; echo hi > /www/index.html; exec httpd -f -p 8080 -h /www']);
    labelled(d, 'app', 'cache', 1, [], ['sh', '-c', 'echo cache ready >&2; exec sleep 300']);
    const ps = d.dockerOk(['compose', '-p', 'app', 'ps']);
    const lines = ps.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS$/);
    assert.match(lines[1]!, /^app-cache-1\s+busybox\s+"sh -c 'echo cache r…"\s+cache\s+.*Up /);
    assert.match(lines[2]!, /^app-web-1\s+busybox\s+.*\s+web\s+.*127\.0\.0\.1:\d+->8080\/tcp$/);
    const json = d.dockerOk(['compose', '-p', 'app', 'ps', '--format', 'json']).trim().split('\n').map((l) => JSON.parse(l) as { Name: string; Service: string; State: string });
    assert.deepEqual(json.map((c) => [c.Name, c.Service, c.State]), [['app-cache-1', 'cache', 'running'], ['app-web-1', 'web', 'running']]);
    assert.equal(d.dockerOk(['compose', '-p', 'app', 'ps', '--services']), 'cache\nweb\n');
    // Project flags after the verb too (Compose's persistent flags).
    assert.equal(d.dockerOk(['compose', 'ps', '-q', '-p', 'app']).trim().split('\n').length, 2);

    const ls = d.dockerOk(['compose', 'ls']);
    assert.match(ls, /^app\s+running\(2\)\s+\/srv\/app\/compose\.yaml$/m);
    assert.equal(d.dockerOk(['compose', 'ls', '-q']), 'app\n');

    const logs = d.docker(['compose', '-p', 'app', 'logs', '--no-color']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /^web-1    \| hello from web$/m);
    assert.match(logs.stderr, /^cache-1  \| cache ready$/m);
    assert.equal(d.dockerOk(['compose', '-p', 'app', 'logs', '--no-log-prefix', 'web']), 'hello from web\n');

    assert.equal(d.dockerOk(['compose', '-p', 'app', 'exec', '-T', 'web', 'cat', '/www/index.html']), 'hi\n');
    assert.equal(d.docker(['compose', '-p', 'app', 'exec', '-T', 'web', 'sh', '-c', 'exit 3']).code, 3);
    const missing = d.docker(['compose', '-p', 'app', 'exec', '-T', 'nosuch', 'true']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /service "nosuch" is not running/);

    assert.match(d.dockerOk(['compose', '-p', 'app', 'port', 'web', '8080']), /^127\.0\.0\.1:\d+\n$/);
    assert.match(d.dockerOk(['compose', '-p', 'app', 'top', 'web']), /^app-web-1\n.*PID.*\n.*httpd/s);
    assert.match(d.dockerOk(['compose', '-p', 'app', 'images']), /^CONTAINER\s+REPOSITORY\s+TAG\s+PLATFORM\s+IMAGE ID\s+SIZE\s+CREATED\n(app-\w+-1\s+busybox\s+latest\s+linux\/\w+\s+[0-9a-f]{12}.*\n){2}$/);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-cp-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    d.dockerOk(['compose', '-p', 'app', 'cp', 'web:/www/index.html', path.join(dir, 'copy.html')]);
    assert.equal(fs.readFileSync(path.join(dir, 'copy.html'), 'utf8'), 'hi\n');

    // BERTH's own entry point is the same program.
    const berth = d.berth(['-H', `unix://${d.sock}`, 'compose', '-p', 'app', 'ps', '--services'], { env: { DOCKER_HOST: 'unix:///nonexistent.sock', BERTH_HOST: '' } });
    assert.equal(berth.stdout, 'cache\nweb\n', berth.stderr);
  });

  await t.test('usage errors exit 1 as Compose does', () => {
    const r = d.docker(['compose', 'bogus-verb']);
    assert.equal(r.code, 1);
    const f = d.docker(['compose', 'ps', '--bogus-flag']);
    assert.equal(f.code, 1);
    assert.match(f.stderr, /unknown flag: --bogus-flag/);
  });
  // The whole life (up -d --wait, ps, logs, a no-change up, down -v) is compose-app.test.ts's seed app.
});
