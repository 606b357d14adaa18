// Dependency order with bounded parallelism, depends_on and --wait conditions, and up/down over the fake daemon.
import test from 'node:test';
import assert from 'node:assert/strict';
import { dependencyGraph, inDependencyOrder, selectServices } from '../../src/compose/project/dependency-order';
import { conditionVerdict } from '../../src/compose/project/waits';
import { ProjectOperations, type UpOptions } from '../../src/compose/project/operations';
import type { ApiClient } from '../../src/cli/api-client';
import type { ContainerDetails } from '../../src/compose/project/compose-api';
import type { Project } from '../../src/compose/model';
import { LABEL } from '../../src/compose/model';
import { FakeComposeApi } from '../fakes/compose-api';
import { projectOf, RecordingReporter } from '../fakes/compose-project';

const dep = (condition: 'service_started' | 'service_healthy' | 'service_completed_successfully', required = true) => ({ condition, required });

const chain = projectOf('app', {
  web: { image: 'busybox', depends_on: { api: dep('service_started') } },
  api: { image: 'busybox', depends_on: { db: dep('service_healthy'), cache: dep('service_started'), metrics: dep('service_started', false) } },
  db: { image: 'busybox' },
  cache: { image: 'busybox' },
  lone: { image: 'busybox' },
});

test('selection: named services plus their dependencies; a missing optional one is a warning, a missing required one an error; cycles named', () => {
  const warnings: string[] = [];
  assert.deepEqual(selectServices(chain, ['web'], false, (m) => warnings.push(m)), ['api', 'cache', 'db', 'web']);
  assert.match(warnings[0], /service "api" depends on undefined service "metrics" \(required: false\): skipped/);
  assert.deepEqual(selectServices(chain, ['web'], true, () => {}), ['web']);
  assert.throws(() => selectServices(chain, ['nope'], false, () => {}), /no such service: nope/);
  const broken = projectOf('p', { a: { image: 'x', depends_on: { b: dep('service_started') } } });
  assert.throws(() => selectServices(broken, [], false, () => {}), /service "a" depends on undefined service "b"/);
  const cyclic = projectOf('p', { a: { image: 'x', depends_on: { b: dep('service_started') } }, b: { image: 'x', depends_on: { a: dep('service_started') } } });
  assert.throws(() => dependencyGraph(cyclic, ['a', 'b']), /dependency cycle detected: a -> b -> a/);
});

test('dependency order: each after its dependencies (reverse: after its dependents), independent ones in parallel up to the bound', async () => {
  const graph = dependencyGraph(chain, Object.keys(chain.services));
  const ends: string[] = [];
  let active = 0; let max = 0;
  const step = async (s: string) => { active++; max = Math.max(max, active); await new Promise((r) => setTimeout(r, 10)); active--; ends.push(s); };
  await inDependencyOrder(graph, step, { parallelism: 8 });
  const at = (s: string) => ends.indexOf(s);
  assert.ok(at('db') < at('api') && at('cache') < at('api') && at('api') < at('web'), ends.join(','));
  assert.equal(max, 3); // db, cache, lone together
  ends.length = 0;
  await inDependencyOrder(graph, step, { reverse: true });
  assert.ok(at('web') < at('api') && at('api') < at('db') && at('api') < at('cache'), ends.join(','));
  max = 0;
  const wide = new Map(Array.from({ length: 20 }, (_, i) => [`s${i}`, [] as string[]]));
  await inDependencyOrder(wide, step, { parallelism: 4 });
  assert.equal(max, 4);
  // A failure stops its dependents, not the others; the error comes out.
  const ran: string[] = [];
  await assert.rejects(inDependencyOrder(graph, async (s) => { if (s === 'db') throw new Error('db broke'); ran.push(s); }), /db broke/);
  assert.deepEqual(ran.sort(), ['cache', 'lone']);
});

function details(status: string, exitCode = 0, health?: { Status: string; Output?: string }): ContainerDetails {
  return {
    Id: 'x', Name: '/app-db-1', Image: '', Config: { Labels: { [LABEL.service]: 'db' } },
    State: {
      Status: status as 'running', Running: status === 'running', Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 1, ExitCode: exitCode,
      Error: '', StartedAt: '', FinishedAt: '',
      Health: health ? { Status: health.Status, FailingStreak: 0, Log: health.Output ? [{ Start: '', End: '', ExitCode: 1, Output: health.Output }] : [] } : undefined,
    },
  };
}

