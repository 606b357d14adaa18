// ProjectOperations against a real berthd (no loader: the project is built by hand): up creates the network,
// volume and containers with Compose v2's names and labels and starts web only once db is healthy; a second up
// changes nothing; a changed field recreates only its service and says which field; scale 2 then 1; down -v
// leaves no container, network or volume.
import test from 'node:test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import { ApiClient } from '../../src/cli/api-client';
import { LABEL, type Project, type Service } from '../../src/compose/model';
import { ProjectOperations, type UpOptions } from '../../src/compose/project/operations';
import { TestDaemon } from '../helpers/daemon';
import { RecordingReporter } from '../fakes/compose-project';
import type { ContainerInspect } from '../helpers/api-types';

test('compose project operations against berthd', { timeout: 300_000 }, async (t) => {
  const d = new TestDaemon('cproj');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const name = `cp${process.pid}`;
  const db: Service = {
    name: 'db', image: 'busybox', stop_grace_period: '1s',
    command: ['sh', '-c', 'sleep 1; touch /tmp/ready; exec sleep 3600'],
    healthcheck: { test: ['CMD-SHELL', 'test -f /tmp/ready'], interval: '500ms', retries: 30 },
    networks: { back: null },
  };
  const web: Service = {
    name: 'web', image: 'busybox', stop_grace_period: '1s', command: ['sleep', '3600'], environment: { MODE: 'one' },
    depends_on: { db: { condition: 'service_healthy', required: true } },
    volumes: [{ type: 'volume', source: 'data', target: '/data' }],
    networks: { default: null, back: { aliases: ['webby'] } },
  };
  const project = (w: Service): Project => ({
    name, working_dir: '/tmp', config_files: ['/tmp/compose.yaml'], services: { db, web: w }, disabled_services: {},
    networks: { default: { name: `${name}_default` }, back: { name: `${name}_back` } },
    volumes: { data: { name: `${name}_data` } }, secrets: {}, configs: {},
  });
  const api = new ApiClient(`unix://${d.sock}`);
  const run = async (p: Project, over: Partial<UpOptions> = {}) => {
    const reporter = new RecordingReporter();
    const ops = new ProjectOperations(api, p, reporter);
    await ops.up({ services: [], noDeps: false, build: 'auto', pull: 'policy', recreate: 'diverged', start: true, scale: {}, removeOrphans: false, wait: true, waitTimeout: 60, ...over });
    return { reporter, ops };
  };
  const inspect = (n: string) => (JSON.parse(d.dockerOk(['inspect', n])) as ContainerInspect[])[0];
  const ids = () => d.dockerOk(['ps', '-a', '--filter', `label=${LABEL.project}=${name}`, '--format', '{{.Names}} {{.ID}}']).trim().split('\n').sort();

  await t.test('up: network, volume, containers with names and labels; web starts after db is healthy', async () => {
    const { reporter } = await run(project(web));
    const lines = reporter.lines();
    assert.ok(lines.indexOf(`Container ${name}-db-1 Healthy`) < lines.indexOf(`Container ${name}-web-1 Started`), lines.join('\n'));
    const w = inspect(`${name}-web-1`);
    assert.equal(w.State.Running, true);
    const labels = w.Config.Labels!;
    assert.equal(labels[LABEL.project], name);
    assert.equal(labels[LABEL.service], 'web');
    assert.equal(labels[LABEL.containerNumber], '1');
    assert.equal(labels[LABEL.oneoff], 'False');
    assert.equal(labels[LABEL.dependsOn], 'db:service_healthy:false');
    assert.equal(labels[LABEL.image], w.Image);
    assert.deepEqual(Object.keys(w.NetworkSettings.Networks).sort(), [`${name}_back`, `${name}_default`]);
    assert.ok(w.Mounts.some((m) => m.Name === `${name}_data` && m.Destination === '/data'));
    assert.equal(inspect(`${name}-db-1`).State.Health?.Status, 'healthy');
    const net = JSON.parse(d.dockerOk(['network', 'inspect', `${name}_back`]))[0];
    assert.equal(net.Labels[LABEL.network], 'back');
    const vol = JSON.parse(d.dockerOk(['volume', 'inspect', `${name}_data`]))[0];
    assert.equal(vol.Labels[LABEL.volume], 'data');
    // Reached by alias on the second network.
    assert.equal(d.docker(['exec', `${name}-db-1`, 'ping', '-c1', '-W2', 'webby']).code, 0);
  });

  await t.test('up again changes nothing', async () => {
    const before = ids();
    const { reporter } = await run(project(web));
    assert.deepEqual(ids(), before);
    assert.ok(!reporter.lines().some((l) => /Created|Recreated|Started/.test(l)), reporter.lines().join('\n'));
  });

  await t.test('a changed field recreates only its service, naming the field', async () => {
    const dbId = inspect(`${name}-db-1`).Id;
    const webId = inspect(`${name}-web-1`).Id;
    const { reporter } = await run(project({ ...web, environment: { MODE: 'two' } }));
    assert.ok(reporter.lines().includes(`Container ${name}-web-1 Recreated (environment changed)`), reporter.lines().join('\n'));
    assert.equal(inspect(`${name}-db-1`).Id, dbId);
    const w = inspect(`${name}-web-1`);
    assert.notEqual(w.Id, webId);
    assert.ok(w.Config.Env!.includes('MODE=two'));
    assert.equal(w.State.Running, true);
    assert.equal(ids().length, 2);
  });

  await t.test('scale 2 then 1', async () => {
    const changed = project({ ...web, environment: { MODE: 'two' } });
    const { ops } = await run(changed, { scale: { web: 2 } });
    assert.deepEqual((await ops.containers({ all: false })).map((c) => c.name), [`${name}-db-1`, `${name}-web-1`, `${name}-web-2`]);
    await ops.scale({ web: 1 }, true);
    assert.deepEqual((await ops.containers({ all: true })).map((c) => c.name), [`${name}-db-1`, `${name}-web-1`]);
  });

  const ctxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cproj-build-'));
  t.after(() => fs.rmSync(ctxDir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(ctxDir, 'Dockerfile'), 'FROM busybox\nRUN echo built > /built\nCMD ["sleep", "3600"]\n');
  const tool: Service = { name: 'tool', build: { context: ctxDir }, secrets: [{ source: 'token' }], stop_grace_period: '1s', ports: [{ mode: 'ingress', target: 80, protocol: 'tcp' }] };
  const withTool = (): Project => ({ ...project(web), services: { ...project(web).services, tool }, secrets: { token: { name: 'token', content: 's3cret' } } });

  await t.test('a service with build: is built as <project>-<service>; a one-off runs beside it', async () => {
    const { reporter, ops } = await run(withTool(), { services: ['tool'] });
    assert.ok(reporter.lines().includes('Service tool Built'), reporter.lines().join('\n'));
    assert.equal(d.dockerOk(['exec', `${name}-tool-1`, 'cat', '/built']).trim(), 'built');
    assert.equal(inspect(`${name}-tool-1`).Config.Image, `${name}-tool`);
    assert.equal(d.dockerOk(['exec', `${name}-tool-1`, 'cat', '/run/secrets/token']), 's3cret');
    const one = await ops.createOneOff({ service: 'tool', command: ['cat', '/built'], env: [], publish: [], servicePorts: false, noDeps: true, remove: false, tty: false, interactive: false, detach: true, labels: [], volumes: [] });
    assert.match(one.name, new RegExp(`^${name}-tool-run-[0-9a-f]{12}$`));
    const c = inspect(one.name);
    assert.equal(c.Config.Labels![LABEL.oneoff], 'True');
    assert.deepEqual(c.HostConfig.PortBindings ?? {}, {});
    d.dockerOk(['start', '-a', one.name]);
    assert.deepEqual((await ops.containers({ all: true })).map((x) => x.name), [`${name}-db-1`, `${name}-tool-1`, `${name}-web-1`]);
    assert.equal((await ops.containers({ all: true, oneoff: true })).at(-1)!.name, one.name);
  });

  await t.test('down -v --rmi local leaves nothing', async () => {
    const ops = new ProjectOperations(api, withTool(), new RecordingReporter());
    await ops.down({ removeOrphans: true, volumes: true, rmi: 'local' });
    assert.deepEqual(ids(), ['']);
    assert.notEqual(d.docker(['image', 'inspect', `${name}-tool`]).code, 0);
    assert.equal(d.docker(['image', 'inspect', 'busybox']).code, 0);
    assert.notEqual(d.docker(['network', 'inspect', `${name}_back`]).code, 0);
    assert.notEqual(d.docker(['network', 'inspect', `${name}_default`]).code, 0);
    assert.notEqual(d.docker(['volume', 'inspect', `${name}_data`]).code, 0);
  });
});