test('conditions: started, healthy (unhealthy and exited say why with the last probe), completed successfully, and --wait', () => {
  assert.equal(conditionVerdict(details('created'), 'service_started'), undefined);
  assert.equal(conditionVerdict(details('exited'), 'service_started'), true);
  assert.equal(conditionVerdict(details('running', 0, { Status: 'starting' }), 'service_healthy'), undefined);
  assert.equal(conditionVerdict(details('running', 0, { Status: 'healthy' }), 'service_healthy'), true);
  assert.equal(conditionVerdict(details('running', 0, { Status: 'unhealthy', Output: 'connection refused\n' }), 'service_healthy'), 'container app-db-1 is unhealthy: last health check output: connection refused');
  assert.equal(conditionVerdict(details('exited', 3, { Status: 'starting' }), 'service_healthy'), 'container app-db-1 exited (3)');
  assert.equal(conditionVerdict(details('running'), 'service_healthy'), 'container app-db-1 has no healthcheck configured');
  assert.equal(conditionVerdict(details('running'), 'service_completed_successfully'), undefined);
  assert.equal(conditionVerdict(details('exited', 0), 'service_completed_successfully'), true);
  assert.equal(conditionVerdict(details('exited', 2), 'service_completed_successfully'), 'service "db" didn\'t complete successfully: exit 2');
  assert.equal(conditionVerdict(details('exited', 0), 'up'), true);
  assert.equal(conditionVerdict(details('exited', 1), 'up'), 'container app-db-1 exited (1)');
  assert.equal(conditionVerdict(details('running'), 'up'), true);
  assert.equal(conditionVerdict(details('running', 0, { Status: 'starting' }), 'up'), undefined);
});

const upOptions = (over: Partial<UpOptions> = {}): UpOptions => ({
  services: [], noDeps: false, build: 'auto', pull: 'policy', recreate: 'diverged', start: true, scale: {}, removeOrphans: false, wait: false, ...over,
});

function ops(project: Project, fake: FakeComposeApi, reporter = new RecordingReporter(), parallelism = 8) {
  return { o: new ProjectOperations(undefined as unknown as ApiClient, project, reporter, { composeApi: fake, env: {}, parallelism }), reporter };
}

test('up: networks, volumes, pulls, containers created then started after their dependencies are healthy; up again changes nothing', async () => {
  const p = projectOf('app', {
    web: { image: 'web:1', depends_on: { db: dep('service_healthy') }, networks: { default: null, back: null }, volumes: [{ type: 'volume', source: 'data', target: '/d' }] },
    db: { image: 'busybox', healthcheck: { test: ['CMD', 'true'] } },
  }, { networks: { back: { name: 'app_back' } }, volumes: { data: { name: 'app_data' } } });
  const fake = new FakeComposeApi();
  let dbHealthy = false;
  fake.onStart = (c) => {
    if (c.name === 'app-db-1') {
      c.state.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
      setTimeout(() => { c.state.Health = { Status: 'healthy', FailingStreak: 0, Log: [] }; dbHealthy = true; }, 50);
    }
  };
  const { o, reporter } = ops(p, fake);
  await o.up(upOptions());
  assert.ok(dbHealthy);
  const order = fake.calls.filter((c) => /^(start|network|volume|pull|connect)/.test(c));
  assert.deepEqual(order, ['network create app_default', 'network create app_back', 'volume create app_data', 'pull web:1', 'connect app_default app-web-1', 'start app-db-1', 'start app-web-1']);
  assert.deepEqual(reporter.lines().filter((l) => !l.startsWith('Image')), [
    'Network app_default Created', 'Network app_back Created', 'Volume "app_data" Created',
    'Container app-db-1 Created', 'Container app-web-1 Created', 'Container app-db-1 Started', 'Container app-db-1 Healthy', 'Container app-web-1 Started',
  ]);
  const web = fake.byName('app-web-1')!;
  assert.equal(web.body.Labels![LABEL.image], fake.images.get('web:1'));
  assert.deepEqual(Object.keys(web.networks).sort(), ['app_back', 'app_default']);
  fake.calls.length = 0;
  await o.up(upOptions());
  assert.deepEqual(fake.calls, []);
});

test('up: a change recreates only that service, saying which field; scale up and down; orphans warned then removed; down removes all', async () => {
  const base = { web: { image: 'busybox', environment: { A: '1' } }, db: { image: 'busybox' } };
  const fake = new FakeComposeApi();
  await ops(projectOf('app', base), fake).o.up(upOptions());
  const oldWeb = fake.byName('app-web-1')!.id;
  const oldDb = fake.byName('app-db-1')!.id;
  fake.calls.length = 0;
  const changed = projectOf('app', { ...base, web: { image: 'busybox', environment: { A: '2' } } });
  const { o, reporter } = ops(changed, fake);
  await o.up(upOptions());
  assert.deepEqual(fake.calls, [`create ${oldWeb.slice(0, 12)}_app-web-1`, 'stop app-web-1', 'remove app-web-1', `rename ${oldWeb.slice(0, 12)}_app-web-1 app-web-1`, 'start app-web-1']);
  assert.ok(reporter.lines().includes('Container app-web-1 Recreated (environment changed)'), reporter.lines().join('\n'));
  assert.equal(fake.byName('app-db-1')!.id, oldDb);

  await o.up(upOptions({ scale: { web: 3 } }));
  assert.deepEqual([...fake.containers.values()].map((c) => c.name).sort(), ['app-db-1', 'app-web-1', 'app-web-2', 'app-web-3']);
  fake.calls.length = 0;
  await o.scale({ web: 1 }, true);
  assert.deepEqual(fake.calls, ['stop app-web-3', 'remove app-web-3', 'stop app-web-2', 'remove app-web-2']);

  const without = ops(projectOf('app', { web: base.web }), fake);
  await without.o.up(upOptions());
  assert.match(without.reporter.warnings[0], /^Found orphan containers \(\[app-db-1\]\)/);
  await without.o.up(upOptions({ removeOrphans: true }));
  assert.equal(fake.byName('app-db-1'), undefined);

  const oneoff = await o.createOneOff({ service: 'web', env: ['X=1'], publish: ['9000:90'], servicePorts: false, noDeps: true, remove: true, tty: false, interactive: false, detach: true, labels: [], volumes: [] });
  assert.match(oneoff.name, /^app-web-run-[0-9a-f]{12}$/);
  const run = fake.byName(oneoff.name)!;
  assert.equal(run.body.Labels![LABEL.oneoff], 'True');
  assert.ok(run.body.Env!.includes('X=1'));
  assert.deepEqual(run.body.HostConfig!.PortBindings, { '90/tcp': [{ HostIp: '', HostPort: '9000' }] });
  assert.deepEqual((await o.containers({ all: true })).map((c) => c.name), ['app-web-1']);
  assert.deepEqual((await o.containers({ all: true, oneoff: true })).map((c) => c.name), ['app-web-1', oneoff.name]);

  await o.down({ removeOrphans: false, volumes: true });
  assert.equal(fake.containers.size, 0);
  assert.equal(fake.networks.size, 0);
});

test('up: a service_completed_successfully dependency that fails stops the dependent with the exit code; --wait names the failing service', async () => {
  const p = projectOf('app', { init: { image: 'busybox' }, web: { image: 'busybox', depends_on: { init: dep('service_completed_successfully') } } });
  const fake = new FakeComposeApi();
  fake.onStart = (c) => { if (c.name === 'app-init-1') setTimeout(() => { c.state = { ...c.state, Status: 'exited', Running: false, ExitCode: 4 }; }, 20); };
  await assert.rejects(ops(p, fake).o.up(upOptions()), /dependency failed to start: service "init" didn't complete successfully: exit 4/);
  assert.ok(!fake.calls.includes('start app-web-1'));

  const q = projectOf('q', { job: { image: 'busybox' }, bad: { image: 'busybox' }, srv: { image: 'busybox' } });
  const f2 = new FakeComposeApi();
  f2.onStart = (c) => {
    if (c.name === 'q-job-1') c.state = { ...c.state, Status: 'exited', Running: false, ExitCode: 0 };
    if (c.name === 'q-bad-1') c.state = { ...c.state, Status: 'exited', Running: false, ExitCode: 1 };
  };
  await assert.rejects(ops(q, f2).o.up(upOptions({ wait: true, waitTimeout: 5 })), (e: Error) => e.message === 'service "bad": container q-bad-1 exited (1)');
});

test('up starts independent services in parallel, bounded', async () => {
  const services = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`s${i}`, { image: 'busybox' }]));
  const fake = new FakeComposeApi();
  fake.startDelayMs = 20;
  await ops(projectOf('app', services), fake, new RecordingReporter(), 3).o.up(upOptions());
  assert.equal(fake.maxActive, 3);
});
